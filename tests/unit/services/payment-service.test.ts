import { describe, expect, it } from 'vitest';
import type { Behaviour, FakeAcquirer } from '../../helpers/fake-acquirer.js';
import { codeOf, paymentSetup, WECHAT } from '../../helpers/payment-setup.js';

function setup(behaviourOf: (code: string | undefined) => Behaviour = () => 'success', dir?: string) {
  return paymentSetup(behaviourOf, dir);
}

describe('payment by code', () => {
  it('commits the payment id before the request, and shows paid only on SUCCESS', async () => {
    const t = setup(() => 'success');
    const saleId = t.openSale();
    const { paymentId, status } = t.payments.startCode(saleId, WECHAT('0'));
    expect(status).toBe('pending');
    expect(t.db.prepare('SELECT status FROM payments WHERE id = ?').get(paymentId)).toEqual({
      status: 'pending',
    });
    expect(t.sales.getSale(saleId).status).toBe('open');
    await t.payments.idle();
    expect(t.acquirer.calls[0]).toMatchObject({ op: 'payment.create', args: { paymentId, amount: 2500 } });
    const sale = t.sales.getSale(saleId);
    expect(sale.status).toBe('completed');
    expect(sale.payments).toMatchObject([
      { paymentId, method: 'code', channel: 'wechat', status: 'succeeded' },
    ]);
    expect(t.ledger.recordsAfter(0, 20).map((r) => r.type)).toEqual([
      'shift.opened',
      'payment.succeeded',
      'sale.completed',
    ]);
    expect(t.events.map((e) => e.status)).toEqual(['pending', 'succeeded']);
  });

  it('USERPAYING: queries after the delay, then succeeds', async () => {
    const t = setup(() => 'userpaying-then-success');
    const saleId = t.openSale();
    t.payments.startCode(saleId, WECHAT('0'));
    await t.payments.idle();
    expect(t.acquirer.calls.map((c) => c.op)).toEqual(['payment.create', 'payment.query', 'payment.query']);
    expect(t.sales.getSale(saleId).status).toBe('completed');
  });

  it('USERPAYING until the deadline: reverses after 45 s and the sale stays open for another tender', async () => {
    const t = setup(() => 'userpaying-forever');
    const saleId = t.openSale();
    const started = t.acquirer.clock;
    const { paymentId } = t.payments.startCode(saleId, WECHAT('0'));
    await t.payments.idle();
    const ops = t.acquirer.calls.map((c) => c.op);
    expect(ops[0]).toBe('payment.create');
    expect(ops.at(-1)).toBe('payment.reverse');
    expect(ops.filter((o) => o === 'payment.query')).toHaveLength(9); // at 5, 10, … 45 s
    expect(t.acquirer.clock - started).toBeGreaterThanOrEqual(45_000);
    expect(t.acquirer.orders.get(paymentId)!.status).toBe('REVERSED');
    expect(t.sales.getSale(saleId)).toMatchObject({ status: 'open', due: 2500 });
    expect(t.acquirer.netCaptured()).toBe(0);
    expect(t.ledger.recordsAfter(0, 20).at(-1)).toMatchObject({
      type: 'payment.reversed',
      body: { paymentId },
    });
  });

  it('FAILED is recorded and frees the sale for a new code with a new payment id', async () => {
    const t = setup((code) => (code?.endsWith('1') ? 'failed' : 'success'));
    const saleId = t.openSale();
    const first = t.payments.startCode(saleId, WECHAT('1'));
    await t.payments.idle();
    const second = t.payments.startCode(saleId, WECHAT('2'));
    expect(second.paymentId).not.toBe(first.paymentId);
    await t.payments.idle();
    expect(t.sales.getSale(saleId).status).toBe('completed');
    expect(t.acquirer.netCaptured()).toBe(2500);
  });

  it('money-loss case 1: a lost reply and a rescan never charge twice', async () => {
    const t = setup((code) => (code?.endsWith('7') ? 'charge-but-lose-reply' : 'success'));
    const saleId = t.openSale();
    t.payments.startCode(saleId, WECHAT('7'));
    // The cashier sees no answer and scans again at once: refused while the first is unresolved.
    expect(codeOf(() => t.payments.startCode(saleId, WECHAT('8')))).toBe('PAYMENT_UNRESOLVED');
    await t.payments.idle();
    // The query found the first payment captured: the sale is paid, once.
    expect(t.sales.getSale(saleId).status).toBe('completed');
    expect(codeOf(() => t.payments.startCode(saleId, WECHAT('8')))).toBe('SALE_NOT_OPEN');
    expect(t.acquirer.netCaptured()).toBe(2500);
    expect([...t.acquirer.orders.values()].filter((o) => o.status === 'SUCCESS')).toHaveLength(1);
  });

  it('offline outcome: records payment.pending, blocks the shift close, and resolves when the link returns', async () => {
    const t = setup(() => 'userpaying-forever');
    t.shifts.open(0);
    const saleId = t.openSale();
    t.acquirer.goOfflineAfter = 'payment.create'; // the link drops right after the create went out
    const { paymentId } = t.payments.startCode(saleId, WECHAT('0'));
    await t.payments.idle();
    expect(t.db.prepare('SELECT status FROM payments WHERE id = ?').get(paymentId)).toEqual({
      status: 'unknown',
    });
    expect(t.ledger.recordsAfter(0, 50).filter((r) => r.type === 'payment.pending')).toHaveLength(1);
    expect(codeOf(() => t.shifts.close(0))).toBe('PAYMENT_UNRESOLVED');
    expect(codeOf(() => t.payments.startCode(saleId, WECHAT('0')))).toBe('TENDER_NOT_SUPPORTED');

    t.acquirer.goOnline();
    await t.payments.idle();
    expect(t.acquirer.orders.get(paymentId)!.status).toBe('REVERSED');
    expect(t.db.prepare('SELECT status FROM payments WHERE id = ?').get(paymentId)).toEqual({
      status: 'reversed',
    });
    expect(t.shifts.close(0).kind).toBe('Z');
  });

  it('after a restart, an in-flight payment is resolved by query: a captured one completes the sale', async () => {
    const t = setup(() => 'userpaying-then-success');
    const saleId = t.openSale();
    const { paymentId } = t.payments.startCode(saleId, WECHAT('0'));
    await t.payments.stop(); // the daemon dies with the payment in flight
    t.acquirer.orders.get(paymentId)!.status = 'SUCCESS'; // the customer confirmed meanwhile
    t.db.close();
    const again = setup(() => 'success', t.dir);
    // Share the acquirer's memory: it is the same acquirer after the restart.
    (again as { acquirer: FakeAcquirer }).acquirer.orders.set(paymentId, t.acquirer.orders.get(paymentId)!);
    again.payments.resumeUnresolved();
    await again.payments.idle();
    expect(again.sales.getSale(saleId).status).toBe('completed');
  });
});

