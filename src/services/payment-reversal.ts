import { refundDefinitelyRefused } from '../core/acquirer-codes.js';
import { lateReversalRefundId } from '../core/late-reversal-id.js';
import type { PaymentReversal } from '../offline/reversal-store.js';
import type { StoredPayment } from '../offline/sales-store.js';
import type { AcquirerResult, PaymentCore } from './payment-core.js';

/**
 * A QR paid after it was closed: the money came in (`payment.succeeded`, `paidAfterClose`) and
 * goes back by `refund.create`. It is a payment reversal, not a goods return: recorded
 * `payment.reversed {wasCaptured: true}` once the acquirer confirms, never `refund.completed`.
 * The reversal is committed with the success and retried until answered, with the same refundId
 * (derived from the payment, so a restored copy of the database sends it too).
 */
export function recordLateSuccess(core: PaymentCore, payment: StoredPayment, result: AcquirerResult): void {
  core.o.ledger.transact(() => {
    const current = core.mustGet(payment.paymentId);
    if (core.o.reversals.get(current.paymentId)) return;
    if (current.status !== 'closed' && current.status !== 'failed') return;
    const ref = result.acquirerRef ? { acquirerRef: result.acquirerRef } : {};
    core.o.sales.shiftInTransaction(); // both records move money: they belong to a shift
    core.o.store.setPaymentStatus(
      current.paymentId,
      current.status,
      { ...current.doc, ...ref, paidAfterClose: true },
      core.iso(),
    );
    core.o.ledger.append('payment.succeeded', {
      ...core.recordBody(current, ref),
      paidAfterClose: true,
    });
    core.o.reversals.insert({
      paymentId: current.paymentId,
      // The same on every copy of this database: a restored copy's retry is the same request.
      refundId: lateReversalRefundId(current.paymentId),
      amount: current.amount,
      reason: 'PAID_AFTER_CLOSE',
      at: core.iso(),
    });
  });
  const reversal = core.o.reversals.get(payment.paymentId);
  if (reversal?.status === 'pending') startReversal(core, reversal);
}

/** Sends a pending reversal unless one is running for that payment in this process. */
export function startReversal(core: PaymentCore, reversal: PaymentReversal): void {
  core.track(`reversal:${reversal.paymentId}`, () => runReversal(core, reversal));
}

async function runReversal(core: PaymentCore, reversal: PaymentReversal): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    if (core.stopping) return;
    const reply = await core.request('refund.create', {
      refundId: reversal.refundId,
      paymentId: reversal.paymentId,
      amount: reversal.amount,
    });
    if (reply.kind === 'ok') break;
    const error = reply.kind === 'error' ? reply.code : 'NO_REPLY';
    core.o.reversals.attempted(reversal.paymentId, error, core.iso());
    if (reply.kind === 'error' && refundDefinitelyRefused(reply.code)) {
      // Stays pending and shown to the technician: the customer is still owed this money.
      core.o.log.error(
        { paymentId: reversal.paymentId, code: reply.code },
        'reversal refused by the acquirer',
      );
    }
    if (!core.o.cloud.isOnline()) return; // resumes when the link returns
    await core.backoff(attempt);
  }
  const done = core.o.ledger.transact(() => {
    if (!core.o.reversals.markDone(reversal.paymentId, core.iso())) return false;
    const current = core.mustGet(reversal.paymentId);
    core.o.sales.shiftInTransaction();
    core.o.store.setPaymentStatus(current.paymentId, 'reversed', current.doc, core.iso());
    core.o.ledger.append(
      'payment.reversed',
      core.recordBody(current, {
        wasCaptured: true,
        reason: reversal.reason,
        refundId: reversal.refundId,
        amount: reversal.amount,
      }),
    );
    return true;
  });
  if (done) core.emit(core.mustGet(reversal.paymentId), 'REVERSED_AFTER_CLOSE');
}
