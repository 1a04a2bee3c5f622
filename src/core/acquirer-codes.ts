/**
 * Acquirer error codes that say for certain that no money moved. Any other error (SYSTEMERROR,
 * BANKERROR, a timeout, a code we do not know) leaves the outcome unknown: the payment is queried
 * and then reversed, a refund is retried under the same refundId. The lists stay short on purpose:
 * a code wrongly listed here could leave a customer charged with the sale unpaid.
 */
const PAYMENT_NOT_CHARGED: ReadonlySet<string> = new Set([
  // WeChat Pay micropay business refusals (the payment was not made).
  'AUTH_CODE_INVALID',
  'AUTH_CODE_ERROR',
  'AUTHCODEEXPIRE',
  'NOTENOUGH',
  'NOT_ENOUGH',
  'NOTSUPORTCARD',
  'PAYER_ACCOUNT_ABNORMAL',
  'BUYER_MISMATCH',
  'PARAM_ERROR',
  'LACK_PARAMS',
  // Alipay face-to-face refusals.
  'ACQ.PAYMENT_AUTH_CODE_INVALID',
  'ACQ.BUYER_BALANCE_NOT_ENOUGH',
  'ACQ.BUYER_BANKCARD_BALANCE_NOT_ENOUGH',
  'ACQ.BUYER_ENABLE_STATUS_FORBID',
  // The reference cloud's refusals of a request it did not act on.
  'INVALID_REQUEST',
  'MEMBER_UNKNOWN',
]);

/** Refund refusals that will not change on a retry (nothing was returned). */
const REFUND_REFUSED: ReadonlySet<string> = new Set([
  'ORDER_NOT_PAID',
  'REFUND_EXCEEDS',
  'INVALID_REQUEST',
  'PARAM_ERROR',
  'USER_ACCOUNT_ABNORMAL',
  'MEMBER_UNKNOWN',
]);

/** Whether an error reply to `payment.create` means the customer was definitely not charged. */
export function paymentDefinitelyRefused(code: string): boolean {
  return PAYMENT_NOT_CHARGED.has(code);
}

/** Whether an error reply to `refund.create` means the refund was refused for good. */
export function refundDefinitelyRefused(code: string): boolean {
  return REFUND_REFUSED.has(code);
}

/** Wait before retry `attempt` (0, 1, …) of a request that must be retried until answered. */
export function retryBackoffMs(attempt: number, baseMs: number, maxMs = 60_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
}
