import { describe, expect, it } from 'vitest';
import type { CloudReply } from '../../../src/services/cloud-port.js';
import { codeOf, paymentSetup, WECHAT } from '../../helpers/payment-setup.js';

/** Hostile review of the money fixes: scenarios tried; each test shows the rule holds. */

describe('found in review: scenarios that hold', () => {
  it('a late QR reversal refused for good (ORDER_NOT_PAID) stays owed and shown, is retried under one refundId, and is recorded once', async () => {
    const t = paymentSetup();
    t.shifts.open(0);
    const saleId = t.openSale(990);
    const { paymentId } = t.payments.startQr(saleId, 'wechat');
    await Promise.resolve();
    await t.payments.cancelQr(paymentId);
    t.sales.payCash(saleId, 990);
    t.acquirer.customerPaysQr(paymentId, true);
    t.acquirer.errorReplies.set('refund.create', ['ORDER_NOT_PAID']);
    t.acquirer.goOfflineAfter = 'refund.create'; // the second attempt's reply and the link are lost
    await t.payments.onNotify(paymentId);
    await t.payments.idle();
    // Still owed to the customer and shown to the technician: never dropped, never voided.
    expect(t.payments.moneyPending().pendingReversals).toMatchObject([{ paymentId, amount: 990 }]);
    // The shift is not blocked by money owed back: it closes, the reversal lands in the next one.
    expect(t.shifts.close(990).kind).toBe('Z');
    t.acquirer.goOnline();
    await t.payments.idle();
    const creates = t.acquirer.calls.filter((c) => c.op === 'refund.create');
    expect(creates.length).toBeGreaterThanOrEqual(3);
    expect(new Set(creates.map((c) => c.args.refundId)).size).toBe(1);
    expect(t.acquirer.refunds.size).toBe(1);
    expect(t.acquirer.netCaptured()).toBe(0);
    expect(t.payments.moneyPending().pendingReversals).toEqual([]);
    expect(t.ledger.recordsAfter(0, 80).filter((r) => r.type === 'payment.reversed')).toHaveLength(1);
  });

  it('split tender: cash part taken, the code part goes USERPAYING and the cashier voids: refused until reversed, then the void hands back the cash only', async () => {
    const t = paymentSetup(() => 'userpaying-forever');
    t.shifts.open(0);
    const saleId = t.openSale(2500);
    t.sales.payCash(saleId, 1000);
    const { paymentId } = t.payments.startCode(saleId, WECHAT('0'));
    await Promise.resolve();
    expect(codeOf(() => t.sales.voidSale(saleId, 'customer left'))).toBe('VOID_NOT_ALLOWED');
    await t.payments.idle();
    expect(t.paymentStatus(paymentId)).toBe('reversed');
    expect(t.acquirer.netCaptured()).toBe(0);
    t.sales.voidSale(saleId, 'customer left');
    const voided = t.ledger.recordsAfter(0, 80).find((r) => r.type === 'sale.voided')!;
    expect(voided.body).toMatchObject({ cashReturned: 1000 });
    expect(t.shifts.close(0).kind).toBe('Z');
  });

  it('a second refund while the first is unanswered cannot return the same money again', async () => {
    const t = paymentSetup();
    t.shifts.open(0);
    const saleId = t.openSale(2500);
    t.payments.startCode(saleId, WECHAT('0'));
    await t.payments.idle();
    t.acquirer.goOfflineAfter = 'refund.create'; // refunded at the acquirer, reply and link lost
    const first = t.refunds.refund(saleId, { lines: [{ lineNo: 1, qty: 1 }] });
    await t.payments.idle();
    expect(first.body.status).toBe('pending');
    expect(codeOf(() => t.refunds.refund(saleId, { lines: [{ lineNo: 1, qty: 1 }] }))).toMatch(
      /REFUND_EXCEEDS_REMAINING|QTY|REFUND/,
    );
    expect(codeOf(() => t.sales.voidSale(saleId, undefined))).toBe('VOID_NOT_ALLOWED');
    t.acquirer.goOnline();
    await t.payments.idle();
    expect(t.sales.getSale(String(first.body.refundId)).status).toBe('completed');
    expect(t.acquirer.refunds.size).toBe(1);
    expect(t.acquirer.netCaptured()).toBe(0);
  });
});

describe('found in review: a QR query that answers SUCCESS after the QR was closed', () => {
  it('is a late success: reversed, not dropped', async () => {
    const t = paymentSetup();
    t.shifts.open(0);
    const saleId = t.openSale(990);
    const { paymentId } = t.payments.startQr(saleId, 'wechat');
    // While the QR's query is on its way, the cashier cancels (closed) and the customer pays the stale QR.
    const request = t.acquirer.request.bind(t.acquirer);
    let armed = true;
    t.acquirer.request = async <T>(op: string, args: Record<string, unknown>): Promise<CloudReply<T>> => {
      if (armed && op === 'payment.query') {
        armed = false;
        expect((await t.payments.cancelQr(paymentId)).payment.status).toBe('closed');
        t.acquirer.customerPaysQr(paymentId, true);
      }
      return request<T>(op, args);
    };
    await t.payments.idle();
    expect(t.paymentStatus(paymentId)).toBe('reversed');
    expect(t.acquirer.netCaptured()).toBe(0);
    expect(t.payments.moneyPending().pendingReversals).toEqual([]);
    expect(t.ledger.recordsAfter(0, 80).filter((r) => r.type === 'payment.reversed')).toMatchObject([
      { body: { paymentId, wasCaptured: true, reason: 'PAID_AFTER_CLOSE' } },
    ]);
  });
});

describe('found in review: a notify while the code-payment rule is reversing', () => {
  it('does not show the sale paid when the reverse gave the money back', async () => {
    const t = paymentSetup(() => 'userpaying-forever');
    t.shifts.open(0);
    const saleId = t.openSale(2500);
    const { paymentId } = t.payments.startCode(saleId, WECHAT('0'));
    // The customer confirms at the last moment: the notify's query sees SUCCESS just before the
    // rule's reverse (already sent) reaches the acquirer and gives the money back.
    const request = t.acquirer.request.bind(t.acquirer);
    let armed = true;
    t.acquirer.request = async <T>(op: string, args: Record<string, unknown>): Promise<CloudReply<T>> => {
      if (armed && op === 'payment.reverse') {
        armed = false;
        t.acquirer.orders.get(paymentId)!.status = 'SUCCESS';
        await t.payments.onNotify(paymentId);
      }
      return request<T>(op, args);
    };
    await t.payments.idle();
    expect(t.acquirer.netCaptured()).toBe(0);
    expect(t.paymentStatus(paymentId)).toBe('reversed');
    expect(t.sales.getSale(saleId)).toMatchObject({ status: 'open', due: 2500 });
  });
});
