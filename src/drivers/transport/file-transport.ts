import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { deviceError, notOpen } from './device-errors.js';
import { Listeners } from './listeners.js';
import { systemTimers, type Timers } from './timers.js';
import type { Transport, TransportState } from './transport.js';
import type { DeviceUri } from './uri.js';

export interface FileTransportOptions {
  timers?: Timers;
  /** How often to look for status bytes; the USB printer class has no readiness notification. */
  pollMs?: number;
}

/** errno codes that mean the device went away (unplugged lp, hung-up pty). */
const GONE = new Set(['EIO', 'ENODEV', 'ENXIO', 'EPIPE', 'EBADF']);

/**
 * A character device opened read/write, e.g. the USB printer class `/dev/usb/lp0`: writes are the
 * print data, reads return the printer's status bytes. Opened non-blocking, so a read with
 * nothing to say returns EAGAIN instead of holding a libuv thread.
 */
export class FileTransport implements Transport {
  private handle: FileHandle | undefined;
  private current: TransportState = 'closed';
  private pollTimer: ReturnType<Timers['setTimeout']> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly data = new Listeners<[Buffer]>();
  private readonly closed = new Listeners<[Error | undefined]>();
  private readonly timers: Timers;
  private readonly target: string;
  private readonly buf = Buffer.alloc(256);

  constructor(
    readonly uri: Extract<DeviceUri, { kind: 'file' }>,
    private readonly options: FileTransportOptions = {},
  ) {
    this.timers = options.timers ?? systemTimers();
    this.target = `file://${uri.path}`;
  }

  get state(): TransportState {
    return this.current;
  }

  async open(): Promise<void> {
    if (this.handle) return;
    this.current = 'opening';
    try {
      this.handle = await open(this.uri.path, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOCTTY);
    } catch (err) {
      this.current = 'error';
      throw deviceError(err, this.target, 'open');
    }
    this.current = 'open';
    this.schedulePoll(0);
  }

  private schedulePoll(ms: number): void {
    this.pollTimer = this.timers.setTimeout(() => void this.poll(), ms);
  }

  private async poll(): Promise<void> {
    const handle = this.handle;
    if (!handle) return;
    try {
      // Read everything there is, then wait a poll interval.
      for (;;) {
        const { bytesRead } = await handle.read(this.buf, 0, this.buf.length, null);
        if (this.handle !== handle) return;
        // End of file on a character device: the other end hung up (pty) or the device is gone.
        if (bytesRead === 0) {
          this.lost(Object.assign(new Error('end of file'), { code: 'EIO' }));
          return;
        }
        this.data.emit(Buffer.from(this.buf.subarray(0, bytesRead)));
      }
    } catch (err) {
      if (this.handle !== handle) return;
      if (GONE.has((err as NodeJS.ErrnoException).code ?? '')) {
        this.lost(err);
        return;
      }
      // EAGAIN: nothing to read now.
    }
    this.schedulePoll(this.options.pollMs ?? 50);
  }

  private lost(err: unknown): void {
    const handle = this.handle;
    if (!handle) return;
    this.handle = undefined;
    this.current = 'error';
    this.timers.clearTimeout(this.pollTimer);
    void handle.close().catch(() => {});
    this.closed.emit(deviceError(err, this.target, 'io'));
  }

  write(data: Uint8Array): Promise<void> {
    if (!this.handle) return Promise.reject(notOpen(this.target));
    // Writes are serialised: a partial non-blocking write must finish before the next starts.
    const next = this.writing.then(() => this.writeAll(data));
    this.writing = next.catch(() => {});
    return next;
  }

  private async writeAll(data: Uint8Array): Promise<void> {
    let offset = 0;
    let waitMs = 5;
    while (offset < data.byteLength) {
      const handle = this.handle;
      if (!handle) throw notOpen(this.target);
      try {
        const { bytesWritten } = await handle.write(data, offset, data.byteLength - offset, null);
        offset += bytesWritten;
        waitMs = 5;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN') {
          const error = deviceError(err, this.target, 'write');
          if (GONE.has(code ?? '')) this.lost(err);
          throw error;
        }
        // The printer's buffer is full (it is printing or out of paper): wait and try again.
        await new Promise<void>((r) => this.timers.setTimeout(r, waitMs));
        waitMs = Math.min(waitMs * 2, 200);
      }
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    this.current = 'closed';
    this.timers.clearTimeout(this.pollTimer);
    await handle?.close().catch(() => {});
  }

  onData(listener: (chunk: Buffer) => void): () => void {
    return this.data.add(listener);
  }

  onClose(listener: (err?: Error) => void): () => void {
    return this.closed.add(listener);
  }
}
