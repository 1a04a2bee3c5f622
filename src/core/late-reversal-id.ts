import { createHash } from 'node:crypto';

/**
 * The refundId of the automatic reversal of a QR paid after its close, derived from the payment
 * (mqtt-v1: requests are idempotent on their ids). Every copy of the database sends the same
 * request: a copy restored from a backup taken before the reversal, finding the late payment
 * again, gets the acquirer's answer to the refund already made instead of a refusal of a second.
 * UUIDv7 in form: the payment id's time prefix, then hash bits under the version and variant.
 */
export function lateReversalRefundId(paymentId: string): string {
  const h = createHash('sha256').update(`posd late reversal 1 ${paymentId}`).digest('hex');
  const hex = paymentId.replaceAll('-', '').toLowerCase();
  const time = /^[0-9a-f]{32}$/.test(hex) ? hex.slice(0, 12) : h.slice(0, 12);
  const variant = ((Number.parseInt(h[15] ?? '0', 16) & 0x3) | 0x8).toString(16);
  const s = `${time}7${h.slice(12, 15)}${variant}${h.slice(16, 31)}`;
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
