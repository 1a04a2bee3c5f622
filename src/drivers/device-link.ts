import { describeError, PosError } from '../errors.js';
import type { Logger } from '../log.js';
import { deviceError } from './transport/device-errors.js';
import { Listeners } from './transport/listeners.js';
import type { TimerHandle, Timers } from './transport/timers.js';
import type { Transport } from './transport/transport.js';

/** `offline`: absent or gone; the link polls for it and reopens by itself. */
export type LinkState = 'closed' | 'connecting' | 'open' | 'offline';

export interface DeviceLinkOptions {
  /** For logs and errors, e.g. `serial:///dev/posd-scanner`. */
  target: string;
  /** A fresh transport per attempt (a closed port or socket is not reused). */
  create: () => Transport;
  /** Is the device there (its /dev path exists, it is enumerated)? Absent: always try to open. */
  present?: () => boolean | Promise<boolean>;
  /** Stable identity once open (USB serial number, /dev/serial/by-id name). */
  identify?: (transport: Transport) => string | undefined | Promise<string | undefined>;
  log: Logger;
  timers: Timers;
  /** How often an offline device is looked for (hot-plug is picked up within one period). */
  pollMs?: number;
  /** Longest wait between reopen attempts of a device that is present but fails to open. */
  maxBackoffMs?: number;
}

/**
 * Keeps one device open. While it is offline it polls `present()` every `pollMs`: a device that
 * comes back (absent → present) is opened at once; one that is present but fails to open is
 * retried with exponential backoff (pollMs, 2×, 4×… up to maxBackoffMs). A vanished device is a
 * state, never an exception.
 */
export class DeviceLink {
  private current: LinkState = 'closed';
  private transport: Transport | undefined;
  private unsubscribe: Array<() => void> = [];
  private timer: TimerHandle | undefined;
  private failures = 0;
  private waitedMs = 0;
  private waitMs = 0;
  private sawAbsent = false;
  private generation = 0;
  private lastErrorValue: PosError | undefined;
  private identityValue: string | undefined;
  private readonly pollMs: number;
  private readonly data = new Listeners<[Buffer]>();
  private readonly stateListeners = new Listeners<[LinkState, PosError | undefined]>();

  constructor(private readonly o: DeviceLinkOptions) {
    this.pollMs = o.pollMs ?? 1000;
  }

  get state(): LinkState {
    return this.current;
  }

  get lastError(): PosError | undefined {
    return this.lastErrorValue;
  }

  get identity(): string | undefined {
    return this.identityValue;
  }

  /** Tries once and resolves; an absent device is `offline` and keeps being looked for. */
  async open(): Promise<void> {
    if (this.current !== 'closed') return;
    this.generation++;
    this.failures = 0;
    await this.attempt(this.generation);
  }

  async close(): Promise<void> {
    this.generation++;
    this.o.timers.clearTimeout(this.timer);
    this.timer = undefined;
    const t = this.transport;
    this.detach();
    this.setState('closed');
    await t?.close().catch(() => {});
  }

  write(bytes: Uint8Array): Promise<void> {
    const t = this.transport;
    if (!t || this.current !== 'open') {
      return Promise.reject(
        this.lastErrorValue ?? new PosError('DEVICE_DISCONNECTED', `${this.o.target}: not open`),
      );
    }
    return t.write(bytes);
  }

  onData(listener: (chunk: Buffer) => void): () => void {
    return this.data.add(listener);
  }

  /** Every change of state: e.g. re-initialise a display each time it comes back. */
  onState(listener: (state: LinkState, err?: PosError) => void): () => void {
    return this.stateListeners.add(listener);
  }

  /** The transport while open (a HID adapter tells which interface it found). */
  get openTransport(): Transport | undefined {
    return this.current === 'open' ? this.transport : undefined;
  }

  private async attempt(gen: number): Promise<void> {
    this.setState('connecting');
    let present = true;
    let why: PosError = new PosError('DEVICE_NOT_FOUND', `${this.o.target}: not connected`, {});
    try {
      present = this.o.present ? await this.o.present() : true;
    } catch (err) {
      present = false;
      why = deviceError(err, this.o.target, 'look for');
    }
    if (gen !== this.generation) return;
    if (!present) {
      this.sawAbsent = true;
      this.offline(why, this.pollMs);
      return;
    }
    const t = this.o.create();
    try {
      await t.open();
    } catch (err) {
      await t.close().catch(() => {});
      if (gen !== this.generation) return;
      this.failures++;
      this.offline(deviceError(err, this.o.target, 'open'), this.backoff());
      return;
    }
    if (gen !== this.generation) {
      await t.close().catch(() => {});
      return;
    }
    this.transport = t;
    this.failures = 0;
    this.unsubscribe = [t.onData((chunk) => this.data.emit(chunk)), t.onClose((err) => this.dropped(t, err))];
    try {
      this.identityValue = (await this.o.identify?.(t)) ?? this.identityValue;
    } catch {
      // Identity is for the technician; a device without one still works.
    }
    if (gen !== this.generation || this.transport !== t) return;
    this.lastErrorValue = undefined;
    this.o.log.info({ device: this.o.target, identity: this.identityValue }, 'device open');
    this.setState('open');
  }

  private dropped(t: Transport, err: Error | undefined): void {
    if (this.transport !== t) return;
    this.detach();
    void t.close().catch(() => {});
    this.failures = 0;
    this.offline(deviceError(err ?? new Error('closed'), this.o.target, 'read'), this.pollMs);
  }

  private offline(err: PosError, waitMs: number): void {
    const first = this.current !== 'offline' && this.current !== 'connecting';
    const level = first || this.failures <= 1 ? 'warn' : 'debug';
    if (this.lastErrorValue?.code !== err.code || level === 'warn') {
      this.o.log[level](
        { device: this.o.target, err: describeError(err), retryInMs: waitMs },
        'device unavailable',
      );
    }
    this.lastErrorValue = err;
    this.waitMs = waitMs;
    this.waitedMs = 0;
    this.setState('offline', err);
    this.schedule();
  }

  private schedule(): void {
    const gen = this.generation;
    this.timer = this.o.timers.setTimeout(() => void this.tick(gen), this.pollMs);
  }

  /** One poll while offline: reopen at once on return, else when the backoff has run out. */
  private async tick(gen: number): Promise<void> {
    this.timer = undefined;
    if (gen !== this.generation) return;
    this.waitedMs += this.pollMs;
    let present = true;
    try {
      present = this.o.present ? await this.o.present() : true;
    } catch {
      present = false;
    }
    if (gen !== this.generation) return;
    if (!present) {
      this.sawAbsent = true;
      this.schedule();
      return;
    }
    if (this.sawAbsent || this.waitedMs >= this.waitMs) {
      if (this.sawAbsent) this.failures = 0;
      this.sawAbsent = false;
      await this.attempt(gen);
      return;
    }
    this.schedule();
  }

  private backoff(): number {
    const max = this.o.maxBackoffMs ?? 30_000;
    return Math.min(max, this.pollMs * 2 ** Math.max(0, this.failures - 1));
  }

  private detach(): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.transport = undefined;
  }

  private setState(state: LinkState, err?: PosError): void {
    if (this.current === state && state !== 'offline') return;
    const changed = this.current !== state;
    this.current = state;
    if (changed || err) this.stateListeners.emit(state, err);
  }
}
