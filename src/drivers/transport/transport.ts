import type { DeviceUri } from './uri.js';

export type TransportState = 'closed' | 'opening' | 'open' | 'error';

/**
 * A byte pipe to a device (serial port, TCP socket, USB printer class file, simulated device).
 * Drivers (printer, scanner, display) are written once against this interface.
 */
export interface Transport {
  readonly uri: DeviceUri;
  readonly state: TransportState;
  /** Opens the device; rejects with a PosError if it is absent or busy. */
  open(): Promise<void>;
  /** Resolves once the bytes are handed to the OS (drained), rejects if the device is gone. */
  write(data: Uint8Array): Promise<void>;
  close(): Promise<void>;
  /** Bytes from the device, in the order they arrive (may be split or merged arbitrarily). */
  onData(listener: (chunk: Buffer) => void): () => void;
  /** The device went away (unplugged, connection reset); `err` says why. */
  onClose(listener: (err?: Error) => void): () => void;
}
