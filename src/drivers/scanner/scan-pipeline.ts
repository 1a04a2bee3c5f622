import type { EventBus } from '../../bus.js';
import { type Logger, maskCode } from '../../log.js';
import { type Classification, type ClassifyOptions, classify } from './classify.js';
import type { DecoderEvent } from './decoder.js';

declare module '../../bus.js' {
  interface PosEvents {
    /** A scanned code (local-v1: `{code, kind, channel?}`), from a real or simulated scanner. */
    scan: Classification;
  }
}

export interface ScanPipelineOptions {
  bus: EventBus;
  log: Logger;
  /** Read at every scan, so a new business config (coupon/member prefixes) applies at once. */
  classifyOptions: () => ClassifyOptions;
  /** Monotonic milliseconds, for the junk warning rate limit. */
  clock?: () => number;
  /** At most one junk warning per this many ms; the others are counted into the next one. */
  warnEveryMs?: number;
}

export interface ScanCounters {
  scans: number;
  junkEvents: number;
  junkBytes: number;
}

/** Decoded codes → classification → `scan` on the bus; junk → counters and a warning. */
export class ScanPipeline {
  readonly counters: ScanCounters = { scans: 0, junkEvents: 0, junkBytes: 0 };
  private readonly clock: () => number;
  private lastWarnAt = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  constructor(private readonly o: ScanPipelineOptions) {
    this.clock = o.clock ?? (() => performance.now());
  }

  handle(events: readonly DecoderEvent[]): void {
    for (const e of events) {
      if (e.type === 'code') this.scan(e.code, e.symbology);
      else this.junk(e.reason, e.bytes);
    }
  }

  scan(code: string, symbology?: string): Classification {
    const result = classify(code, this.o.classifyOptions(), symbology);
    this.counters.scans++;
    // Only product codes are harmless in full; payment and member codes are masked.
    const shown = result.kind === 'product' ? code : maskCode(code);
    this.o.log.debug({ code: shown, kind: result.kind, channel: result.channel }, 'scan');
    this.o.bus.emit('scan', result);
    return result;
  }

  junk(reason: string, bytes: number): void {
    this.counters.junkEvents++;
    this.counters.junkBytes += bytes;
    const now = this.clock();
    if (now - this.lastWarnAt < (this.o.warnEveryMs ?? 1000)) {
      this.suppressed++;
      return;
    }
    this.o.log.warn(
      { reason, bytes, suppressed: this.suppressed, junkEvents: this.counters.junkEvents },
      'scanner input discarded',
    );
    this.lastWarnAt = now;
    this.suppressed = 0;
  }
}
