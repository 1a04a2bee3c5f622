import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PgCloudService } from '../../../cloud/pg/pg-cloud.js';
import type { PgStore } from '../../../cloud/pg/pg-store.js';
import { CloudStore, type IncomingRecord } from '../../../cloud/store.js';
import type { CloudTransport } from '../../../cloud/transport/transport.js';
import { chainOf, GENESIS_CHAIN } from '../../../src/offline/chain.js';
import { tempDir } from '../../helpers/daemon.js';
import { chainedSales, pgForFile } from '../../helpers/pg-fixture.js';

const pg = pgForFile();

/** Publishes nowhere: these tests call the cloud's handlers directly. */
function nullTransport(): CloudTransport & { sent: Array<{ topic: string; payload: string }> } {
  const sent: Array<{ topic: string; payload: string }> = [];
  return {
    mqtt5: false,
    sent,
    start: async () => {},
    stop: async () => {},
    publish: async (topic, payload) => {
      sent.push({ topic, payload });
    },
  };
}

function cloud(): Promise<PgCloudService> {
  return pg.cloud({ transport: nullTransport() });
}

function pgStore(): PgStore {
  return pg.store();
}

/** A chained run of records from `fromSeq`, after `prev`. */
function chained(ids: string[], fromSeq = 1, prev = GENESIS_CHAIN): IncomingRecord[] {
  return chainedSales(
    ids.map((id) => ({ id, body: { saleId: id, total: 100 } })),
    '2026-12-01T10:00:00.000Z',
    fromSeq,
    prev,
  );
}

let tenants = 0;
const newTenant = () => `t${++tenants}`;

