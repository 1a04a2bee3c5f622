import type { CloudPort, Sleep } from './cloud-port.js';

/** One pass over queued work: `done` when nothing is left, `retry` when a reply did not come. */
export type DrainStep = () => Promise<'done' | 'retry'>;

export interface RetryDrainOptions {
  cloud: CloudPort;
  sleep: Sleep;
  step: DrainStep;
  /** First wait after an unanswered request, doubled up to `maxDelayMs`. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** A pass that threw (storage trouble): reported, then retried like an unanswered request. */
  onError?: (err: unknown) => void;
}

/**
 * Drains a queue of cloud requests: one pass at a time, again when kicked meanwhile, and after an
 * unanswered request again with backoff (through the Sleep port) while the link is up; when the link
 * is down it waits for the next connect, which kicks it.
 */
export class RetryDrain {
  private current: Promise<void> = Promise.resolve();
  private running = false;
  private kicked = false;

  constructor(private readonly o: RetryDrainOptions) {
    o.cloud.onOnline(() => this.kick());
  }

  /**
   * Runs the queue now (or right after the pass under way); resolves when this run ends. `later`:
   * after a first backoff wait (a request just went unanswered).
   */
  kick(later = false): Promise<void> {
    this.kicked = true;
    if (this.running) return this.current;
    this.running = true;
    this.current = this.run(later);
    return this.current;
  }

  private async step(): Promise<'done' | 'retry'> {
    try {
      return await this.o.step();
    } catch (err) {
      this.o.onError?.(err);
      return 'retry';
    }
  }

  /** `running` is cleared in the same turn as the last check of `kicked`, so no kick is lost. */
  private async run(later: boolean): Promise<void> {
    let delay = this.o.minDelayMs ?? 1_000;
    const max = this.o.maxDelayMs ?? 60_000;
    try {
      if (later) {
        await this.o.sleep(delay);
        delay = Math.min(delay * 2, max);
      }
      while (this.kicked && this.o.cloud.isOnline()) {
        this.kicked = false;
        if ((await this.step()) === 'done') {
          delay = this.o.minDelayMs ?? 1_000;
          continue;
        }
        await this.o.sleep(delay);
        delay = Math.min(delay * 2, max);
        this.kicked = true;
      }
    } finally {
      this.running = false;
    }
  }
}
