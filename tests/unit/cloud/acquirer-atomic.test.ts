import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { AcquirerSimulator } from '../../../cloud/acquirer.js';
import { CloudStore } from '../../../cloud/store.js';
import { tempDir } from '../../helpers/daemon.js';

// Case 10 of "Money under faults": the reference cloud's money operations are atomic, honour
// deadlines and keep tombstones. The racing instances run the built cloud (dist/) in worker threads.
const WORKER = new URL('../../helpers/acquirer-worker.mjs', import.meta.url);
const DEVICE = { tenant: 't1', device: 'D1' };
const MEMBER = 'M-CARD-1';
const open: CloudStore[] = [];

function cloudFile(): string {
  return join(tempDir('posd-acq-'), 'cloud.db');
}

function instance(file: string, now?: () => number): { store: CloudStore; acquirer: AcquirerSimulator } {
  const store = new CloudStore(file);
  open.push(store);
  return { store, acquirer: new AcquirerSimulator(store, now ? { now } : {}) };
}

afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

/** Two instances on one file run the same requests at the same moments. */
async function race(file: string, requests: Array<[string, Record<string, unknown>]>): Promise<unknown[][]> {
  const barrier = new SharedArrayBuffer(4);
  const run = () =>
    new Promise<unknown[]>((resolve, reject) => {
      const w = new Worker(WORKER, {
        workerData: { file, device: DEVICE.device, requests, barrier, parties: 2 },
      });
      w.once('message', resolve);
      w.once('error', reject);
    });
  return Promise.all([run(), run()]);
}

const N = 150;
const ids = (prefix: string) => Array.from({ length: N }, (_, i) => `${prefix}-${i}`);

function memberPayments(acquirer: AcquirerSimulator, paymentIds: string[]): void {
  for (const paymentId of paymentIds) {
    const r = acquirer.handle(DEVICE, 'payment.create', {
      paymentId,
      saleId: `S-${paymentId}`,
      method: 'code',
      channel: 'member',
      authCode: MEMBER,
      amount: 100,
      currency: 'CNY',
    });
    expect(r).toMatchObject({ ok: true, result: { status: 'SUCCESS' } });
  }
}

describe('reference cloud: two instances racing one operation move money once', () => {
  it('member payment: the same paymentId raced debits once', async () => {
    const file = cloudFile();
    const { acquirer } = instance(file);
    acquirer.addMember(MEMBER, { memberId: 'm1', name: 'A', balance: 100_000, points: 0 });
    const pays = ids('P');
    await race(
      file,
      pays.map((paymentId) => [
        'payment.create',
        { paymentId, saleId: 'S', method: 'code', channel: 'member', authCode: MEMBER, amount: 100 },
      ]),
    );
    expect(acquirer.memberBalance(MEMBER)).toBe(100_000 - 100 * N);
  });

  it('refund: the same refundId raced credits once', async () => {
    const file = cloudFile();
    const { acquirer } = instance(file);
    acquirer.addMember(MEMBER, { memberId: 'm1', name: 'A', balance: 100_000, points: 0 });
    const pays = ids('P');
    memberPayments(acquirer, pays);
    await race(
      file,
      pays.map((paymentId) => ['refund.create', { refundId: `R-${paymentId}`, paymentId, amount: 100 }]),
    );
    expect(acquirer.memberBalance(MEMBER)).toBe(100_000);
    for (const p of pays) expect(acquirer.payment(DEVICE, p)?.refunded).toBe(100);
  });

  it('reverse: the same payment reversed by both credits once', async () => {
    const file = cloudFile();
    const { acquirer } = instance(file);
    acquirer.addMember(MEMBER, { memberId: 'm1', name: 'A', balance: 100_000, points: 0 });
    const pays = ids('P');
    memberPayments(acquirer, pays);
    await race(
      file,
      pays.map((paymentId) => ['payment.reverse', { paymentId }]),
    );
    expect(acquirer.memberBalance(MEMBER)).toBe(100_000);
  });

  it('recharge: the same rechargeId raced credits once', async () => {
    const file = cloudFile();
    const { acquirer } = instance(file);
    acquirer.addMember(MEMBER, { memberId: 'm1', name: 'A', balance: 0, points: 0 });
    await race(
      file,
      ids('RC').map((rechargeId) => ['member.recharge', { rechargeId, memberId: 'm1', amount: 100 }]),
    );
    expect(acquirer.memberBalance(MEMBER)).toBe(100 * N);
  });
});

