import type { TimerHandle, Timers } from '../transport/timers.js';
import type { ScanDecoder } from './decoder.js';
import type { ScanPipeline } from './scan-pipeline.js';

/** Runs a pure decoder on live input: feeds it chunks and calls `expire` when its deadline comes. */
export class DecoderRunner {
  private timer: TimerHandle | undefined;

  constructor(
    private decoder: ScanDecoder,
    private readonly pipeline: ScanPipeline,
    private readonly timers: Timers,
    private readonly clock: () => number,
  ) {}

  /** A new device may need another decoder (a HID scanner in POS rather than keyboard mode). */
  replace(decoder: ScanDecoder): void {
    this.reset();
    this.decoder = decoder;
  }

  feed(chunk: Uint8Array): void {
    this.pipeline.handle(this.decoder.push(chunk, this.clock()));
    this.schedule();
  }

  /** The device went away: what was pending is junk, and no timer stays behind. */
  reset(): void {
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.pipeline.handle(this.decoder.reset());
  }

  private schedule(): void {
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    const deadline = this.decoder.deadline();
    if (deadline === undefined) return;
    this.timer = this.timers.setTimeout(
      () => {
        this.timer = undefined;
        this.pipeline.handle(this.decoder.expire(this.clock()));
        this.schedule();
      },
      Math.max(0, deadline - this.clock()),
    );
  }
}
