import type { TimerHandle, Timers } from '../../src/drivers/transport/timers.js';

interface Pending {
  at: number;
  fn: () => void;
  handle: TimerHandle;
}

/** Timers on a clock that only moves when the test says so. */
export class ManualTimers implements Timers {
  now = 0;
  private pending: Pending[] = [];

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = {};
    this.pending.push({ at: this.now + ms, fn, handle });
    return handle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    this.pending = this.pending.filter((p) => p.handle !== handle);
  }

  /** Delays of the timers waiting now, soonest first. */
  delays(): number[] {
    return this.pending.map((p) => p.at - this.now).sort((a, b) => a - b);
  }

  /** Moves the clock, firing due timers in order (and timers they set that fall due too). */
  advance(ms: number): void {
    const until = this.now + ms;
    while (this.fireNext(until)) {}
    this.now = until;
  }

  /** As advance(), and awaits the async work each timer starts before firing the next. */
  async advanceSettled(ms: number): Promise<void> {
    const until = this.now + ms;
    while (this.fireNext(until)) await settle();
    this.now = until;
  }

  /**
   * Fires the first waiting timer set for `ms` from now, the clock standing still (a timer of 0
   * for the next turn, without the ones of 2 s); false when there is none.
   */
  fireSetFor(ms: number): boolean {
    const next = this.pending.find((p) => p.at - this.now === ms);
    if (!next) return false;
    this.pending.splice(this.pending.indexOf(next), 1);
    next.fn();
    return true;
  }

  /** Fires the soonest timer due by `until`; false when there is none. */
  private fireNext(until: number): boolean {
    this.pending.sort((a, b) => a.at - b.at);
    const next = this.pending[0];
    if (!next || next.at > until) return false;
    this.pending.shift();
    this.now = next.at;
    next.fn();
    return true;
  }
}

/** Lets promise chains started by a timer (present(), open()) run to their end. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}
