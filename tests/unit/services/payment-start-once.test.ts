import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/offline/chain.js';
import { codeOf, paymentSetup, WECHAT } from '../../helpers/payment-setup.js';

type Setup = ReturnType<typeof paymentSetup>;

const creates = (t: Setup) => t.acquirer.calls.filter((c) => c.op === 'payment.create');
const paymentsOf = (t: Setup, saleId: string) =>
  t.db.prepare('SELECT id, status, amount FROM payments WHERE sale_id = ?').all(saleId) as Array<{
    id: string;
    status: string;
    amount: number;
  }>;

describe('a code, QR or member payment started under an Idempotency-Key', () => {
  it('a code payment retried (reply lost) gets the first reply, while pending and once paid: one charge', async () => {
    const t = paymentSetup(() => 'userpaying-then-success');
    const saleId = t.openSale(2500);
    const first = t.payments.startCode(saleId, WECHAT('0'), 'key-1');
    expect(t.payments.startCode(saleId, WECHAT('0'), 'key-1')).toEqual(first);
    await t.payments.idle();
    expect(t.payments.startCode(saleId, WECHAT('0'), 'key-1')).toEqual(first);
    await t.payments.idle();
    expect(creates(t)).toHaveLength(1);
    expect(paymentsOf(t, saleId)).toEqual([{ id: first.paymentId, status: 'succeeded', amount: 2500 }]);
    expect(t.sales.getSale(saleId).status).toBe('completed');
    expect(t.acquirer.netCaptured()).toBe(2500);
    // Announced once: the retries started nothing the screens hear of.
    expect(t.events.filter((e) => e.paymentId === first.paymentId).map((e) => e.status)).toEqual([
      'pending',
      'succeeded',
    ]);
  });

  it('part paid from a member card, retried after it went through: the card is not charged again', async () => {
    const t = paymentSetup();
    const saleId = t.openSale(2500);
    const first = t.payments.startMember(saleId, 'MB0001', 1000, 'key-m');
    await t.payments.idle();
    // Without the key this would be a second charge of 10.00 (1,500 are still due).
    expect(t.payments.startMember(saleId, 'MB0001', 1000, 'key-m')).toEqual(first);
    await t.payments.idle();
    expect(creates(t)).toHaveLength(1);
    expect(paymentsOf(t, saleId)).toEqual([{ id: first.paymentId, status: 'succeeded', amount: 1000 }]);
    expect(t.sales.getSale(saleId)).toMatchObject({ status: 'open', due: 1500 });
  });

  it('a QR payment retried gets the same payment and one code URL request', async () => {
    const t = paymentSetup(() => 'userpaying-forever');
    const saleId = t.openSale(2500);
    const first = t.payments.startQr(saleId, 'wechat', 'key-q');
    expect(t.payments.startQr(saleId, 'wechat', 'key-q')).toEqual(first);
    expect(paymentsOf(t, saleId)).toHaveLength(1);
    await t.payments.idle();
    expect(creates(t)).toHaveLength(1);
  });

  it('the key of another request is refused, and nothing is started for it', async () => {
    const t = paymentSetup();
    const saleId = t.openSale(2500);
    t.payments.startCode(saleId, WECHAT('0'), 'key-2');
    expect(codeOf(() => t.payments.startCode(saleId, WECHAT('3'), 'key-2'))).toBe('IDEMPOTENCY_MISMATCH');
    expect(codeOf(() => t.payments.startQr(saleId, 'wechat', 'key-2'))).toBe('IDEMPOTENCY_MISMATCH');
    // Cash and the started payments share the scope: one key is one cashier action on the payments.
    expect(codeOf(() => t.sales.payCash(saleId, 2500, 'key-2'))).toBe('IDEMPOTENCY_MISMATCH');
    expect(codeOf(() => t.payments.startCode(saleId, WECHAT('0'), 'bad key'))).toBe('BAD_REQUEST');
    await t.payments.idle();
    expect(creates(t)).toHaveLength(1);
    expect(paymentsOf(t, saleId)).toHaveLength(1);
  });

  it('what is kept of the request cannot give back the code: no plain code, no hash of it', () => {
    const t = paymentSetup(() => 'userpaying-forever');
    const saleId = t.openSale(2500);
    const code = WECHAT('9');
    t.payments.startCode(saleId, code, 'key-h');
    const member = 'MB12345678901';
    t.payments.startMember(t.openSale(900), member, undefined, 'key-hm');
    const rows = t.db.prepare('SELECT * FROM idempotency').all() as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(2);
    const kept = JSON.stringify(rows);
    // What a reader of the file could try: the scope and the request, hashed as the key's check is.
    const guess = (scope: string, request: unknown) =>
      createHash('sha256').update(scope).update(canonicalJson(request)).digest('hex');
    expect(kept).not.toContain(code);
    expect(kept).not.toContain(member);
    expect(kept).not.toContain(guess(`POST /sales/${saleId}/payments`, { method: 'code', authCode: code }));
    for (const row of rows) expect(String(row.request_hash)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('after a restart the retry still gets the first reply, and the first payment is resolved once', async () => {
    const t = paymentSetup(() => 'userpaying-then-success');
    const saleId = t.openSale(2500);
    const first = t.payments.startCode(saleId, WECHAT('0'), 'key-r');
    await t.payments.stop(); // the daemon dies with the payment in flight
    t.db.close();

    const again = paymentSetup(() => 'userpaying-then-success', t.dir, t.acquirer);
    expect(again.payments.startCode(saleId, WECHAT('0'), 'key-r')).toEqual(first);
    again.payments.resumeUnresolved();
    await again.payments.idle();
    expect(creates(again)).toHaveLength(1); // the first one's, before the restart
    expect(paymentsOf(again, saleId)).toEqual([{ id: first.paymentId, status: 'succeeded', amount: 2500 }]);
    expect(again.acquirer.netCaptured()).toBe(2500);
    expect(again.sales.getSale(saleId).status).toBe('completed');
  });
});
