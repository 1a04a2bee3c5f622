import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { AcquirerSimulator } from '../../../cloud/acquirer.js';
import { CloudStore } from '../../../cloud/store.js';
import { tempDir } from '../../helpers/daemon.js';

function twoInstances() {
  const file = join(tempDir('posd-cloud-'), 'cloud.db');
  let clock = Date.parse('2026-12-01T10:00:00Z');
  const now = () => clock;
  const a = new AcquirerSimulator(new CloudStore(file), { now });
  const b = new AcquirerSimulator(new CloudStore(file), { now });
  return { a, b, advance: (ms: number) => (clock += ms) };
}

describe('reference cloud: coupons held, consumed at most once, revoked', () => {
  it('two cloud instances on one database: a coupon held for one terminal is refused to another and consumed once', () => {
    const { a, b } = twoInstances();
    a.addCoupon('CP-X', { couponId: 'c-x', kind: 'amount', value: 500 });
    const reserve = (acq: AcquirerSimulator, device: string, redemptionId: string, saleId: string) =>
      acq.handle({ tenant: 't1', device }, 'coupon.reserve', { redemptionId, code: 'CP-X', saleId });
    expect(reserve(a, 'T1', 'r1', 's1')).toMatchObject({
      ok: true,
      result: { valid: true, couponId: 'c-x' },
    });
    expect(reserve(a, 'T1', 'r1', 's1')).toMatchObject({ ok: true }); // a retry: same hold
    expect(reserve(b, 'T2', 'r2', 's2')).toMatchObject({ ok: false, error: { code: 'COUPON_RESERVED' } });
    expect(
      b.handle({ tenant: 't1', device: 'T2' }, 'coupon.consume', {
        redemptionId: 'r2',
        code: 'CP-X',
        saleId: 's2',
      }),
    ).toMatchObject({
      ok: false,
    });
    expect(
      a.handle({ tenant: 't1', device: 'T1' }, 'coupon.consume', {
        redemptionId: 'r1',
        code: 'CP-X',
        saleId: 's1',
      }),
    ).toMatchObject({
      ok: true,
    });
    expect(
      b.handle({ tenant: 't1', device: 'T1' }, 'coupon.consume', {
        redemptionId: 'r1',
        code: 'CP-X',
        saleId: 's1',
      }),
    ).toMatchObject({
      ok: true,
    });
    expect(b.coupon('CP-X')).toMatchObject({ consumedBy: 'r1', heldBy: null });
    expect(b.handle({ tenant: 't1', device: 'T2' }, 'coupon.verify', { code: 'CP-X' })).toMatchObject({
      result: { valid: false, reason: 'USED' },
    });
  });

  it('a release lets the coupon go; a hold nobody completes expires; a new attempt from the same sale takes the hold over', () => {
    const { a, advance } = twoInstances();
    a.addCoupon('CP-Y', { couponId: 'c-y', kind: 'amount', value: 500 });
    expect(
      a.handle({ tenant: 't1', device: 'T1' }, 'coupon.reserve', {
        redemptionId: 'r1',
        code: 'CP-Y',
        saleId: 's1',
      }),
    ).toMatchObject({ ok: true });
    expect(
      a.handle({ tenant: 't1', device: 'T1' }, 'coupon.reserve', {
        redemptionId: 'r1b',
        code: 'CP-Y',
        saleId: 's1',
      }),
    ).toMatchObject({ ok: true });
    expect(a.coupon('CP-Y')!.heldBy!.redemptionId).toBe('r1b');
    expect(
      a.handle({ tenant: 't1', device: 'T1' }, 'coupon.release', { redemptionId: 'r1b', code: 'CP-Y' }),
    ).toMatchObject({
      ok: true,
      result: { released: true },
    });
    expect(
      a.handle({ tenant: 't1', device: 'T2' }, 'coupon.reserve', {
        redemptionId: 'r2',
        code: 'CP-Y',
        saleId: 's2',
      }),
    ).toMatchObject({ ok: true });
    advance(61 * 60 * 1000);
    expect(
      a.handle({ tenant: 't1', device: 'T3' }, 'coupon.reserve', {
        redemptionId: 'r3',
        code: 'CP-Y',
        saleId: 's3',
      }),
    ).toMatchObject({ ok: true });
  });

  it('an issued coupon revoked by its sale is never valid again; one used before is marked afterUse', () => {
    const { a } = twoInstances();
    a.registerIssued({ couponId: 'i-1', code: 'CPAAAA', kind: 'amount', value: 300, saleId: 's1' });
    a.registerIssued({ couponId: 'i-2', code: 'CPBBBB', kind: 'amount', value: 300, saleId: 's2' });
    a.handle({ tenant: 't1', device: 'T1' }, 'coupon.consume', {
      redemptionId: 'r',
      code: 'CPBBBB',
      saleId: 's9',
    });
    a.revokeIssued({ code: 'CPAAAA', reason: 'sale.voided' });
    a.revokeIssued({ code: 'CPBBBB', reason: 'refund.completed' });
    expect(a.handle({ tenant: 't1', device: 'T1' }, 'coupon.verify', { code: 'CPAAAA' })).toMatchObject({
      result: { valid: false, reason: 'REVOKED' },
    });
    expect(
      a.handle({ tenant: 't1', device: 'T1' }, 'coupon.reserve', {
        redemptionId: 'x',
        code: 'CPAAAA',
        saleId: 's3',
      }),
    ).toMatchObject({
      ok: false,
      error: { code: 'COUPON_REVOKED' },
    });
    expect(a.coupon('CPBBBB')!.revoked).toEqual({ reason: 'refund.completed', afterUse: true });
  });
});

