import type { TimerHandle, Timers } from '../../../../src/drivers/transport/timers.js';

/** Timers on a clock that only moves when the test says so. */
export class ManualTimers implements Timers {
  now = 0;
  private pending: Array<{ at: number; fn: () => void; handle: TimerHandle }> = [];

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = {};
    this.pending.push({ at: this.now + ms, fn, handle });
    return handle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    this.pending = this.pending.filter((p) => p.handle !== handle);
  }

  /** Moves the clock, firing due timers in order; awaits the async work each one starts. */
  async advance(ms: number): Promise<void> {
    const until = this.now + ms;
    for (;;) {
      this.pending.sort((a, b) => a.at - b.at);
      const next = this.pending[0];
      if (!next || next.at > until) break;
      this.pending.shift();
      this.now = next.at;
      next.fn();
      await settle();
    }
    this.now = until;
  }
}

/** Lets promise chains started by a timer (present(), open()) run to their end. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}
