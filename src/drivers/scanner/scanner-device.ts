import type { Logger } from '../../log.js';
import { type DeviceSnapshot, type DeviceState, type PosDevice, reportedState } from '../device.js';
import type { DeviceLink, LinkState } from '../device-link.js';
import type { Timers } from '../transport/timers.js';
import type { Transport } from '../transport/transport.js';
import type { ScanDecoder } from './decoder.js';
import { DecoderRunner } from './decoder-runner.js';
import type { ScanPipeline } from './scan-pipeline.js';

export interface ScannerDeviceOptions {
  link: DeviceLink;
  pipeline: ScanPipeline;
  /** The decoder for the device just opened (a HID scanner's interface decides its format). */
  decoderFor: (transport: Transport | undefined) => { decoder: ScanDecoder; mode: string };
  timers: Timers;
  /** Monotonic milliseconds for the decoders' timeouts. */
  clock: () => number;
  log: Logger;
  uri: string;
}

/** A scanner: a link that stays open, a decoder on its bytes, scans on the bus. */
export class ScannerDevice implements PosDevice {
  readonly kind = 'scanner' as const;
  private opened = false;
  private mode: string;
  private readonly runner: DecoderRunner;
  private readonly off: Array<() => void> = [];

  constructor(private readonly o: ScannerDeviceOptions) {
    const first = o.decoderFor(undefined);
    this.mode = first.mode;
    this.runner = new DecoderRunner(first.decoder, o.pipeline, o.timers, o.clock);
  }

  get state(): DeviceState {
    if (!this.opened) return 'closed';
    return this.o.link.state === 'open' ? 'idle' : 'degraded';
  }

  get link(): DeviceLink {
    return this.o.link;
  }

  async open(): Promise<void> {
    if (this.opened) return;
    this.opened = true;
    this.off.push(
      this.o.link.onData((chunk) => this.runner.feed(chunk)),
      this.o.link.onState((state) => this.linkState(state)),
    );
    await this.o.link.open();
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    this.opened = false;
    for (const off of this.off.splice(0)) off();
    await this.o.link.close();
    this.runner.reset();
  }

  snapshot(): DeviceSnapshot {
    const c = this.o.pipeline.counters;
    const err = this.o.link.lastError;
    return {
      state: reportedState(this.state, true),
      uri: this.o.uri,
      mode: this.mode,
      ...(this.o.link.identity !== undefined ? { identity: this.o.link.identity } : {}),
      scans: c.scans,
      junk: { events: c.junkEvents, bytes: c.junkBytes },
      ...(err && this.state !== 'idle' ? { error: { code: err.code, message: err.message } } : {}),
    };
  }

  private linkState(state: LinkState): void {
    if (state === 'open') {
      const next = this.o.decoderFor(this.o.link.openTransport);
      this.runner.replace(next.decoder);
      if (next.mode !== this.mode) this.o.log.info({ mode: next.mode }, 'scanner report format');
      this.mode = next.mode;
    } else if (state === 'offline') {
      this.runner.reset();
    }
  }
}