/** Two built cloud instances in worker threads, each its own terminal, racing request i together. */
async function raceTerminals(
  file: string,
  requestsOf: (device: string) => Array<[string, Record<string, unknown>]>,
) {
  const worker = new URL('../../helpers/acquirer-worker.mjs', import.meta.url);
  const barrier = new SharedArrayBuffer(4);
  const run = (device: string) =>
    new Promise<Array<{ ok?: boolean }>>((resolve, reject) => {
      const w = new Worker(worker, {
        workerData: { file, device, requests: requestsOf(device), barrier, parties: 2 },
      });
      w.once('message', resolve);
      w.once('error', reject);
    });
  return Promise.all([run('T1'), run('T2')]);
}

describe('reference cloud: one consumption per coupon across terminals, raced', () => {
  it('two instances consuming the same coupons at the same moments for two terminals: each coupon once', async () => {
    const file = join(tempDir('posd-cloud-'), 'cloud.db');
    const setup = new AcquirerSimulator(new CloudStore(file));
    const N = 150;
    for (let i = 0; i < N; i++)
      setup.addCoupon(`CP-R${i}`, { couponId: `c-${i}`, kind: 'amount', value: 100 });
    const [a, b] = await raceTerminals(file, (device) =>
      Array.from({ length: N }, (_, i): [string, Record<string, unknown>] => [
        'coupon.consume',
        { redemptionId: `${device}-${i}`, code: `CP-R${i}`, saleId: `${device}-S${i}` },
      ]),
    );
    for (let i = 0; i < N; i++) {
      expect([a[i]!.ok, b[i]!.ok].filter(Boolean), `coupon ${i}`).toHaveLength(1);
      const winner = a[i]!.ok ? 'T1' : 'T2';
      expect(setup.coupon(`CP-R${i}`)!.consumedBy).toBe(`${winner}-${i}`);
    }
  });
});

describe('reference cloud: member points follow net sales', () => {
  it('a sale earns, partial refunds bring points down to what the net earns, a void takes them all back, once per record', () => {
    const { a } = twoInstances();
    a.addMember('MB1', { memberId: 'm1', name: 'A', balance: 0, points: 0 });
    a.awardPoints('k1', 'sale.completed', { saleId: 's1', total: 1_050, memberId: 'm1' });
    expect(a.memberPoints('MB1')).toBe(10);
    a.awardPoints('k2', 'refund.completed', { saleId: 's1', total: 60 }); // net 990: 9
    expect(a.memberPoints('MB1')).toBe(9);
    a.awardPoints('k2', 'refund.completed', { saleId: 's1', total: 60 }); // replayed: nothing
    expect(a.memberPoints('MB1')).toBe(9);
    a.awardPoints('k3', 'sale.completed', { saleId: 's2', total: 2_000, memberId: 'm1' });
    a.awardPoints('k4', 'sale.voided', { saleId: 's2', total: 2_000 });
    a.awardPoints('k4', 'sale.voided', { saleId: 's2', total: 2_000 });
    expect(a.memberPoints('MB1')).toBe(9);
  });

  it('a recharge for nobody credits nothing and is not stored', () => {
    const { a } = twoInstances();
    expect(
      a.handle({ tenant: 't1', device: 'T1' }, 'member.recharge', {
        rechargeId: 'rc1',
        memberId: 'ghost',
        amount: 100,
      }),
    ).toMatchObject({
      ok: false,
      error: { code: 'MEMBER_UNKNOWN' },
    });
  });
});
