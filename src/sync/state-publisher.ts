import type { TimerHandle, Timers } from '../drivers/transport/timers.js';

export interface StatePublisherOptions {
  isConnected: () => boolean;
  /** The reported state as of now. */
  state: () => Record<string, unknown>;
  /** Publishes the retained `P/up/state`. */
  publish: (json: string) => Promise<void>;
  timers: Timers;
  now: () => number;
  /** At most one publish per this many ms, unless forced (mqtt-v1: once per second). */
  minIntervalMs?: number;
}

/**
 * `P/up/state` on connect and on change (mqtt-v1 "Reported state"): a forced publish goes at once;
 * a change waits out the rest of the interval, every change in it folded into one publish, and that
 * publish is skipped when the state (its `updatedAt` aside) is the one last sent.
 */
export class StatePublisher {
  private timer: TimerHandle | undefined;
  private forced = false;
  private lastAt = 0;
  private lastSent: string | undefined;

  constructor(private readonly o: StatePublisherOptions) {}

  request(force: boolean): void {
    if (!this.o.isConnected()) return;
    if (this.timer && (this.forced || !force)) return;
    this.o.timers.clearTimeout(this.timer);
    const wait = force ? 0 : Math.max(0, (this.o.minIntervalMs ?? 1_000) - (this.o.now() - this.lastAt));
    this.forced = force;
    this.timer = this.o.timers.setTimeout(() => this.fire(), wait);
  }

  stop(): void {
    this.o.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    const force = this.forced;
    this.timer = undefined;
    this.forced = false;
    if (!this.o.isConnected()) return;
    const state = this.o.state();
    const { updatedAt: _, ...content } = state;
    const key = JSON.stringify(content);
    if (!force && key === this.lastSent) return;
    this.lastAt = this.o.now();
    this.lastSent = key;
    this.o.publish(JSON.stringify(state)).catch(() => {
      // Not delivered: the same state asked again must go.
      if (this.lastSent === key) this.lastSent = undefined;
    });
  }
}
