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
 * the window, its expiry (or now, if later) plus a margin, and `watchMs` its length. Durable, so a
 * restart resumes it.
 */
export function markWatched(core: PaymentCore, paymentId: string): void {
  const p = core.mustGet(paymentId);
  if (!isClosedQr(p) || p.doc.watchUntil || p.doc.paidAfterClose) return;
  const { qrExpirySeconds } = core.o.business().payments;
  const expiry =
    typeof p.doc.expiresAt === 'string'
      ? Date.parse(p.doc.expiresAt)
      : Date.parse(p.createdAt) + qrExpirySeconds * 1000;
  const now = core.now().getTime();
  const until = Math.max(expiry, now) + QR_WATCH_MARGIN_MS;
  const doc = { ...p.doc, watchUntil: new Date(until).toISOString(), watchMs: until - now };
  core.o.store.setPaymentStatus(paymentId, p.status, doc, core.iso());
}

/**
 * The window ends when the wall clock has passed `watchUntil` and this process has itself watched
 * for the window's length (monotonic), so a wall clock stepped ahead cannot cut it short. After a
 * restart the process watches one window more: more queries, never less money.
 */
function windowEnded(core: PaymentCore, p: StoredPayment, until: string): boolean {
  if (core.now().getTime() < Date.parse(until)) return false;
  const started = core.watchStartedAt.get(p.paymentId)!;
  const length = typeof p.doc.watchMs === 'number' ? p.doc.watchMs : QR_WATCH_MARGIN_MS;
  return core.monotonic() - started >= length;
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
      if (!core.watchStartedAt.has(paymentId)) core.watchStartedAt.set(paymentId, core.monotonic());
      const last = windowEnded(core, before, before.doc.watchUntil);
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
  core.watchStartedAt.delete(paymentId);
  const p = core.mustGet(paymentId);
  const { watchUntil: _, watchMs: __, ...doc } = p.doc;
  core.o.store.setPaymentStatus(paymentId, p.status, doc, core.iso());
}