describe('reference cloud: a crash between the writes of an operation leaves nothing', () => {
  /** The store fails on its `nth` write from now, as a process killed between two writes. */
  function crashOnWrite(store: CloudStore, nth: number): void {
    const put = store.kvPut.bind(store);
    let writes = 0;
    store.kvPut = (scope, key, value) => {
      writes += 1;
      if (writes === nth) throw new Error('crash between writes');
      put(scope, key, value);
    };
  }

  it('refund: a crash after the member is credited credits nothing; the retry credits once', () => {
    const { store, acquirer } = instance(cloudFile());
    acquirer.addMember(MEMBER, { memberId: 'm1', name: 'A', balance: 1_000, points: 0 });
    memberPayments(acquirer, ['P1']);
    crashOnWrite(store, 2);
    const args = { refundId: 'R1', paymentId: 'P1', amount: 100 };
    expect(() => acquirer.handle(DEVICE, 'refund.create', args)).toThrow('crash between writes');
    expect(acquirer.memberBalance(MEMBER)).toBe(900);
    expect(acquirer.payment(DEVICE, 'P1')?.refunded).toBe(0);
    expect(acquirer.handle(DEVICE, 'refund.create', args)).toMatchObject({ ok: true });
    expect(acquirer.memberBalance(MEMBER)).toBe(1_000);
  });

  it('member payment: a crash after the debit debits nothing; the retry debits once', () => {
    const { store, acquirer } = instance(cloudFile());
    acquirer.addMember(MEMBER, { memberId: 'm1', name: 'A', balance: 1_000, points: 0 });
    crashOnWrite(store, 2);
    const args = {
      paymentId: 'P1',
      saleId: 'S1',
      method: 'code',
      channel: 'member',
      authCode: MEMBER,
      amount: 300,
    };
    expect(() => acquirer.handle(DEVICE, 'payment.create', args)).toThrow('crash between writes');
    expect(acquirer.memberBalance(MEMBER)).toBe(1_000);
    expect(acquirer.handle(DEVICE, 'payment.create', args)).toMatchObject({
      ok: true,
      result: { status: 'SUCCESS' },
    });
    expect(acquirer.memberBalance(MEMBER)).toBe(700);
  });

  it('recharge: a crash after the credit credits nothing; the retry credits once', () => {
    const { store, acquirer } = instance(cloudFile());
    acquirer.addMember(MEMBER, { memberId: 'm1', name: 'A', balance: 0, points: 0 });
    crashOnWrite(store, 2);
    const args = { rechargeId: 'RC1', memberId: 'm1', amount: 500 };
    expect(() => acquirer.handle(DEVICE, 'member.recharge', args)).toThrow('crash between writes');
    expect(acquirer.memberBalance(MEMBER)).toBe(0);
    expect(acquirer.handle(DEVICE, 'member.recharge', args)).toMatchObject({ ok: true });
    expect(acquirer.memberBalance(MEMBER)).toBe(500);
  });

  it('reverse: a crash after the credit credits nothing; the retry credits once', () => {
    const { store, acquirer } = instance(cloudFile());
    acquirer.addMember(MEMBER, { memberId: 'm1', name: 'A', balance: 1_000, points: 0 });
    memberPayments(acquirer, ['P1']);
    crashOnWrite(store, 2);
    expect(() => acquirer.handle(DEVICE, 'payment.reverse', { paymentId: 'P1' })).toThrow(
      'crash between writes',
    );
    expect(acquirer.memberBalance(MEMBER)).toBe(900);
    expect(acquirer.handle(DEVICE, 'payment.reverse', { paymentId: 'P1' })).toMatchObject({ ok: true });
    expect(acquirer.memberBalance(MEMBER)).toBe(1_000);
  });
});

