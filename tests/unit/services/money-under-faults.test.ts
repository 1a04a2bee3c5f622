import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/daemon.js';
import { paymentSetup, WECHAT } from '../../helpers/payment-setup.js';

/** Issue 12 "Money under faults": payment and refund cases, at the service level in fake time. */

/** A QR shown for a sale of 990 and closed, the sale then paid in cash: the QR is watched from here. */
async function closedQrSettledInCash(t: ReturnType<typeof paymentSetup>) {
  t.shifts.open(0);
  const saleId = t.openSale(990);
  const { paymentId } = t.payments.startQr(saleId, 'wechat');
  await Promise.resolve();
  expect((await t.payments.cancelQr(paymentId)).payment.status).toBe('closed');
  t.sales.payCash(saleId, 990);
  return { saleId, paymentId };
}

describe('an error reply to payment.create is an unknown outcome unless it says "not charged" (case 11)', () => {
  it('SYSTEMERROR after the acquirer charged: the query finds the money and the sale completes', async () => {
    const t = paymentSetup(() => 'success');
    const saleId = t.openSale();
    t.acquirer.errorReplies.set('payment.create', ['SYSTEMERROR']);
    const { paymentId } = t.payments.startCode(saleId, WECHAT('0'));
    await t.payments.idle();
    expect(t.acquirer.calls.map((c) => c.op)).toEqual(['payment.create', 'payment.query']);
    expect(t.paymentStatus(paymentId)).toBe('succeeded');
    expect(t.sales.getSale(saleId).status).toBe('completed');
    expect(t.acquirer.netCaptured()).toBe(2500);
  });

  it('BANKERROR while the customer never confirms: queries until 45 s, then reverses', async () => {
    const t = paymentSetup(() => 'userpaying-forever');
    const saleId = t.openSale();
    t.acquirer.errorReplies.set('payment.create', ['BANKERROR']);
    const started = t.acquirer.clock;
    const { paymentId } = t.payments.startCode(saleId, WECHAT('0'));
    await t.payments.idle();
    const ops = t.acquirer.calls.map((c) => c.op);
    expect(ops.filter((o) => o === 'payment.query')).toHaveLength(9);
    expect(ops.at(-1)).toBe('payment.reverse');
    expect(t.acquirer.clock - started).toBeGreaterThanOrEqual(45_000);
    expect(t.acquirer.orders.get(paymentId)!.status).toBe('REVERSED');
    expect(t.paymentStatus(paymentId)).toBe('reversed');
    expect(t.sales.getSale(saleId)).toMatchObject({ status: 'open', due: 2500 });
  });

  it('a definite refusal (AUTH_CODE_INVALID, NOTENOUGH) fails at once, with no query', async () => {
    for (const code of ['AUTH_CODE_INVALID', 'NOTENOUGH']) {
      const t = paymentSetup(() => 'failed');
      const saleId = t.openSale();
      t.acquirer.errorReplies.set('payment.create', [code]);
      const { paymentId } = t.payments.startCode(saleId, WECHAT('0'));
      await t.payments.idle();
      expect(t.acquirer.calls.map((c) => c.op)).toEqual(['payment.create']);
      expect(t.paymentStatus(paymentId)).toBe('failed');
      expect(t.ledger.recordsAfter(0, 20).at(-1)).toMatchObject({
        type: 'payment.failed',
        body: { reason: code },
      });
    }
  });

  it('a QR create answered SYSTEMERROR is closed (the QR may exist), not just dropped', async () => {
    const t = paymentSetup();
    const saleId = t.openSale(990);
    t.acquirer.errorReplies.set('payment.create', ['SYSTEMERROR']);
    const { paymentId } = t.payments.startQr(saleId, 'wechat');
    await t.payments.idle();
    const ops = t.acquirer.calls.map((c) => c.op);
    expect(ops.slice(0, 2)).toEqual(['payment.create', 'payment.close']);
    // Then only the watch of the closed QR (a payment made after its close).
    expect(ops.slice(2).every((op) => op === 'payment.query')).toBe(true);
    expect(t.acquirer.orders.get(paymentId)!.status).toBe('CLOSED');
    expect(t.paymentStatus(paymentId)).toBe('closed');
  });
});

