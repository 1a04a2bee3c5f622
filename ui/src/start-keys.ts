import { ApiError, newIdempotencyKey } from './api.js';

/** No answer came (the network, or a daemon that failed after it may have committed). */
function unanswered(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 0 || err.status >= 500);
}

/**
 * The Idempotency-Key of each code, QR or member payment start. A start that got no answer may
 * have reached the daemon: the same start (sale, tender, code) tried again sends the same key, so
 * the daemon answers with the payment already under way instead of refusing another.
 */
export class StartKeys {
  private last: { start: string; key: string } | undefined;

  keyFor(start: string): string {
    return this.last?.start === start ? this.last.key : newIdempotencyKey();
  }

  /**
   * Nothing is left unanswered: a start was answered with its payment (any earlier one was resolved:
   * the daemon allows one at a time), or a payment of the sale ended while none was shown as under
   * way (the unanswered start's, most likely).
   */
  forget(): void {
    this.last = undefined;
  }

  failed(start: string, key: string, err: unknown): void {
    if (unanswered(err)) this.last = { start, key };
    // An earlier start is still under way: proof that it arrived, so its key is kept.
    else if (err instanceof ApiError && err.code === 'PAYMENT_UNRESOLVED') return;
    else if (this.last?.start === start) this.last = undefined;
  }
}