describe('reference cloud: deadlines and tombstones', () => {
  const code = {
    saleId: 'S1',
    method: 'code',
    channel: 'wechat',
    authCode: '134567890123456780',
    amount: 500,
  };

  it('a payment.create arriving after its deadline is refused and charges nothing', () => {
    let now = Date.parse('2026-12-01T10:00:00.000Z');
    const { acquirer } = instance(cloudFile(), () => now);
    const deadline = new Date(now + 10_000).toISOString();
    now += 10_001;
    expect(acquirer.handle(DEVICE, 'payment.create', { paymentId: 'P1', ...code }, deadline)).toMatchObject({
      ok: false,
      error: { code: 'DEADLINE_EXCEEDED' },
    });
    expect(acquirer.payment(DEVICE, 'P1')).toBeUndefined();
    expect(acquirer.netCaptured(DEVICE)).toBe(0);
    // In time, it charges.
    const inTime = new Date(now + 10_000).toISOString();
    expect(acquirer.handle(DEVICE, 'payment.create', { paymentId: 'P2', ...code }, inTime)).toMatchObject({
      ok: true,
      result: { status: 'SUCCESS' },
    });
    expect(acquirer.netCaptured(DEVICE)).toBe(500);
  });

  it('a late refund or recharge is refused and move nothing', () => {
    let now = Date.parse('2026-12-01T10:00:00.000Z');
    const { acquirer } = instance(cloudFile(), () => now);
    acquirer.addMember(MEMBER, { memberId: 'm1', name: 'A', balance: 1_000, points: 0 });
    memberPayments(acquirer, ['P1']);
    const deadline = new Date(now).toISOString();
    now += 1;
    const late = { ok: false, error: { code: 'DEADLINE_EXCEEDED' } };
    expect(
      acquirer.handle(DEVICE, 'refund.create', { refundId: 'R1', paymentId: 'P1', amount: 100 }, deadline),
    ).toMatchObject(late);
    expect(
      acquirer.handle(
        DEVICE,
        'member.recharge',
        { rechargeId: 'RC1', memberId: 'm1', amount: 100 },
        deadline,
      ),
    ).toMatchObject(late);
    expect(acquirer.memberBalance(MEMBER)).toBe(900);
  });

  it('a reverse of a payment the acquirer never saw leaves a tombstone: a later create charges nothing', () => {
    const { acquirer } = instance(cloudFile());
    expect(acquirer.handle(DEVICE, 'payment.reverse', { paymentId: 'P1' })).toMatchObject({
      ok: true,
      result: { status: 'REVERSED' },
    });
    expect(acquirer.handle(DEVICE, 'payment.create', { paymentId: 'P1', ...code })).toMatchObject({
      ok: false,
      error: { code: 'ORDER_REVERSED' },
    });
    expect(acquirer.netCaptured(DEVICE)).toBe(0);
    expect(acquirer.handle(DEVICE, 'payment.query', { paymentId: 'P1' })).toMatchObject({
      ok: true,
      result: { status: 'REVERSED' },
    });
  });

  it('a close of a QR the acquirer never saw leaves a tombstone: a later create is refused', () => {
    const { acquirer } = instance(cloudFile());
    expect(acquirer.handle(DEVICE, 'payment.close', { paymentId: 'Q1' })).toMatchObject({
      ok: true,
      result: { status: 'CLOSED' },
    });
    expect(
      acquirer.handle(DEVICE, 'payment.create', { paymentId: 'Q1', saleId: 'S1', method: 'qr', amount: 500 }),
    ).toMatchObject({ ok: false, error: { code: 'ORDER_CLOSED' } });
    expect(acquirer.customerPaysQr(DEVICE, 'Q1')).toBe(false);
    expect(acquirer.netCaptured(DEVICE)).toBe(0);
  });
});
