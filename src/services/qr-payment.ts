import { paymentDefinitelyRefused } from '../core/acquirer-codes.js';
import type { StoredPayment } from '../offline/sales-store.js';
import type { CloudReply } from './cloud-port.js';
import type { AcquirerResult, PaymentCore } from './payment-core.js';
import { watchQr } from './qr-watch.js';

/** A dynamic QR: created, queried until our own expiry, then closed; paid only on SUCCESS. */
export async function runQr(core: PaymentCore, payment: StoredPayment): Promise<void> {
  const reply = await core.request('payment.create', {
    paymentId: payment.paymentId,
    saleId: payment.saleId,
    method: 'qr',
    channel: payment.channel,
    amount: payment.amount,
    currency: payment.doc.currency,
  });
  if (reply.kind === 'error' && paymentDefinitelyRefused(reply.code)) return core.fail(payment, reply.code);
  if (reply.kind !== 'ok') {
    // The QR may exist at the acquirer: close it so nobody can pay it later.
    return closeQr(core, payment, 'CREATE_UNANSWERED');
  }
  const { qrExpirySeconds, queryIntervalMs } = core.o.business().payments;
  const ourExpiry = core.now().getTime() + qrExpirySeconds * 1000;
  const expiresAt = new Date(ourExpiry).toISOString();
  const codeUrl = reply.result.codeUrl;
  const shown = core.o.ledger.transact(() => {
    const current = core.mustGet(payment.paymentId);
    if (current.status !== 'pending' || current.doc.cancelRequested) return false;
    core.o.store.setPaymentStatus(
      payment.paymentId,
      'pending',
      { ...current.doc, codeUrl, expiresAt },
      core.iso(),
    );
    return true;
  });
  if (!shown) return closeIfCancelled(core, payment.paymentId);
  core.emit(core.mustGet(payment.paymentId));
  while (!core.stopping && core.now().getTime() < ourExpiry) {
    await core.o.sleep(queryIntervalMs);
    const current = core.mustGet(payment.paymentId);
    if (current.doc.cancelRequested) return closeIfCancelled(core, payment.paymentId);
    if (current.status !== 'pending') return;
    const q = await core.request('payment.query', { paymentId: payment.paymentId });
    if (q.kind === 'ok' && q.result.status === 'SUCCESS') return core.succeed(current, q.result);
    if (q.kind === 'ok' && (q.result.status === 'CLOSED' || q.result.status === 'FAILED')) {
      core.fail(current, q.result.status);
      return watchQr(core, payment.paymentId);
    }
  }
  if (core.stopping) return;
  await closeQr(core, core.mustGet(payment.paymentId), 'EXPIRED');
}

/**
 * The cashier cancelled while this QR's loop ran: the loop closes it itself. The cancel's own
 * background close may have stopped with the link down, and a reconnect passes by a payment whose
 * loop still runs, so nobody else would.
 */
function closeIfCancelled(core: PaymentCore, paymentId: string): Promise<void> | undefined {
  const current = core.mustGet(paymentId);
  if (!current.doc.cancelRequested) return undefined;
  if (current.status !== 'pending' && current.status !== 'unknown') return undefined;
  if (core.inFlight.has(`close:${paymentId}`)) return undefined; // the cancel's close is still at it
  return closeQr(core, current, 'CANCELLED');
}

/** What one `payment.close` attempt settled: true when the payment has its final outcome. */
async function closeOnce(core: PaymentCore, payment: StoredPayment, reason: string): Promise<boolean> {
  const reply: CloudReply<AcquirerResult> = await core.request('payment.close', {
    paymentId: payment.paymentId,
  });
  if (reply.kind === 'ok') {
    if (reply.result.status === 'SUCCESS') core.succeed(payment, reply.result);
    else {
      core.settle(payment, 'closed', 'payment.failed', { reason });
      watchQr(core, payment.paymentId);
    }
    return true;
  }
  if (reply.kind === 'error' && reply.code === 'ORDER_PAID') {
    const q = await core.request('payment.query', { paymentId: payment.paymentId });
    if (q.kind === 'ok' && q.result.status === 'SUCCESS') {
      core.succeed(payment, q.result);
      return true;
    }
  }
  if (reply.kind === 'error' && reply.code === 'ORDER_NOT_FOUND') {
    core.settle(payment, 'closed', 'payment.failed', { reason });
    watchQr(core, payment.paymentId);
    return true;
  }
  return false;
}

/**
 * Closes an unpaid QR, retried with backoff until answered; if the acquirer says it was paid
 * meanwhile, the payment succeeded. With the link down it stops and resumes on reconnect.
 */
export async function closeQr(
  core: PaymentCore,
  payment: StoredPayment,
  reason: string,
  firstAttempt = 0,
): Promise<void> {
  for (let attempt = firstAttempt; ; attempt++) {
    if (core.stopping) return;
    const current = core.mustGet(payment.paymentId);
    if (current.status !== 'pending' && current.status !== 'unknown') return;
    if (await closeOnce(core, current, reason)) return;
    if (!(await core.waitForLink(current, attempt))) return;
  }
}

/** The cancel's one attempt, held under the close's key so the QR's own loop does not close beside it. */
async function firstClose(core: PaymentCore, key: string, payment: StoredPayment): Promise<boolean> {
  let done: () => void = () => {};
  core.inFlight.set(key, new Promise<void>((resolve) => (done = resolve)));
  try {
    return await closeOnce(core, payment, 'CANCELLED');
  } finally {
    core.inFlight.delete(key);
    done();
  }
}

/**
 * The cashier switches tender: one close attempt (bounded by the request deadline). Answered: the
 * payment is closed, or succeeded if paid first. Not answered: the payment stays unresolved and
 * `closing` (the sale stays blocked), the close is retried in the background until answered.
 */
export async function cancelQr(
  core: PaymentCore,
  payment: StoredPayment,
): Promise<{ payment: StoredPayment; closing: boolean }> {
  core.o.store.setPaymentStatus(
    payment.paymentId,
    payment.status,
    { ...payment.doc, cancelRequested: true },
    core.iso(),
  );
  const current = core.mustGet(payment.paymentId);
  const key = `close:${payment.paymentId}`;
  if (!core.inFlight.has(key) && (await firstClose(core, key, current))) {
    return { payment: core.mustGet(payment.paymentId), closing: false };
  }
  const after = core.mustGet(payment.paymentId);
  if (after.status !== 'pending' && after.status !== 'unknown') return { payment: after, closing: false };
  core.track(key, async () => {
    if (!(await core.waitForLink(after, 0))) return;
    await closeQr(core, after, 'CANCELLED', 1);
  });
  return { payment: after, closing: true };
}