describe('reference cloud on PostgreSQL: the guarantees of the SQLite store', () => {
  it('ingests as the SQLite store does: duplicates, gaps, a broken chain, SEQ_CONFLICT, the resend after a restore', async () => {
    const store = pgStore();
    await store.migrate();
    const lite = new CloudStore(join(tempDir('posd-parity-'), 'cloud.db'));
    const run = chained(['a', 'b', 'c', 'd', 'e']);
    const broken = { ...chained(['f'], 6, run[4]!.chain)[0]!, chain: 'f'.repeat(64) };
    const steps: Array<[string, IncomingRecord[]]> = [
      ['E1', run.slice(0, 2)],
      ['E1', run.slice(0, 3)], // a, b again: duplicates; c new
      ['E1', [run[4]!]], // a gap: nothing stored
      ['E1', run.slice(3, 5)],
      ['E1', [broken]], // stored as rejected
      ['E1', chained(['a', 'b', 'x'])], // a restored copy: SEQ_CONFLICT at 3
      ['E2', chained(['e', 'y'])], // resent under a new epoch: e counts once
      ['E2', chained(['e', 'y'])],
    ];
    const tenant = newTenant();
    for (const [epoch, records] of steps) {
      const want = lite.ingest(tenant, 'D', epoch, records);
      const [got] = await store.ingest([{ tenant, device: 'D', epoch, records }]);
      expect(got).toEqual(want);
    }
    const strip = (rs: Array<IncomingRecord & { epoch: string; status: string }>) =>
      rs.map((r) => [r.epoch, r.seq, r.id, r.status]);
    expect(strip(await store.records(tenant, 'D'))).toEqual(strip(lite.records(tenant, 'D')));
    expect((await store.facts(tenant, 'D')).map((r) => r.id)).toEqual(
      lite.facts(tenant, 'D').map((r) => r.id),
    );
    lite.close();
  });

  it('two instances storing the same batches at once store each record once, in one transaction per group', async () => {
    const [a, b] = [pgStore(), pgStore()];
    await Promise.all([a.migrate(), b.migrate()]);
    const tenant = newTenant();
    const devices = Array.from({ length: 40 }, (_, i) => `D${i}`);
    const runs = new Map(devices.map((d) => [d, chained(Array.from({ length: 30 }, (_, i) => `${d}-${i}`))]));
    // Each instance gets every device's records in batches of 10, in its own grouping.
    const groups = (size: number) => {
      const out: Array<Array<{ tenant: string; device: string; epoch: string; records: IncomingRecord[] }>> =
        [];
      for (let from = 0; from < 30; from += 10)
        for (let g = 0; g < devices.length; g += size)
          out.push(
            devices
              .slice(g, g + size)
              .map((d) => ({ tenant, device: d, epoch: 'E', records: runs.get(d)!.slice(from, from + 10) })),
          );
      return out;
    };
    await Promise.all([
      (async () => {
        for (const g of groups(7)) await a.ingest(g);
      })(),
      (async () => {
        for (const g of groups(13)) await b.ingest(g);
      })(),
    ]);
    const rows = await a.pool.query<{ device: string; n: number; distinct_ids: number; top: number }>(
      'SELECT device, count(*)::int AS n, count(DISTINCT id)::int AS distinct_ids, max(seq)::int AS top FROM records WHERE tenant = $1 GROUP BY device',
      [tenant],
    );
    expect(rows.rows).toHaveLength(40);
    for (const r of rows.rows) expect(r).toMatchObject({ n: 30, distinct_ids: 30, top: 30 });
    for (const d of devices)
      expect((await a.facts(tenant, d)).map((r) => r.seq)).toEqual(runs.get(d)!.map((r) => r.seq));
  });

  it('a device and its restored copy sending different records at one seq through two instances: one is stored, the other told SEQ_CONFLICT', async () => {
    const [a, b] = [pgStore(), pgStore()];
    await Promise.all([a.migrate(), b.migrate()]);
    const tenant = newTenant();
    for (let round = 0; round < 30; round++) {
      const device = `D${round}`;
      await a.ingest([{ tenant, device, epoch: 'E', records: chained([`s${round}`]) }]);
      const [[ra], [rb]] = await Promise.all([
        a.ingest([{ tenant, device, epoch: 'E', records: chained([`s${round}`, `a${round}`, `b${round}`]) }]),
        b.ingest([{ tenant, device, epoch: 'E', records: chained([`s${round}`, `x${round}`, `y${round}`]) }]),
      ]);
      const told = [ra!, rb!].filter((r) => r.rejected.some((x) => x.code === 'SEQ_CONFLICT'));
      const storedIds = (await a.records(tenant, device)).map((r) => r.id);
      // Never both acked as stored: the one that lost the race hears SEQ_CONFLICT.
      expect(told).toHaveLength(1);
      expect(storedIds).toEqual(
        told[0] === ra ? [`s${round}`, `x${round}`, `y${round}`] : [`s${round}`, `a${round}`, `b${round}`],
      );
    }
  });
});

