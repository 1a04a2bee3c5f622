import type { StoredPayment } from '../offline/sales-store.js';
import type { PaymentCore } from './payment-core.js';
import { recordLateSuccess } from './payment-reversal.js';

/** How long after a QR's own expiry a closed QR is still queried for a late payment. */
export const QR_WATCH_MARGIN_MS = 10 * 60_000;

export function isClosedQr(p: StoredPayment): boolean {
  return p.method === 'qr' && (p.status === 'closed' || p.status === 'failed');
}

/**
 * A QR just closed (or failed) is watched: `watchUntil` in its document (SQLite) holds the end of
 * the window, its expiry (or now, if later) plus a margin. Durable, so a restart resumes it.
 */
export function markWatched(core: PaymentCore, paymentId: string): void {
  const p = core.mustGet(paymentId);
  if (!isClosedQr(p) || p.doc.watchUntil || p.doc.paidAfterClose) return;
  const { qrExpirySeconds } = core.o.business().payments;
  const expiry =
    typeof p.doc.expiresAt === 'string'
      ? Date.parse(p.doc.expiresAt)
      : Date.parse(p.createdAt) + qrExpirySeconds * 1000;
  const until = Math.max(expiry, core.now().getTime()) + QR_WATCH_MARGIN_MS;
  const doc = { ...p.doc, watchUntil: new Date(until).toISOString() };
  core.o.store.setPaymentStatus(paymentId, p.status, doc, core.iso());
}

/**
 * Queries a watched QR with backoff until its window ends (then once more, until answered), so a
 * payment made after the close is found even if its only notify was lost. With the link down it
 * stops; the next restart or reconnect starts it again.
 */
export function watchQr(core: PaymentCore, paymentId: string): void {
  markWatched(core, paymentId);
  const key = `watch:${paymentId}`;
  core.track(key, async () => {
    for (let attempt = 0; ; attempt++) {
      if (core.stopping) return;
      const before = core.mustGet(paymentId);
      if (typeof before.doc.watchUntil !== 'string' || !isClosedQr(before)) return;
      const last = core.now().getTime() >= Date.parse(before.doc.watchUntil);
      const q = await core.request('payment.query', { paymentId });
      if (q.kind === 'ok' && q.result.status === 'SUCCESS') {
        const current = core.mustGet(paymentId);
        if (isClosedQr(current)) recordLateSuccess(core, current, q.result);
        return unwatch(core, paymentId);
      }
      if (q.kind !== 'unknown' && last) return unwatch(core, paymentId);
      if (q.kind === 'unknown' && !core.o.cloud.isOnline()) return; // resumes on reconnect
      await core.backoff(attempt);
    }
  });
}

function unwatch(core: PaymentCore, paymentId: string): void {
  const p = core.mustGet(paymentId);
  const { watchUntil: _, ...doc } = p.doc;
  core.o.store.setPaymentStatus(paymentId, p.status, doc, core.iso());
}
