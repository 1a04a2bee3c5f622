import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PosError } from '../errors.js';

const FREE_TRIES = 5;
const MAX_DELAY_MS = 5 * 60_000;

export interface ThrottleState {
  failures: number;
  lockedUntil: number;
}

/** Where the count lives between restarts. */
export interface ThrottleStore {
  load(): ThrottleState | undefined;
  save(state: ThrottleState): void;
}

/**
 * Wrong PINs: five free tries, then each further wrong one locks sign-in for a doubling delay (1 s,
 * 2 s, 4 s … 5 min). A right PIN resets it. One counter for the terminal: everything is local. With
 * a store the count survives a restart, so pulling the plug does not buy more tries.
 */
export class PinThrottle {
  private failures = 0;
  private lockedUntil = 0;
  private loaded = false;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly store?: ThrottleStore,
  ) {}

  /** Throws PIN_LOCKED while locked. */
  check(): void {
    this.load();
    const wait = this.lockedUntil - this.now();
    if (wait > 0) {
      throw new PosError('PIN_LOCKED', `too many wrong PINs; try again in ${Math.ceil(wait / 1000)} s`, {
        retryAfterMs: wait,
      });
    }
  }

  failed(): void {
    this.load();
    this.failures += 1;
    if (this.failures >= FREE_TRIES) {
      const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** Math.min(this.failures - FREE_TRIES, 20));
      this.lockedUntil = this.now() + delay;
    }
    this.save();
  }

  succeeded(): void {
    this.load();
    if (this.failures === 0 && this.lockedUntil === 0) return;
    this.failures = 0;
    this.lockedUntil = 0;
    this.save();
  }

  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    const s = this.store?.load();
    if (s) {
      this.failures = s.failures;
      this.lockedUntil = s.lockedUntil;
    }
  }

  private save(): void {
    this.store?.save({ failures: this.failures, lockedUntil: this.lockedUntil });
  }
}

/** `{stateDir}/pin-throttle.json` (or `name`), written whole (temp file and rename), mode 0600. */
export function fileThrottleStore(stateDir: string, name = 'pin-throttle.json'): ThrottleStore {
  const file = join(stateDir, name);
  return {
    load: () => {
      try {
        const s = JSON.parse(readFileSync(file, 'utf8')) as Partial<ThrottleState>;
        const failures = Number.isSafeInteger(s.failures) && s.failures! >= 0 ? s.failures! : 0;
        const lockedUntil = Number.isFinite(s.lockedUntil) ? Number(s.lockedUntil) : 0;
        return { failures, lockedUntil };
      } catch {
        return undefined; // none yet (or unreadable: start from zero, as before this file existed)
      }
    },
    save: (state) => {
      const tmp = `${file}.tmp`;
      try {
        writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
        renameSync(tmp, file);
      } catch {
        // A full or read-only disk must not refuse sign-ins: the count still holds in memory.
      }
    },
  };
}