describe('resolution after a restart or reconnect runs the rule to its end (case 5)', () => {
  it('after a restart, an unanswered first query does not stop it: queries on, reverses at 45 s', async () => {
    const t = paymentSetup(() => 'userpaying-forever');
    t.shifts.open(0);
    const saleId = t.openSale();
    const { paymentId } = t.payments.startCode(saleId, WECHAT('0'));
    await t.payments.stop(); // the daemon dies with the payment in flight
    t.db.close();
    const again = paymentSetup(() => 'userpaying-forever', t.dir, t.acquirer);
    t.acquirer.loseReplies.set('payment.query', 1);
    const created = Date.parse(again.payments.get(paymentId).createdAt);
    again.payments.resumeUnresolved();
    await again.payments.idle();
    expect(again.paymentStatus(paymentId)).toBe('reversed');
    expect(t.acquirer.orders.get(paymentId)!.status).toBe('REVERSED');
    expect(t.acquirer.clock - created).toBeGreaterThanOrEqual(45_000);
    expect(again.sales.getSale(saleId)).toMatchObject({ status: 'open', due: 2500 });
    expect(again.shifts.close(0).kind).toBe('Z');
  });

  it('on reconnect, an unanswered query does not stop it either; the reverse is retried until answered', async () => {
    const t = paymentSetup(() => 'userpaying-forever');
    t.shifts.open(0);
    const saleId = t.openSale();
    t.acquirer.goOfflineAfter = 'payment.create';
    const { paymentId } = t.payments.startCode(saleId, WECHAT('0'));
    await t.payments.idle();
    expect(t.paymentStatus(paymentId)).toBe('unknown');
    t.acquirer.loseReplies.set('payment.query', 1);
    t.acquirer.loseReplies.set('payment.reverse', 2); // and the reverse's replies are lost twice
    t.acquirer.goOnline();
    await t.payments.idle();
    expect(t.paymentStatus(paymentId)).toBe('reversed');
    expect(t.acquirer.calls.filter((c) => c.op === 'payment.reverse')).toHaveLength(3);
    expect(t.ledger.recordsAfter(0, 50).filter((r) => r.type === 'payment.reversed')).toHaveLength(1);
    expect(t.shifts.close(0).kind).toBe('Z');
  });

  it('a restart inside the window keeps querying at the interval and completes on a late SUCCESS', async () => {
    const t = paymentSetup(() => 'userpaying-forever');
    const saleId = t.openSale();
    const { paymentId } = t.payments.startCode(saleId, WECHAT('0'));
    await t.payments.stop();
    t.db.close();
    const again = paymentSetup(() => 'userpaying-forever', t.dir, t.acquirer);
    t.acquirer.loseReplies.set('payment.query', 2);
    again.payments.resumeUnresolved();
    // The customer confirms while the queries go unanswered.
    t.acquirer.orders.get(paymentId)!.status = 'SUCCESS';
    await again.payments.idle();
    expect(again.sales.getSale(saleId).status).toBe('completed');
    expect(t.acquirer.calls.filter((c) => c.op === 'payment.reverse')).toHaveLength(0);
  });
});

describe('a reverse whose reply is lost', () => {
  it('is retried while the link is up until answered, and recorded once', async () => {
    const t = paymentSetup(() => 'userpaying-forever');
    t.shifts.open(0);
    const saleId = t.openSale();
    t.acquirer.loseReplies.set('payment.reverse', 2);
    const { paymentId } = t.payments.startCode(saleId, WECHAT('0'));
    await t.payments.idle();
    expect(t.acquirer.calls.filter((c) => c.op === 'payment.reverse')).toHaveLength(3);
    expect(t.paymentStatus(paymentId)).toBe('reversed');
    expect(t.ledger.recordsAfter(0, 50).filter((r) => r.type === 'payment.reversed')).toHaveLength(1);
    expect(t.shifts.close(0).kind).toBe('Z');
  });
});

