import type { SerialPort } from 'serialport';
import { deviceError, notOpen } from './device-errors.js';
import { Listeners } from './listeners.js';
import type { Transport, TransportState } from './transport.js';
import type { DeviceUri } from './uri.js';

/** A serial device (RS-232, USB-serial adapter, a pty in tests) through `serialport`. */
export class SerialTransport implements Transport {
  private port: SerialPort | undefined;
  private current: TransportState = 'closed';
  private readonly data = new Listeners<[Buffer]>();
  private readonly closed = new Listeners<[Error | undefined]>();
  private readonly target: string;

  constructor(readonly uri: Extract<DeviceUri, { kind: 'serial' }>) {
    this.target = `serial://${uri.path}`;
  }

  get state(): TransportState {
    return this.current;
  }

  async open(): Promise<void> {
    if (this.port) return;
    this.current = 'opening';
    const u = this.uri;
    // serialport and its native binding, loaded by the first serial device only (off the start).
    const { SerialPort } = await import('serialport');
    return new Promise((resolve, reject) => {
      const port = new SerialPort({
        path: u.path,
        baudRate: u.baudRate,
        dataBits: u.dataBits,
        parity: u.parity,
        stopBits: u.stopBits,
        rtscts: u.rtscts,
        autoOpen: false,
      });
      port.open((err) => {
        if (err) {
          this.current = 'error';
          reject(deviceError(err, this.target, 'open'));
          return;
        }
        this.attach(port);
        resolve();
      });
    });
  }

  private attach(port: SerialPort): void {
    this.port = port;
    this.current = 'open';
    let lastError: Error | undefined;
    port.on('data', (chunk: Buffer) => this.data.emit(chunk));
    // Without an 'error' listener a failed background read would crash the process.
    port.on('error', (err: Error) => {
      lastError = err;
    });
    port.on('close', (err?: Error) => {
      if (this.port !== port) return; // closed by us
      this.port = undefined;
      this.current = 'error';
      this.closed.emit(deviceError(err ?? lastError ?? new Error('port closed'), this.target, 'read'));
    });
  }

  write(data: Uint8Array): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return Promise.reject(notOpen(this.target));
    return new Promise((resolve, reject) => {
      port.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength), (err) => {
        if (err) {
          reject(deviceError(err, this.target, 'write'));
          return;
        }
        // write's callback fires when queued; drain waits until the OS has the bytes.
        port.drain((drainErr) =>
          drainErr ? reject(deviceError(drainErr, this.target, 'write')) : resolve(),
        );
      });
    });
  }

  close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    this.current = 'closed';
    if (!port?.isOpen) return Promise.resolve();
    return new Promise((resolve) => port.close(() => resolve()));
  }

  onData(listener: (chunk: Buffer) => void): () => void {
    return this.data.add(listener);
  }

  onClose(listener: (err?: Error) => void): () => void {
    return this.closed.add(listener);
  }
}
