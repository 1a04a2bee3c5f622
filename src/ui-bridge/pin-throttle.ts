import { PosError } from '../errors.js';

const FREE_TRIES = 5;
const MAX_DELAY_MS = 5 * 60_000;

/**
 * Wrong PINs: five free tries, then each further wrong one locks sign-in for a doubling delay (1 s,
 * 2 s, 4 s … 5 min). A right PIN resets it. One counter for the terminal: everything is local.
 */
export class PinThrottle {
  private failures = 0;
  private lockedUntil = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Throws PIN_LOCKED while locked. */
  check(): void {
    const wait = this.lockedUntil - this.now();
    if (wait > 0) {
      throw new PosError('PIN_LOCKED', `too many wrong PINs; try again in ${Math.ceil(wait / 1000)} s`, {
        retryAfterMs: wait,
      });
    }
  }

  failed(): void {
    this.failures += 1;
    if (this.failures >= FREE_TRIES) {
      const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** (this.failures - FREE_TRIES));
      this.lockedUntil = this.now() + delay;
    }
  }

  succeeded(): void {
    this.failures = 0;
    this.lockedUntil = 0;
  }
}
