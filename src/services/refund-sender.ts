import { refundDefinitelyRefused } from '../core/acquirer-codes.js';
import type { PaymentCore } from './payment-core.js';

/**
 * Sends a refund sale's electronic parts to the acquirer, each under its own refundId (its payment
 * id) on every retry. A part the acquirer refuses for good is failed and the others go on; the
 * refund then completes with what was returned (refund-service decides). An unanswered part is
 * retried while the link is up (1, 2, then every 4 query intervals), and resumes on reconnect or
 * restart when it is down.
 */
export async function runRefund(core: PaymentCore, refundSaleId: string): Promise<void> {
  const waiting = core.o.store
    .paymentsWithDocOf(refundSaleId)
    .filter((p) => p.status === 'pending' || p.status === 'unknown');
  for (const p of waiting) {
    if (p.method === 'card' || p.method === 'cash') {
      // Given back at the counter (card: on the separate card terminal): recorded as it is done.
      settlePart(core, refundSaleId, p.paymentId, 'refunded', p.doc);
      continue;
    }
    for (let attempt = 0; ; attempt++) {
      if (core.stopping) return;
      const reply = await core.request('refund.create', {
        refundId: p.paymentId,
        paymentId: p.doc.refundOf,
        amount: p.amount,
      });
      if (reply.kind === 'ok') {
        settlePart(core, refundSaleId, p.paymentId, 'refunded', p.doc);
        core.emit(core.mustGet(p.paymentId));
        break;
      }
      if (reply.kind === 'error' && refundDefinitelyRefused(reply.code)) {
        settlePart(core, refundSaleId, p.paymentId, 'failed', { ...p.doc, reason: reply.code });
        core.emit(core.mustGet(p.paymentId), reply.code);
        break;
      }
      if (!core.o.cloud.isOnline()) {
        core.o.store.setPaymentStatus(p.paymentId, 'unknown', p.doc, core.iso());
        return; // resumes with the same refundId when the link returns
      }
      // The cashier and the customer wait at the counter while the link is up: retried at most
      // 4 query intervals apart (one small idempotent request), not backed off to a minute.
      await core.backoff(Math.min(attempt, 2));
    }
  }
  core.o.sales.announceSale(refundSaleId);
}

/** A part's outcome and, when it was the last one, the refund's: one transaction. */
function settlePart(
  core: PaymentCore,
  refundSaleId: string,
  paymentId: string,
  status: 'refunded' | 'failed',
  doc: Record<string, unknown>,
): void {
  core.o.ledger.transact(() => {
    core.o.store.setPaymentStatus(paymentId, status, doc, core.iso());
    core.o.refunds.settleRefundInTransaction(refundSaleId);
  });
}