describe('payment by QR', () => {
  it('shows the code URL, succeeds when the customer pays', async () => {
    const t = setup();
    const saleId = t.openSale(990);
    const { paymentId } = t.payments.startQr(saleId, 'wechat');
    await Promise.resolve();
    await Promise.resolve();
    await Promise.resolve();
    const shown = t.events.find((e) => e.codeUrl);
    expect(shown?.codeUrl).toMatch(/^weixin:\/\//);
    t.acquirer.customerPaysQr(paymentId);
    await t.payments.idle();
    expect(t.sales.getSale(saleId).status).toBe('completed');
  });

  it('closes the QR at our own expiry', async () => {
    const t = setup();
    const saleId = t.openSale(990);
    const { paymentId } = t.payments.startQr(saleId, 'alipay');
    await t.payments.idle();
    expect(t.acquirer.orders.get(paymentId)!.status).toBe('CLOSED');
    expect(t.sales.getSale(saleId).payments[0]!.status).toBe('closed');
  });

  it('money-loss case 2: a QR paid after switching to cash is reversed automatically, once', async () => {
    const t = setup();
    const saleId = t.openSale(990);
    const { paymentId } = t.payments.startQr(saleId, 'wechat');
    await Promise.resolve();
    const cancelled = await t.payments.cancelQr(paymentId);
    expect(cancelled).toMatchObject({ closing: false, payment: { status: 'closed' } });
    t.sales.payCash(saleId, 1000);
    expect(t.sales.getSale(saleId).status).toBe('completed');

    t.acquirer.customerPaysQr(paymentId, true); // the acquirer let the customer pay anyway
    t.acquirer.loseReplies.set('refund.create', 1); // and the first refund reply is lost
    await t.payments.onNotify(paymentId);
    await t.payments.onNotify(paymentId); // the hint comes twice
    await t.payments.idle();
    expect(t.acquirer.refunds.size).toBe(1);
    expect(t.acquirer.netCaptured()).toBe(0);
    // A payment reversal, not a goods return: no refund.completed (no points taken, no refund counted).
    const records = t.ledger.recordsAfter(0, 50);
    expect(records.filter((x) => x.type === 'refund.completed')).toHaveLength(0);
    expect(records.filter((x) => x.type === 'payment.reversed')).toMatchObject([
      { body: { paymentId, wasCaptured: true, reason: 'PAID_AFTER_CLOSE', amount: 990 } },
    ]);
    expect(t.sales.getSale(saleId).payments.find((p) => p.paymentId === paymentId)!.status).toBe('reversed');
  });

  it('a QR paid just before the cashier cancels counts for the sale', async () => {
    const t = setup();
    const saleId = t.openSale(990);
    const { paymentId } = t.payments.startQr(saleId, 'wechat');
    await Promise.resolve();
    t.acquirer.customerPaysQr(paymentId);
    const result = await t.payments.cancelQr(paymentId);
    expect(result.payment.status).toBe('succeeded');
    expect(t.sales.getSale(saleId).status).toBe('completed');
    expect(t.acquirer.netCaptured()).toBe(990);
  });
});

describe('refunds to the original channel', () => {
  it('money-loss case 3: a refund retried after lost replies refunds once, and completes the refund sale', async () => {
    const t = setup(() => 'success');
    const saleId = t.openSale(2500);
    t.payments.startCode(saleId, WECHAT('0'));
    await t.payments.idle();
    t.acquirer.loseReplies.set('refund.create', 2);
    const r = t.refunds.refund(saleId, { lines: [{ lineNo: 1, qty: 1 }] });
    expect(r.status).toBe(202);
    expect(r.body.status).toBe('pending');
    // A second refund of the same line while the first is pending is refused by the cap.
    expect(codeOf(() => t.refunds.refund(saleId, { lines: [{ lineNo: 1, qty: 1 }] }))).toBe(
      'REFUND_EXCEEDS_REMAINING',
    );
    await t.payments.idle();
    const creates = t.acquirer.calls.filter((c) => c.op === 'refund.create');
    expect(creates).toHaveLength(3);
    expect(new Set(creates.map((c) => c.args.refundId)).size).toBe(1);
    expect(t.acquirer.refunds.size).toBe(1);
    expect(t.acquirer.netCaptured()).toBe(0);
    const refund = t.sales.getSale(String(r.body.refundId));
    expect(refund.status).toBe('completed');
    expect(refund.receiptNo).toBe('D1-000002');
    const rec = t.ledger.recordsAfter(0, 50).find((x) => x.type === 'refund.completed')!;
    expect(rec.body).toMatchObject({
      total: 2500,
      payments: [{ method: 'code', channel: 'wechat', amount: 2500 }],
    });
  });

  it('a refund whose replies keep being lost while online is asked again at most 4 query intervals apart: the customer waits at the counter', async () => {
    const t = setup(() => 'success');
    const saleId = t.openSale(1800);
    t.payments.startCode(saleId, WECHAT('0'));
    await t.payments.idle();
    t.acquirer.loseReplies.set('refund.create', 6);
    const before = t.acquirer.clock;
    t.refunds.refund(saleId, { lines: [{ lineNo: 1, qty: 1 }] });
    await t.payments.idle();
    expect(t.acquirer.calls.filter((c) => c.op === 'refund.create')).toHaveLength(7);
    // 5, 10, then 20 s between attempts (query interval 5 s), not 40 and 60.
    expect(t.acquirer.clock - before).toBe(5_000 + 10_000 + 4 * 20_000);
    expect(t.acquirer.refunds.size).toBe(1);
    expect(t.acquirer.netCaptured()).toBe(0);
  });

  it('a refund pending when the daemon dies resumes with the same refundId after restart', async () => {
    const t = setup(() => 'success');
    const saleId = t.openSale(1200);
    t.payments.startCode(saleId, WECHAT('0'));
    await t.payments.idle();
    t.acquirer.goOfflineAfter = 'refund.create'; // the acquirer refunds, the reply and link are lost
    const r = t.refunds.refund(saleId, { lines: [{ lineNo: 1, qty: 1 }] });
    await t.payments.idle();
    t.db.close();
    const again = setup(() => 'success', t.dir);
    for (const [k, v] of t.acquirer.refunds) again.acquirer.refunds.set(k, v);
    for (const [k, v] of t.acquirer.orders) again.acquirer.orders.set(k, v);
    again.payments.resumeUnresolved();
    await again.payments.idle();
    expect(again.acquirer.refunds.size).toBe(1);
    expect(again.sales.getSale(String(r.body.refundId)).status).toBe('completed');
  });

  it('splits a refund over electronic then cash, each capped by what it paid', async () => {
    const t = setup(() => 'success');
    const saleId = String(
      t.sales.createSale({
        lines: [
          { name: 'A', qty: 2, unitPrice: 1000 },
          { name: 'B', qty: 1, unitPrice: 500 },
        ],
      }).body.saleId,
    );
    t.sales.payCash(saleId, 1000);
    t.payments.startCode(saleId, WECHAT('0'));
    await t.payments.idle();
    expect(t.sales.getSale(saleId).status).toBe('completed');
    const r = t.refunds.refund(saleId, {
      lines: [
        { lineNo: 1, qty: 2 },
        { lineNo: 2, qty: 1 },
      ],
    });
    await t.payments.idle();
    const refund = t.sales.getSale(String(r.body.refundId));
    expect(refund.status).toBe('completed');
    expect(refund.payments.map((p) => [p.method, p.amount])).toEqual([
      ['code', 1500],
      ['cash', 1000],
    ]);
  });
});