describe('reference cloud on PostgreSQL: money moves once whichever instance answers', () => {
  it('a payment created through two instances at once is one payment, charged once', async () => {
    const [a, b] = [await cloud(), await cloud()];
    const device = `${newTenant()}-D`;
    const create = (c: PgCloudService, i: number) =>
      c.handleRequest('t', device, {
        reqId: `r${i}`,
        op: 'payment.create',
        args: {
          paymentId: 'P1',
          saleId: 'S1',
          method: 'code',
          authCode: '1234567890',
          amount: 2500,
          currency: 'CNY',
        },
      });
    const answers = await Promise.all([create(a, 1), create(b, 2), create(a, 3), create(b, 4)]);
    for (const x of answers) expect(x).toMatchObject({ ok: true, result: { status: 'SUCCESS' } });
    expect(await a.withAcquirer((acq) => acq.netCaptured({ tenant: 't', device }))).toBe(2500);
    const q = await b.handleRequest('t', device, {
      reqId: 'q',
      op: 'payment.query',
      args: { paymentId: 'P1' },
    });
    expect(q).toMatchObject({ ok: true, result: { status: 'SUCCESS' } });
  });

  it('recharges raced through two instances all credit; a coupon raced from two terminals is consumed once', async () => {
    const [a, b] = [await cloud(), await cloud()];
    const code = `MB-${newTenant()}`;
    await a.withAcquirer((acq) => {
      acq.addMember(code, { memberId: `m-${code}`, name: 'A', balance: 0, points: 0 });
      acq.addCoupon(`CP-${code}`, { couponId: 'c1', kind: 'amount', value: 500 });
    });
    const recharge = (c: PgCloudService, i: number) =>
      c.handleRequest('t', 'D1', {
        reqId: `rc${i}`,
        op: 'member.recharge',
        args: { rechargeId: `R-${code}-${i}`, memberId: `m-${code}`, amount: 100 },
      });
    // 30 recharges, each sent 4 times at once through both instances (a device retrying).
    const done = await Promise.all(Array.from({ length: 120 }, (_, i) => recharge(i % 2 ? a : b, i % 30)));
    for (const x of done) expect(x).toMatchObject({ ok: true });
    expect(await a.withAcquirer((acq) => acq.memberBalance(code))).toBe(3000);
    const consume = (c: PgCloudService, device: string) =>
      c.handleRequest('t', device, {
        reqId: `c-${device}`,
        op: 'coupon.consume',
        args: { code: `CP-${code}`, redemptionId: `red-${device}`, saleId: `S-${device}` },
      });
    const tries = await Promise.all([consume(a, 'D1'), consume(b, 'D2'), consume(a, 'D3'), consume(b, 'D4')]);
    expect(tries.filter((t) => t?.ok === true)).toHaveLength(1);
    expect(
      tries.filter((t) => (t?.error as { code?: string } | undefined)?.code === 'ALREADY_USED'),
    ).toHaveLength(3);
  });

  it('config.current answers the newest signed config; orders.pull the orders pushed through either instance', async () => {
    const [a, b] = [await cloud(), await cloud()];
    const tenant = newTenant();
    await a.signConfig(tenant, 'D1', 2, { name: 'two' });
    await b.signConfig(tenant, 'D1', 1, { name: 'one' }); // older: not kept
    const cur = await b.handleRequest(tenant, 'D1', {
      reqId: 'c',
      op: 'config.current',
      args: { haveVersion: 0 },
    });
    expect(cur).toMatchObject({ ok: true, result: { envelope: { version: 2, doc: { name: 'two' } } } });
    const none = await a.handleRequest(tenant, 'D1', {
      reqId: 'c2',
      op: 'config.current',
      args: { haveVersion: 2 },
    });
    expect(none).toMatchObject({ ok: true, result: { envelope: null } });
    const seqs = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? a : b).pushOrder(tenant, 'D1', { id: `o${i}`, total: 100 }),
      ),
    );
    expect([...seqs].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const pulled = await a.handleRequest(tenant, 'D1', {
      reqId: 'p',
      op: 'orders.pull',
      args: { sinceDownSeq: 4 },
    });
    expect((pulled!.result as { orders: Array<{ downSeq: number }> }).orders.map((o) => o.downSeq)).toEqual([
      5, 6, 7, 8, 9, 10,
    ]);
  });

  it('member points from a sale ingested by two instances at once are awarded once', async () => {
    const [a, b] = [await cloud(), await cloud()];
    const tenant = newTenant();
    const code = `MB-${tenant}`;
    await a.withAcquirer((acq) =>
      acq.addMember(code, { memberId: `m-${tenant}`, name: 'A', balance: 0, points: 0 }),
    );
    const r = {
      seq: 1,
      id: 's1',
      type: 'sale.completed',
      at: '2026-12-01T10:00:00.000Z',
      body: { saleId: 's1', total: 4200, memberId: `m-${tenant}` },
    };
    const batch = { epoch: 'E', records: [{ ...r, chain: chainOf(GENESIS_CHAIN, r) }] };
    const deliver = (c: PgCloudService) =>
      new Promise<void>((resolve) => {
        // The message as the broker delivers it; settled once its transaction committed.
        (c as unknown as { onUplink(m: unknown): void }).onUplink({
          topic: `pos/v1/${tenant}/D1/up/ledger`,
          payload: Buffer.from(JSON.stringify(batch)),
          settle: resolve,
          retry: resolve,
        });
      });
    await Promise.all([deliver(a), deliver(b), deliver(a), deliver(b)]);
    expect(await a.withAcquirer((acq) => acq.memberPoints(code))).toBe(42);
    expect(await a.store.facts(tenant, 'D1')).toHaveLength(1);
  });
});