describe('bank card refunds are recorded at once, as cash is (case 2)', () => {
  it('online: card + cash refunded in one go, nothing sent to the acquirer', async () => {
    const t = paymentSetup();
    const saleId = t.openSale(3000);
    t.sales.payCard(saleId, 2000, 'SLIP-1');
    t.sales.payCash(saleId, 1000);
    const before = t.acquirer.calls.length;
    const r = t.refunds.refund(saleId, { lines: [{ lineNo: 1, qty: 1 }] });
    expect(r.status).toBe(201);
    expect(r.body.status).toBe('completed');
    await t.payments.idle();
    expect(t.acquirer.calls.length).toBe(before);
    const rec = t.ledger.recordsAfter(0, 50).find((x) => x.type === 'refund.completed')!;
    expect(rec.body).toMatchObject({
      total: 3000,
      payments: [
        { method: 'card', channel: 'card', amount: 2000 },
        { method: 'cash', amount: 1000 },
      ],
    });
    expect(t.sales.getSale(saleId).refundable).toBe(0);
  });

  it('offline: the card refund completes and the shift closes, also after a restart', async () => {
    const t = paymentSetup();
    t.shifts.open(0);
    const saleId = t.openSale(2000);
    t.sales.payCard(saleId, 2000, undefined);
    t.acquirer.online = false;
    const r = t.refunds.refund(saleId, { lines: [{ lineNo: 1, qty: 1 }] });
    expect(r.body.status).toBe('completed');
    await t.payments.stop();
    t.db.close();
    const again = paymentSetup(() => 'success', t.dir, t.acquirer);
    expect(again.sales.getSale(String(r.body.refundId)).status).toBe('completed');
    expect(again.shifts.close(0).kind).toBe('Z');
  });
});

