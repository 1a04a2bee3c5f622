import type { Logger } from '../../log.js';
import { deviceError, notOpen } from './device-errors.js';
import { Listeners } from './listeners.js';
import { systemTimers, type TimerHandle, type Timers } from './timers.js';
import type { Transport, TransportState } from './transport.js';
import type { DeviceUri } from './uri.js';

/** `degraded`: the device is missing or gone and a reopen is scheduled. */
export type LinkHealth = 'closed' | 'connecting' | 'open' | 'degraded';

export interface ReconnectOptions {
  /** Builds a fresh transport for each attempt (a closed socket or port is not reused). */
  create: () => Transport;
  log: Logger;
  timers?: Timers;
  initialDelayMs?: number;
  maxDelayMs?: number;
  factor?: number;
}

/**
 * Keeps a device open: reopens with exponential backoff after a failed open or a lost link. A
 * missing or unplugged device is `degraded`, never an exception or an unhandled rejection.
 *
 * Unlike a plain Transport, `open()` does not reject when the device is absent: it resolves after
 * the first attempt and keeps trying; watch `health` / `onHealth`.
 */
export class ReconnectingTransport implements Transport {
  private inner: Transport | undefined;
  private current: LinkHealth = 'closed';
  private failures = 0;
  private retryTimer: TimerHandle | undefined;
  private unsubscribe: Array<() => void> = [];
  private lastErrorValue: Error | undefined;
  private readonly data = new Listeners<[Buffer]>();
  private readonly closed = new Listeners<[Error | undefined]>();
  private readonly healthListeners = new Listeners<[LinkHealth, Error | undefined]>();
  private readonly timers: Timers;

  constructor(
    readonly uri: DeviceUri,
    private readonly options: ReconnectOptions,
  ) {
    this.timers = options.timers ?? systemTimers();
  }

  get state(): TransportState {
    return this.inner?.state === 'open' ? 'open' : this.current === 'closed' ? 'closed' : 'error';
  }

  get health(): LinkHealth {
    return this.current;
  }

  /** Why the device is degraded (the last failed open or the error that closed the link). */
  get lastError(): Error | undefined {
    return this.lastErrorValue;
  }

  /** Delay before the next attempt after `failures` failed attempts in a row. */
  delayAfter(failures: number): number {
    const initial = this.options.initialDelayMs ?? 500;
    const max = this.options.maxDelayMs ?? 30_000;
    const factor = this.options.factor ?? 2;
    return Math.min(max, initial * factor ** Math.max(0, failures - 1));
  }

  async open(): Promise<void> {
    if (this.current !== 'closed') return;
    this.failures = 0;
    await this.attempt();
  }

  private async attempt(): Promise<void> {
    this.retryTimer = undefined;
    this.setHealth('connecting');
    const inner = this.options.create();
    try {
      await inner.open();
    } catch (err) {
      await inner.close().catch(() => {});
      if (this.current === 'closed') return; // closed while opening
      this.failed(deviceError(err, describe(this.uri), 'open'));
      return;
    }
    if (this.current === 'closed') {
      await inner.close().catch(() => {});
      return;
    }
    this.inner = inner;
    this.failures = 0;
    this.unsubscribe = [
      inner.onData((chunk) => this.data.emit(chunk)),
      inner.onClose((err) => this.dropped(inner, err)),
    ];
    this.lastErrorValue = undefined;
    this.options.log.info({ device: describe(this.uri) }, 'device open');
    this.setHealth('open');
  }

  private dropped(inner: Transport, err: Error | undefined): void {
    if (this.inner !== inner) return;
    this.detach();
    const error = err ?? notOpen(describe(this.uri));
    this.closed.emit(error);
    this.failed(error);
  }

  private failed(err: Error): void {
    this.failures += 1;
    this.lastErrorValue = err;
    const delayMs = this.delayAfter(this.failures);
    const level = this.failures === 1 ? 'warn' : 'debug';
    this.options.log[level](
      { device: describe(this.uri), err: err.message, failures: this.failures, retryInMs: delayMs },
      'device unavailable, will retry',
    );
    this.setHealth('degraded', err);
    this.retryTimer = this.timers.setTimeout(() => void this.attempt(), delayMs);
  }

  private detach(): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.inner = undefined;
  }

  private setHealth(health: LinkHealth, err?: Error): void {
    if (this.current === health && health !== 'degraded') return;
    this.current = health;
    this.healthListeners.emit(health, err);
  }

  write(data: Uint8Array): Promise<void> {
    const inner = this.inner;
    if (!inner) return Promise.reject(this.lastErrorValue ?? notOpen(describe(this.uri)));
    return inner.write(data);
  }

  async close(): Promise<void> {
    this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const inner = this.inner;
    this.detach();
    this.setHealth('closed');
    await inner?.close().catch(() => {});
  }

  onData(listener: (chunk: Buffer) => void): () => void {
    return this.data.add(listener);
  }

  onClose(listener: (err?: Error) => void): () => void {
    return this.closed.add(listener);
  }

  /** Every change of health, e.g. to re-initialise the device each time it comes back. */
  onHealth(listener: (health: LinkHealth, err?: Error) => void): () => void {
    return this.healthListeners.add(listener);
  }
}

export function describe(uri: DeviceUri): string {
  switch (uri.kind) {
    case 'tcp':
      return `tcp://${uri.host}:${uri.port}`;
    case 'serial':
      return `serial://${uri.path}`;
    case 'file':
      return `file://${uri.path}`;
    case 'hid':
      return `hid://${uri.vendorId.toString(16).padStart(4, '0')}:${uri.productId.toString(16).padStart(4, '0')}`;
    case 'sim':
      return `sim:${uri.name}`;
    case 'none':
      return 'none';
  }
}
