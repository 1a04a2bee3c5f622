import { PosError } from '../../errors.js';
import { Listeners } from '../transport/listeners.js';
import type { Transport, TransportState } from '../transport/transport.js';
import type { DeviceUri } from '../transport/uri.js';

/** The plumbing simulated devices share: open/close, plug/unplug, data and close listeners. */
export abstract class SimLink implements Transport {
  protected current: TransportState = 'closed';
  protected readonly data = new Listeners<[Buffer]>();
  private readonly closed = new Listeners<[Error | undefined]>();
  /** Unplugged devices fail to open, like a missing /dev node. */
  plugged = true;

  constructor(readonly uri: Extract<DeviceUri, { kind: 'sim' }>) {}

  get state(): TransportState {
    return this.current;
  }

  open(): Promise<void> {
    if (!this.plugged) {
      return Promise.reject(new PosError('DEVICE_NOT_FOUND', `sim:${this.uri.name}: unplugged`, {}));
    }
    this.current = 'open';
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.current = 'closed';
    return Promise.resolve();
  }

  abstract write(data: Uint8Array): Promise<void>;

  onData(listener: (chunk: Buffer) => void): () => void {
    return this.data.add(listener);
  }

  onClose(listener: (err?: Error) => void): () => void {
    return this.closed.add(listener);
  }

  /** Pulls the plug: the link closes with DEVICE_DISCONNECTED and opening fails until `plug()`. */
  unplug(): void {
    this.plugged = false;
    if (this.current !== 'open') return;
    this.current = 'error';
    this.closed.emit(new PosError('DEVICE_DISCONNECTED', `sim:${this.uri.name}: unplugged`, {}));
  }

  plug(): void {
    this.plugged = true;
  }

  protected notOpen(): PosError {
    return new PosError('DEVICE_DISCONNECTED', `sim:${this.uri.name}: not open`, {});
  }
}