describe('a refund over several channels keeps what was confirmed (case 3)', () => {
  /** A 25.00 sale paid member 10.00 + WeChat 15.00. */
  async function splitSale() {
    const t = paymentSetup();
    t.shifts.open(0);
    const saleId = t.openSale(2500);
    const member = t.payments.startMember(saleId, 'MB0001', 1000);
    await t.payments.idle();
    const wechat = t.payments.startCode(saleId, WECHAT('0'));
    await t.payments.idle();
    expect(t.sales.getSale(saleId).status).toBe('completed');
    return { t, saleId, member: member.paymentId, wechat: wechat.paymentId };
  }

  it('WeChat refunded, member refused: refund.completed with 15.00 back, 10.00 still refundable', async () => {
    const { t, saleId, member } = await splitSale();
    t.acquirer.refuseRefundOf.set(member, 'USER_ACCOUNT_ABNORMAL');
    const r = t.refunds.refund(saleId, { lines: [{ lineNo: 1, qty: 1 }] });
    await t.payments.idle();
    expect(t.acquirer.netCaptured()).toBe(1000);
    const refund = t.sales.getSale(String(r.body.refundId));
    expect(refund).toMatchObject({ status: 'completed', total: 1500 });
    const rec = t.ledger.recordsAfter(0, 50).find((x) => x.type === 'refund.completed')!;
    expect(rec.body).toMatchObject({
      total: 1500,
      partial: true,
      requestedTotal: 2500,
      payments: [{ channel: 'wechat', amount: 1500 }],
      unreturned: [{ channel: 'member', amount: 1000, reason: 'USER_ACCOUNT_ABNORMAL' }],
      lines: [{ lineNo: 1, qty: 1, amount: 1500 }],
    });
    // The X report shows what really moved: 15.00 of WeChat went back, member still holds 10.00.
    const x = t.shifts.currentReport().totals;
    expect(x.byTender).toMatchObject({ wechat: 0, member: 1000 });
    expect(x.refunds).toEqual({ count: 1, amount: 1500 });
    expect(t.sales.getSale(saleId).refundable).toBe(1000);

    // The member account is fixed; refunding the same line again returns exactly what is left.
    t.acquirer.refuseRefundOf.delete(member);
    const again = t.refunds.refund(saleId, { lines: [{ lineNo: 1, qty: 1 }] });
    await t.payments.idle();
    expect(again.body.total).toBe(1000);
    expect(t.sales.getSale(String(again.body.refundId)).status).toBe('completed');
    expect(t.acquirer.netCaptured()).toBe(0);
    expect(t.sales.getSale(saleId).refundable).toBe(0);
    expect(t.shifts.currentReport().totals.byTender).toMatchObject({ wechat: 0, member: 0 });
  });

  it('every part refused: the refund is voided and counts for nothing, so a retry is allowed', async () => {
    const { t, saleId, member, wechat } = await splitSale();
    t.acquirer.refuseRefundOf.set(member, 'USER_ACCOUNT_ABNORMAL');
    t.acquirer.refuseRefundOf.set(wechat, 'USER_ACCOUNT_ABNORMAL');
    const r = t.refunds.refund(saleId, { lines: [{ lineNo: 1, qty: 1 }] });
    await t.payments.idle();
    expect(t.sales.getSale(String(r.body.refundId)).status).toBe('voided');
    expect(t.ledger.recordsAfter(0, 50).filter((x) => x.type === 'refund.completed')).toHaveLength(0);
    expect(t.sales.getSale(saleId).refundable).toBe(2500);
    t.acquirer.refuseRefundOf.clear();
    const retry = t.refunds.refund(saleId, { lines: [{ lineNo: 1, qty: 1 }] });
    await t.payments.idle();
    expect(t.sales.getSale(String(retry.body.refundId))).toMatchObject({ status: 'completed', total: 2500 });
    expect(t.acquirer.netCaptured()).toBe(0);
  });

  it('an error that does not refuse (SYSTEMERROR) is retried under the same refundId, never voided', async () => {
    const { t, saleId } = await splitSale();
    t.acquirer.errorReplies.set('refund.create', ['SYSTEMERROR', 'SYSTEMERROR']);
    const r = t.refunds.refund(saleId, { lines: [{ lineNo: 1, qty: 1 }] });
    await t.payments.idle();
    const creates = t.acquirer.calls.filter((c) => c.op === 'refund.create');
    expect(creates).toHaveLength(4);
    expect(new Set(creates.map((c) => c.args.refundId)).size).toBe(2);
    expect(t.sales.getSale(String(r.body.refundId))).toMatchObject({ status: 'completed', total: 2500 });
    expect(t.acquirer.netCaptured()).toBe(0);
  });

  it('a refund whose reply is lost while online, then a restart, reuses its refundId', async () => {
    const { t, saleId } = await splitSale();
    t.acquirer.loseReplies.set('refund.create', 1);
    const r = t.refunds.refund(saleId, { lines: [{ lineNo: 1, qty: 1 }] });
    await t.payments.stop(); // the daemon dies while the first part is unanswered
    t.db.close();
    const again = paymentSetup(() => 'success', t.dir, t.acquirer);
    again.payments.resumeUnresolved();
    await again.payments.idle();
    expect(t.acquirer.refunds.size).toBe(2);
    expect(again.sales.getSale(String(r.body.refundId))).toMatchObject({ status: 'completed', total: 2500 });
    expect(t.acquirer.netCaptured()).toBe(0);
  });
});

