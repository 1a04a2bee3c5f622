import { createConnection, type Socket } from 'node:net';
import { PosError } from '../../errors.js';
import { deviceError, notOpen } from './device-errors.js';
import { Listeners } from './listeners.js';
import type { Transport, TransportState } from './transport.js';
import type { DeviceUri } from './uri.js';

export interface TcpTransportOptions {
  connectTimeoutMs?: number;
}

/** A network printer (raw port 9100, "JetDirect") or any device behind a TCP socket. */
export class TcpTransport implements Transport {
  private socket: Socket | undefined;
  private current: TransportState = 'closed';
  private readonly data = new Listeners<[Buffer]>();
  private readonly closed = new Listeners<[Error | undefined]>();
  private readonly target: string;

  constructor(
    readonly uri: Extract<DeviceUri, { kind: 'tcp' }>,
    private readonly options: TcpTransportOptions = {},
  ) {
    this.target = `tcp://${uri.host}:${uri.port}`;
  }

  get state(): TransportState {
    return this.current;
  }

  open(): Promise<void> {
    if (this.socket) return Promise.resolve();
    this.current = 'opening';
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host: this.uri.host, port: this.uri.port });
      const timeoutMs = this.options.connectTimeoutMs ?? 5_000;
      socket.setTimeout(timeoutMs);
      const fail = (err: unknown) => {
        socket.destroy();
        this.current = 'error';
        reject(deviceError(err, this.target, 'connect'));
      };
      const onTimeout = () =>
        fail(new PosError('DEVICE_TIMEOUT', `${this.target}: no answer in ${timeoutMs} ms`));
      socket.once('error', fail);
      socket.once('timeout', onTimeout);
      socket.once('connect', () => {
        socket.off('error', fail);
        socket.off('timeout', onTimeout);
        socket.setTimeout(0);
        socket.setNoDelay(true);
        // A printer that lost power sends no FIN: keepalive notices within a minute or so.
        socket.setKeepAlive(true, 10_000);
        this.attach(socket);
        resolve();
      });
    });
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    this.current = 'open';
    let lastError: Error | undefined;
    socket.on('data', (chunk: Buffer) => this.data.emit(chunk));
    socket.on('error', (err) => {
      lastError = err;
    });
    socket.on('close', () => {
      if (this.socket !== socket) return; // closed by us
      this.socket = undefined;
      this.current = 'error';
      this.closed.emit(
        lastError
          ? deviceError(lastError, this.target, 'read')
          : new PosError('DEVICE_DISCONNECTED', `${this.target}: closed by the device`, {
              target: this.target,
            }),
      );
    });
  }

  write(data: Uint8Array): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.reject(notOpen(this.target));
    return new Promise((resolve, reject) => {
      socket.write(data, (err) => (err ? reject(deviceError(err, this.target, 'write')) : resolve()));
    });
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    this.current = 'closed';
    if (!socket || socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      // Do not wait for a peer that never answers the FIN.
      setTimeout(() => socket.destroy(), 1_000).unref();
    });
  }

  onData(listener: (chunk: Buffer) => void): () => void {
    return this.data.add(listener);
  }

  onClose(listener: (err?: Error) => void): () => void {
    return this.closed.add(listener);
  }
}
