import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLedgerBatch } from '../../../cloud/ledger-batch.js';
import { PgCloudService } from '../../../cloud/pg/pg-cloud.js';
import { CloudStore, type IncomingRecord } from '../../../cloud/store.js';
import type { CloudTransport, UplinkMessage } from '../../../cloud/transport/transport.js';
import { chainOf, GENESIS_CHAIN } from '../../../src/offline/chain.js';
import { topicsFor } from '../../../src/sync/topics.js';
import { tempDir } from '../../helpers/daemon.js';
import { chainedSales, pgForFile } from '../../helpers/pg-fixture.js';
import { waitFor } from '../../helpers/wait.js';

const pg = pgForFile();

/** A chained run of records with these bodies, from seq 1. */
function chained(bodies: Array<Record<string, unknown>>, prefix: string): IncomingRecord[] {
  return chainedSales(
    bodies.map((body, i) => ({ id: `${prefix}-${i + 1}`, body })),
    '2026-12-05T10:00:00.000Z',
  );
}

/** A transport that hands the test the cloud's handlers and records what each message became. */
function brokerStandIn() {
  let onUplink: ((m: UplinkMessage) => void) | undefined;
  const sent: Array<{ topic: string; payload: string }> = [];
  const fate = new Map<string, Array<'settled' | 'retried'>>();
  const transport: CloudTransport = {
    mqtt5: false,
    start: async (h) => {
      onUplink = h.onUplink;
    },
    stop: async () => {},
    publish: async (topic, payload) => {
      sent.push({ topic, payload });
    },
  };
  const deliver = (name: string, topic: string, payload: string) => {
    fate.set(name, []);
    onUplink!({
      topic,
      payload: Buffer.from(payload, 'utf8'),
      settle: () => fate.get(name)!.push('settled'),
      retry: () => {
        fate.get(name)!.push('retried');
        // As RabbitMQ does with a nacked message: at once, to a consumer.
        if (redeliver) setImmediate(() => deliverAgain(name, topic, payload));
      },
    });
  };
  let redeliver = false;
  const deliverAgain = (name: string, topic: string, payload: string) => {
    const before = fate.get(name)!;
    deliver(name, topic, payload);
    fate.set(name, [...before, ...fate.get(name)!]);
  };
  return {
    transport,
    sent,
    fate,
    deliver,
    redeliverRetried: () => {
      redeliver = true;
    },
  };
}

