import { paymentDefinitelyRefused } from '../core/acquirer-codes.js';
import type { StoredPayment } from '../offline/sales-store.js';
import type { PaymentCore } from './payment-core.js';

/**
 * A payment by the customer's code (mqtt-v1 "Code-payment rule"): create; on SUCCESS paid, on a
 * definite refusal failed; anything else (USERPAYING, no reply, an error that does not say the
 * customer was not charged) runs the rule: query every interval until the window ends, then reverse.
 */
export async function runCode(core: PaymentCore, payment: StoredPayment, authCode: string): Promise<void> {
  const reply = await core.request('payment.create', {
    paymentId: payment.paymentId,
    saleId: payment.saleId,
    method: 'code',
    channel: payment.channel,
    authCode,
    amount: payment.amount,
    currency: payment.doc.currency,
  });
  if (reply.kind === 'ok' && reply.result.status === 'SUCCESS') return core.succeed(payment, reply.result);
  if (reply.kind === 'ok' && reply.result.status === 'FAILED') return core.fail(payment, 'FAILED');
  if (reply.kind === 'error' && paymentDefinitelyRefused(reply.code)) return core.fail(payment, reply.code);
  await core.o.sleep(core.o.business().payments.queryDelayMs);
  await runRule(core, payment);
}

/**
 * Queries every interval until the rule's window (from the payment's commit) is over, then
 * reverses. Run after the create, and again after every restart and reconnect: a window already
 * over gets one query (the payment may have succeeded), then the reverse. With the link down the
 * payment is recorded `payment.pending` and the rule resumes when the link returns.
 */
export async function runRule(core: PaymentCore, payment: StoredPayment): Promise<void> {
  const { queryIntervalMs, resolveWithinMs } = core.o.business().payments;
  const started = Date.parse(payment.createdAt);
  for (;;) {
    if (core.stopping) return;
    const current = core.mustGet(payment.paymentId);
    if (current.status !== 'pending' && current.status !== 'unknown') return;
    const q = await core.request('payment.query', { paymentId: payment.paymentId });
    if (q.kind === 'ok') {
      const status = q.result.status;
      if (status === 'SUCCESS') return core.succeed(current, q.result);
      if (status === 'FAILED' || status === 'CLOSED' || status === 'REVERSED')
        return core.fail(current, status);
    }
    if (q.kind === 'unknown' && !core.o.cloud.isOnline()) {
      core.markUnknown(payment.paymentId);
      return;
    }
    if (core.now().getTime() - started >= resolveWithinMs) break;
    await core.o.sleep(queryIntervalMs);
  }
  await reverse(core, payment);
}

/** Reverses a code payment not known to have succeeded; retried with backoff until answered. */
export async function reverse(core: PaymentCore, payment: StoredPayment): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    if (core.stopping) return;
    const current = core.mustGet(payment.paymentId);
    if (current.status !== 'pending' && current.status !== 'unknown') return;
    const reply = await core.request('payment.reverse', { paymentId: payment.paymentId });
    if (reply.kind === 'ok' || (reply.kind === 'error' && reply.code === 'ORDER_NOT_FOUND')) {
      core.settle(current, 'reversed', 'payment.reversed', {});
      return;
    }
    if (!(await core.waitForLink(current, attempt))) return;
  }
}