describe('a QR paid after it was closed is reversed durably (case 4)', () => {
  /** A QR shown, cancelled (closed), the sale paid in cash, then the customer pays the stale QR. */
  async function paidAfterClose(t = paymentSetup()) {
    const { saleId, paymentId } = await closedQrSettledInCash(t);
    t.acquirer.customerPaysQr(paymentId, true);
    return { t, saleId, paymentId };
  }

  it('lost replies while online: retried with backoff under one refundId until answered', async () => {
    const { t, paymentId } = await paidAfterClose();
    t.acquirer.loseReplies.set('refund.create', 3);
    const before = t.acquirer.clock;
    await t.payments.onNotify(paymentId);
    await t.payments.idle();
    const creates = t.acquirer.calls.filter((c) => c.op === 'refund.create');
    expect(creates).toHaveLength(4);
    expect(new Set(creates.map((c) => c.args.refundId)).size).toBe(1);
    // Backoff: 5 s, 10 s, 20 s between the four attempts.
    expect(t.acquirer.clock - before).toBeGreaterThanOrEqual(35_000);
    expect(t.acquirer.netCaptured()).toBe(0);
    expect(t.payments.moneyPending().pendingReversals).toEqual([]);
  });

  it('the link drops and the daemon restarts: the reversal is resumed from SQLite, shown until done', async () => {
    const { t, paymentId } = await paidAfterClose();
    t.acquirer.goOfflineAfter = 'refund.create'; // the acquirer refunds; reply and link are lost
    await t.payments.onNotify(paymentId);
    await t.payments.idle();
    expect(t.payments.moneyPending().pendingReversals).toMatchObject([{ paymentId, amount: 990 }]);
    await t.payments.stop();
    t.db.close();
    const again = paymentSetup(() => 'success', t.dir, t.acquirer);
    expect(again.payments.moneyPending().pendingReversals).toMatchObject([{ paymentId, amount: 990 }]);
    t.acquirer.goOnline();
    await again.payments.idle();
    const creates = t.acquirer.calls.filter((c) => c.op === 'refund.create');
    expect(creates).toHaveLength(2);
    expect(new Set(creates.map((c) => c.args.refundId)).size).toBe(1);
    expect(t.acquirer.refunds.size).toBe(1);
    expect(t.acquirer.netCaptured()).toBe(0);
    expect(again.payments.moneyPending().pendingReversals).toEqual([]);
    expect(again.paymentStatus(paymentId)).toBe('reversed');
  });

  it('is a payment reversal, not a goods return: no refund counted, the X report nets to zero', async () => {
    const { t, paymentId } = await paidAfterClose();
    await t.payments.onNotify(paymentId);
    await t.payments.idle();
    const records = t.ledger.recordsAfter(0, 50);
    expect(records.filter((r) => r.type === 'refund.completed')).toHaveLength(0);
    expect(records.filter((r) => r.type === 'payment.reversed')).toMatchObject([
      { body: { paymentId, wasCaptured: true, reason: 'PAID_AFTER_CLOSE', amount: 990 } },
    ]);
    const x = t.shifts.currentReport().totals;
    expect(x.refunds).toEqual({ count: 0, amount: 0 });
    expect(x.byTender).toMatchObject({ wechat: 0, cash: 990 });
    expect(x.sales).toEqual({ count: 1, amount: 990 });
  });

  it("the notify's query goes unanswered and the daemon restarts: the late success is still found", async () => {
    const { t, paymentId } = await paidAfterClose();
    t.acquirer.goOfflineAfter = 'payment.query'; // the query's reply and the link are lost
    await t.payments.onNotify(paymentId);
    await t.payments.idle();
    await t.payments.stop();
    t.db.close();
    const again = paymentSetup(() => 'success', t.dir, t.acquirer);
    t.acquirer.loseReplies.set('payment.query', 1); // and the first query after the restart too
    t.acquirer.goOnline();
    await again.payments.idle();
    expect(again.paymentStatus(paymentId)).toBe('reversed');
    expect(t.acquirer.netCaptured()).toBe(0);
    expect(again.payments.get(paymentId).doc.lateCheck).toBeUndefined();
  });

  it('the only notify is lost in a crash: the watched closed QR is queried after the restart and reversed', async () => {
    const t = paymentSetup();
    const { paymentId } = await closedQrSettledInCash(t);
    expect(t.payments.get(paymentId).doc.watchUntil).toEqual(expect.any(String));
    t.acquirer.online = false; // the crash: the watch stops, the notify is never stored
    await t.payments.stop();
    t.db.close();
    t.acquirer.customerPaysQr(paymentId, true);
    const again = paymentSetup(() => 'success', t.dir, t.acquirer);
    t.acquirer.goOnline();
    await again.payments.idle();
    expect(again.paymentStatus(paymentId)).toBe('reversed');
    expect(t.acquirer.netCaptured()).toBe(0);
    expect(again.payments.get(paymentId).doc.watchUntil).toBeUndefined();
  });

  it('a closed QR paid within its watch, notify lost, no crash: found by the watch and reversed', async () => {
    const t = paymentSetup();
    const { paymentId } = await closedQrSettledInCash(t);
    t.acquirer.customerPaysQr(paymentId, true);
    await t.payments.idle();
    expect(t.paymentStatus(paymentId)).toBe('reversed');
    expect(t.acquirer.netCaptured()).toBe(0);
  });

  it('the watch of a closed QR ends after its window: no query runs for ever', async () => {
    const t = paymentSetup();
    const saleId = t.openSale(990);
    const { paymentId } = t.payments.startQr(saleId, 'wechat');
    await Promise.resolve();
    const start = t.acquirer.clock;
    expect((await t.payments.cancelQr(paymentId)).payment.status).toBe('closed');
    await t.payments.idle();
    expect(t.payments.get(paymentId).doc.watchUntil).toBeUndefined();
    // Watched until its expiry (120 s) plus the margin (10 min), not much longer.
    expect(t.acquirer.clock - start).toBeGreaterThanOrEqual(720_000);
    expect(t.acquirer.clock - start).toBeLessThan(720_000 + 61_000);
  });

  // Money simulation seed 700919: the wall clock stepped ahead past the window right after the close,
  // the watch took its last query at once and ended; the customer paid later, the notify was lost.
  it("the terminal's wall clock jumps 70 min ahead after the close: a payment 80 s later is still found by the watch", async () => {
    const t = paymentSetup();
    const { paymentId } = await closedQrSettledInCash(t);
    t.acquirer.wallJump = 70 * 60_000; // NTP step: past `watchUntil` before the watch's first query
    t.acquirer.after(80_000, () => t.acquirer.customerPaysQr(paymentId, true)); // its notify is lost
    await t.payments.idle();
    expect(t.acquirer.calls.filter((c) => c.op === 'payment.query').length).toBeGreaterThan(1);
    expect(t.paymentStatus(paymentId)).toBe('reversed');
    expect(t.acquirer.netCaptured()).toBe(0);
    expect(t.payments.get(paymentId).doc.watchUntil).toBeUndefined();
  });

  // Money simulation seeds 500135, 11391: the database was restored from a backup taken before the
  // late payment; the lost one had reversed it. The copy found the payment again and refunded it under
  // a new refundId, which the acquirer refused as refunded already, for ever (or refunded twice).
  it('a copy restored from before the late payment reverses it under the same refundId: one refund at the acquirer, done', async () => {
    const t = paymentSetup();
    const { paymentId } = await closedQrSettledInCash(t);
    const backup = tempDir('posd-backup-');
    t.db.exec(`VACUUM INTO '${join(backup, 'posd.db')}'`);
    t.acquirer.customerPaysQr(paymentId, true);
    await t.payments.onNotify(paymentId);
    await t.payments.idle();
    expect(t.paymentStatus(paymentId)).toBe('reversed');
    t.acquirer.online = false; // the disk is lost
    await t.payments.stop();
    t.db.close();
    const copy = paymentSetup(() => 'success', backup, t.acquirer);
    expect(copy.paymentStatus(paymentId)).toBe('closed'); // watched: the copy queries it again
    t.acquirer.goOnline();
    await copy.payments.idle();
    expect(copy.paymentStatus(paymentId)).toBe('reversed');
    const creates = t.acquirer.calls.filter((c) => c.op === 'refund.create');
    expect(new Set(creates.map((c) => c.args.refundId)).size).toBe(1);
    expect(String(creates[0]?.args.refundId)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(t.acquirer.refunds.size).toBe(1);
    expect(t.acquirer.netCaptured()).toBe(0);
    expect(copy.payments.moneyPending().pendingReversals).toEqual([]);
  });

  it('a duplicate SUCCESS notify, even at the same moment, reverses once', async () => {
    const { t, paymentId } = await paidAfterClose();
    await Promise.all([t.payments.onNotify(paymentId), t.payments.onNotify(paymentId)]);
    await t.payments.onNotify(paymentId);
    await t.payments.idle();
    const creates = t.acquirer.calls.filter((c) => c.op === 'refund.create');
    expect(new Set(creates.map((c) => c.args.refundId)).size).toBe(1);
    expect(t.acquirer.netCaptured()).toBe(0);
    const records = t.ledger.recordsAfter(0, 50);
    expect(records.filter((r) => r.type === 'payment.succeeded' && r.body.paidAfterClose)).toHaveLength(1);
    expect(records.filter((r) => r.type === 'payment.reversed')).toHaveLength(1);
  });
});

describe('cancelling a QR whose close keeps failing answers at once (case 13)', () => {
  it('returns closing after one attempt; the sale stays blocked; the close goes on until answered', async () => {
    const t = paymentSetup();
    const saleId = t.openSale(990);
    const { paymentId } = t.payments.startQr(saleId, 'wechat');
    await Promise.resolve();
    t.acquirer.errorReplies.set('payment.close', Array(20).fill('SYSTEMERROR'));
    const result = await t.payments.cancelQr(paymentId);
    expect(result.closing).toBe(true);
    expect(result.payment.status).toBe('pending');
    expect(t.acquirer.calls.filter((c) => c.op === 'payment.close').length).toBeLessThanOrEqual(1);
    // The sale is still blocked for another tender while the QR is closing.
    expect(() => t.payments.startCode(saleId, WECHAT('0'))).toThrow(/unresolved/);
    await t.payments.idle();
    expect(t.acquirer.calls.filter((c) => c.op === 'payment.close')).toHaveLength(21);
    expect(t.paymentStatus(paymentId)).toBe('closed');
    expect(t.acquirer.orders.get(paymentId)!.status).toBe('CLOSED');
    expect(t.sales.payCash(saleId, 990).body.saleStatus).toBe('completed');
  });

  it('a customer paying while the close is retried makes the QR count for the sale', async () => {
    const t = paymentSetup();
    const saleId = t.openSale(990);
    const { paymentId } = t.payments.startQr(saleId, 'wechat');
    await Promise.resolve();
    t.acquirer.errorReplies.set('payment.close', ['SYSTEMERROR', 'SYSTEMERROR']);
    expect((await t.payments.cancelQr(paymentId)).closing).toBe(true);
    t.acquirer.customerPaysQr(paymentId, true); // paid before any close was answered
    await t.payments.idle();
    expect(t.sales.getSale(saleId).status).toBe('completed');
    expect(t.acquirer.netCaptured()).toBe(990);
  });
});

describe('a card refund part left pending by an older version', () => {
  it('is recorded at the next start, even offline, and the shift closes', async () => {
    const t = paymentSetup();
    t.shifts.open(0);
    const saleId = t.openSale(2000);
    t.sales.payCard(saleId, 2000, undefined);
    const r = t.refunds.refund(saleId, { lines: [{ lineNo: 1, qty: 1 }] });
    // What an older version stored: the card part pending, the refund open.
    t.db.prepare("UPDATE sales SET status = 'open', receipt_no = NULL WHERE id = ?").run(r.body.refundId);
    t.db.prepare("UPDATE payments SET status = 'pending' WHERE sale_id = ?").run(r.body.refundId);
    await t.payments.stop();
    t.db.close();
    t.acquirer.online = false;
    const again = paymentSetup(() => 'success', t.dir, t.acquirer);
    again.payments.resumeUnresolved();
    await again.payments.idle();
    expect(again.sales.getSale(String(r.body.refundId)).status).toBe('completed');
    expect(again.shifts.close(0).kind).toBe('Z');
  });
});

describe('money moving after the shift of its sale closed is in the next Z report', () => {
  it('a code payment, a cash payment and a late QR reversal each land in an open shift', async () => {
    const t = paymentSetup();
    t.shifts.open(0);
    const byCode = t.openSale(2500);
    const byCash = t.openSale(1000);
    const qrSale = t.openSale(990);
    const { paymentId: qr } = t.payments.startQr(qrSale, 'wechat');
    await Promise.resolve();
    expect((await t.payments.cancelQr(qr)).payment.status).toBe('closed');
    t.shifts.close(0); // the sales stay open; their shift is closed
    t.payments.startCode(byCode, WECHAT('0'));
    await t.payments.idle();
    t.sales.payCash(byCash, 1000);
    t.acquirer.customerPaysQr(qr, true);
    await t.payments.onNotify(qr);
    await t.payments.idle();
    const records = t.ledger.recordsAfter(0, 100);
    let open = false;
    for (const r of records) {
      if (r.type === 'shift.opened') open = true;
      else if (r.type === 'shift.closed') open = false;
      else if (r.type === 'payment.succeeded' || r.type === 'payment.reversed')
        expect(open, `${r.type} ${String(r.body.paymentId)} outside any shift`).toBe(true);
    }
    expect(t.shifts.currentReport().totals.byTender).toMatchObject({ wechat: 2500, cash: 1000 });
  });
});