describe('reference cloud on PostgreSQL: what a device may write, and a batch it cannot store', () => {
  it('a sale whose text holds NUL or a lone surrogate is stored and acked as on SQLite, its body kept as the canonical text', async () => {
    const store = pg.store();
    await store.migrate();
    const lite = new CloudStore(join(tempDir('posd-nul-'), 'cloud.db'));
    const records = chained(
      [
        { saleId: 'S1', total: 100, note: 'scanner sent a\u0000b' },
        { saleId: 'S2', total: 200, name: 'half \ud83d pair', n: 1.5 },
        { saleId: 'S3', total: 300 },
      ],
      'nul',
    );
    const want = lite.ingest('t', 'D', 'E', records);
    expect(want.ackedUpTo).toBe(3);
    const [got] = await store.ingest([{ tenant: 't', device: 'D', epoch: 'E', records }]);
    expect(got).toEqual(want);
    const held = await store.records('t', 'D');
    expect(held.map((r) => r.body)).toEqual(records.map((r) => r.body));
    lite.close();
  });

  it('a fact sent under two epochs in one group (a redelivered batch beside a restored copy resending it) counts once, as on SQLite', async () => {
    const store = pg.store();
    await store.migrate();
    const lite = new CloudStore(join(tempDir('posd-epochs-'), 'cloud.db'));
    const sale = { saleId: 'S9', total: 900, memberId: 'm1' };
    const e1 = chained([{ saleId: 'S8', total: 800 }, sale], 'g');
    // The restored copy, on its new epoch, resends the sale it holds (same id) from its seq 1.
    const e2 = [
      {
        ...chained([sale], 'g')[0]!,
        id: 'g-2',
        chain: chainOf(GENESIS_CHAIN, {
          seq: 1,
          id: 'g-2',
          type: 'sale.completed',
          at: '2026-12-05T10:00:00.000Z',
          body: sale,
        }),
      },
    ];
    for (const order of [
      ['E1', 'E2'],
      ['E2', 'E1'],
    ] as const) {
      const device = `D-${order.join('')}`;
      const batches = order.map((epoch) => ({
        tenant: 'te',
        device,
        epoch,
        records: epoch === 'E1' ? e1 : e2,
      }));
      const want = batches.map((b) => lite.ingest(b.tenant, b.device, b.epoch, b.records));
      const got = await store.ingest(batches);
      expect(got.map((o) => o.facts.map((r) => r.id))).toEqual(want.map((o) => o.facts.map((r) => r.id)));
      expect(got.flatMap((o) => o.facts).filter((r) => r.id === 'g-2')).toHaveLength(1);
    }
    lite.close();
  });

  it('the same fact under two epochs through two instances at once counts once', async () => {
    const [a, b] = [pg.store(), pg.store()];
    await Promise.all([a.migrate(), b.migrate()]);
    let twice = 0;
    for (let round = 0; round < 30; round++) {
      const device = `R${round}`;
      const sale = { saleId: `S${round}`, total: 900 };
      const e1 = chained([{ saleId: `P${round}`, total: 100 }, sale], device);
      const e2 = [
        {
          seq: 1,
          id: `${device}-2`,
          type: 'sale.completed',
          at: '2026-12-05T10:00:00.000Z',
          body: sale,
          chain: chainOf(GENESIS_CHAIN, {
            seq: 1,
            id: `${device}-2`,
            type: 'sale.completed',
            at: '2026-12-05T10:00:00.000Z',
            body: sale,
          }),
        },
      ];
      const [[x], [y]] = await Promise.all([
        a.ingest([{ tenant: 'tx', device, epoch: 'E1', records: e1 }]),
        b.ingest([{ tenant: 'tx', device, epoch: 'E2', records: e2 }]),
      ]);
      const facts = [...x!.facts, ...y!.facts].filter((r) => r.id === `${device}-2`);
      if (facts.length !== 1) twice += 1;
    }
    expect(twice).toBe(0);
  });

  it('a batch that cannot be stored is set aside with a log: the other devices of its group are stored and acked, nothing is requeued for ever', async () => {
    const broker = brokerStandIn();
    const logs: string[] = [];
    const cloud = await pg.cloud({ transport: broker.transport, log: (msg) => logs.push(msg) });
    const good = chained([{ saleId: 'G1', total: 100 }], 'good');
    // An epoch too long for the database's key index: refused whatever happens.
    const refused = {
      epoch: randomBytes(3_000).toString('hex'),
      records: chained([{ saleId: 'B1', total: 100 }], 'bad'),
    };
    broker.deliver('refused', topicsFor('tp', 'BAD').upLedger, JSON.stringify(refused));
    broker.deliver('good', topicsFor('tp', 'GOOD').upLedger, JSON.stringify({ epoch: 'E', records: good }));
    broker.deliver('not json', topicsFor('tp', 'JUNK').upLedger, '{"epoch":');
    // A payment id the database cannot hold as a key: refused each time it is tried.
    broker.deliver(
      'bad request',
      topicsFor('tp', 'BAD').upReq,
      JSON.stringify({
        reqId: 'r1',
        op: 'payment.query',
        args: { paymentId: 'P\u0000' },
      }),
    );
    await waitFor(
      () => [...broker.fate.values()].every((f) => f.length > 0) || undefined,
      'every message settled or retried',
      30_000,
    );
    expect(Object.fromEntries(broker.fate)).toEqual({
      refused: ['settled'],
      good: ['settled'],
      'not json': ['settled'],
      'bad request': ['settled'],
    });
    const ack = broker.sent.find((s) => s.topic === topicsFor('tp', 'GOOD').downAck);
    expect(JSON.parse(ack!.payload)).toMatchObject({ epoch: 'E', ackedUpTo: 1 });
    expect((await cloud.store.facts('tp', 'GOOD')).map((r) => r.id)).toEqual(['good-1']);
    expect(broker.sent.some((s) => s.topic === topicsFor('tp', 'BAD').downAck)).toBe(false);
    expect(logs).toContain('ledger batch set aside: the store refuses it');
    expect(logs).toContain('request set aside: the store refuses it');
  });

  it('a record it cannot store as sent (NUL in a text, no body, a chain not a text) is stored as rejected and acked, as on SQLite: the records after it are facts', async () => {
    const broker = brokerStandIn();
    const logs: string[] = [];
    const cloud = await pg.cloud({ transport: broker.transport, log: (msg) => logs.push(msg) });
    const sqlite = new CloudStore(join(tempDir('posd-cloudstore-'), 'cloud.db'));
    const records = chained(
      [1, 2, 3, 4, 5].map((i) => ({ saleId: `S${i}`, total: i })),
      'mal',
    ).map((r): Record<string, unknown> => ({ ...r }));
    records[0] = { ...records[0]!, at: 'a\u0000b' };
    const { body: _dropped, ...bodiless } = records[1]!;
    records[1] = bodiless;
    records[2] = { ...records[2]!, chain: 42 };
    // A field no device sends changes nothing.
    records[4] = { ...records[4]!, fault: 'forged', bodyText: '{}' };
    const payload = JSON.stringify({ epoch: 'E', records });
    // Sent, then sent again once acked (the ack lost on the way): a group each.
    for (const round of ['first', 'again']) {
      broker.deliver(round, topicsFor('tp', 'MAL').upLedger, payload);
      await waitFor(() => (broker.fate.get(round)?.length ? true : undefined), `${round} settled`, 30_000);
    }
    const acks = broker.sent.filter((s) => s.topic === topicsFor('tp', 'MAL').downAck);
    expect(logs).toEqual([]);
    expect(acks).toHaveLength(2);
    const rejected = [
      { seq: 1, code: 'INVALID_RECORD', message: 'seq 1: at is not a text' },
      { seq: 2, code: 'INVALID_RECORD', message: 'seq 2: body is not a JSON object' },
      { seq: 3, code: 'INVALID_RECORD', message: 'seq 3: chain is not a text' },
      { seq: 4, code: 'CHAIN_BROKEN', message: 'chain of seq 4 does not follow seq 3' },
    ];
    for (const a of acks) expect(JSON.parse(a.payload)).toEqual({ epoch: 'E', ackedUpTo: 5, rejected });
    const onSqlite = sqlite.ingest('tp', 'MAL', 'E', parseLedgerBatch(payload)!.records);
    sqlite.close();
    expect(onSqlite.ackedUpTo).toBe(5);
    expect(onSqlite.rejected).toEqual(rejected);
    expect((await cloud.store.facts('tp', 'MAL')).map((r) => r.id)).toEqual(['mal-5']);
  });

  it('with the database away, a batch goes back to the broker after a growing pause, not in a requeue storm', async () => {
    const broker = brokerStandIn();
    broker.redeliverRetried();
    const cloud = new PgCloudService({
      dbUrl: pg.server.url,
      transport: broker.transport,
      signingKey: pg.privateKey,
    });
    await cloud.start();
    await cloud.store.pool.end(); // the database is gone for this instance
    const began = Date.now();
    broker.deliver(
      'batch',
      topicsFor('tw', 'D').upLedger,
      JSON.stringify({ epoch: 'E', records: chained([{ saleId: 'W', total: 1 }], 'w') }),
    );
    await waitFor(
      () => ((broker.fate.get('batch')?.length ?? 0) >= 4 ? true : undefined),
      'four returns to the broker',
      30_000,
    );
    // 100 + 200 + 400 ms at least before the fourth return (without pauses: a few ms).
    expect(Date.now() - began).toBeGreaterThanOrEqual(700);
    expect(broker.fate.get('batch')!.every((f) => f === 'retried')).toBe(true);
    await cloud.stop().catch(() => {});
  });
});
