/** Stable error codes: callers branch on these, never on message text. */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'STATE_LOCKED'
  | 'STATE_DIR_UNUSABLE'
  | 'DB_NEWER_THAN_CODE'
  | 'DB_MIGRATION_FAILED'
  | 'STORAGE_FULL'
  | 'STORAGE_READ_ONLY'
  | 'STORAGE_FAILED'
  | 'BAD_REQUEST'
  | 'VALIDATION_FAILED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'CONFLICT'
  | 'SALE_NOT_FOUND'
  | 'SALE_NOT_OPEN'
  | 'SALE_EMPTY'
  | 'AMOUNT_INVALID'
  | 'TENDER_INSUFFICIENT'
  | 'TENDER_NOT_SUPPORTED'
  | 'CHANGE_NOT_ALLOWED'
  | 'DISCOUNT_INVALID'
  | 'VOID_NOT_ALLOWED'
  | 'REFUND_EXCEEDS_REMAINING'
  | 'REFUND_NOT_ALLOWED'
  | 'PAYMENT_UNRESOLVED'
  | 'SHIFT_ALREADY_OPEN'
  | 'OFFLINE_LIMIT'
  | 'COUPON_INVALID'
  | 'COUPON_RESERVED'
  | 'COUPON_OFFLINE'
  | 'COUPON_UNCONFIRMED'
  | 'NOTHING_TO_PAY'
  | 'RECHARGE_OFFLINE'
  | 'RECHARGE_REFUSED'
  | 'NO_OPEN_SHIFT'
  | 'ORDER_PREPAID'
  | 'ORDER_ALREADY_PAID'
  | 'ORDER_CANCELLED'
  | 'ORDER_IN_PAYMENT'
  | 'ORDER_PRICED'
  | 'IDEMPOTENCY_MISMATCH'
  | 'DEVICE_URI_INVALID'
  | 'PRINTER_PAPER_OUT'
  | 'PRINTER_COVER_OPEN'
  | 'PRINTER_OFFLINE'
  | 'DEVICE_NOT_FOUND'
  | 'DEVICE_BUSY'
  | 'DEVICE_UNAVAILABLE'
  | 'DEVICE_DISCONNECTED'
  | 'DEVICE_TIMEOUT'
  | 'PRINTER_ERROR'
  | 'PIN_WRONG'
  | 'PIN_LOCKED'
  | 'UPGRADE_REQUIRED'
  | 'MISDIRECTED_REQUEST'
  | 'APP_PACKAGE_INVALID'
  | 'APP_NOT_FOUND'
  | 'APP_DOWNLOAD_FAILED'
  | 'SCOPE_DENIED'
  | 'UPDATE_SAME_VERSION'
  | 'UPDATE_IN_PROGRESS'
  | 'UPDATE_NO_SPACE'
  | 'UPDATE_NOT_READY'
  | 'UPDATE_RESTARTING'
  | 'INTERNAL';

export class PosError extends Error {
  readonly code: ErrorCode;
  readonly context: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'PosError';
    this.code = code;
    this.context = context;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isPosError(err: unknown, code?: ErrorCode): err is PosError {
  return err instanceof PosError && (code === undefined || err.code === code);
}

/** The message of anything thrown, for logs and replies. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
