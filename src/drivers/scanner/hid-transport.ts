import { PosError } from '../../errors.js';
import { deviceError, notOpen } from '../transport/device-errors.js';
import { Listeners } from '../transport/listeners.js';
import type { Transport, TransportState } from '../transport/transport.js';
import type { DeviceUri } from '../transport/uri.js';

export type HidUri = Extract<DeviceUri, { kind: 'hid' }>;

/** What enumeration tells about a HID interface (node-hid's `Device`). */
export interface HidDeviceInfo {
  path?: string | undefined;
  vendorId: number;
  productId: number;
  serialNumber?: string | undefined;
  usagePage?: number | undefined;
  usage?: number | undefined;
  interface?: number;
}

/** An open HID interface: one `data` call per input report. */
export interface HidHandle {
  on(event: 'data', listener: (report: Buffer) => void): unknown;
  on(event: 'error', listener: (err: unknown) => void): unknown;
  close(): void;
}

/** HID access as node-hid gives it, behind an interface so tests can enumerate fake devices. */
export interface HidBackend {
  devices(): HidDeviceInfo[];
  open(path: string): HidHandle;
}

/** node-hid on hidraw, loaded only when a HID scanner is configured (it is a native module). */
export async function nodeHidBackend(): Promise<HidBackend> {
  const hid = await import('node-hid');
  hid.setDriverType('hidraw');
  return {
    devices: () => hid.devices(),
    open: (path) => new hid.HID(path) as unknown as HidHandle,
  };
}

export const USAGE_PAGE_POS_BARCODE = 0x8c;
const USAGE_PAGE_GENERIC_DESKTOP = 0x01;
const USAGE_KEYBOARD = 0x06;

/**
 * The interface of a configured scanner: VID:PID (and serial number when given); of a scanner's
 * several interfaces the HID-POS one is preferred, then its keyboard. A serial number seen before
 * keeps a replugged scanner the same device when two of a kind are connected.
 */
export function findHid(
  devices: readonly HidDeviceInfo[],
  uri: HidUri,
  knownSerial?: string,
): HidDeviceInfo | undefined {
  const serial = uri.serialNumber ?? knownSerial;
  const matches = devices.filter(
    (d) =>
      d.vendorId === uri.vendorId &&
      d.productId === uri.productId &&
      d.path !== undefined &&
      (serial === undefined || d.serialNumber === serial),
  );
  const rank = (d: HidDeviceInfo) =>
    d.usagePage === USAGE_PAGE_POS_BARCODE
      ? 0
      : d.usagePage === USAGE_PAGE_GENERIC_DESKTOP && d.usage === USAGE_KEYBOARD
        ? 1
        : 2;
  return matches.sort((a, b) => rank(a) - rank(b))[0];
}

/** The report format of an interface: HID-POS barcode reports or boot keyboard reports. */
export function hidMode(info: HidDeviceInfo): 'pos' | 'keyboard' {
  return info.usagePage === USAGE_PAGE_POS_BARCODE ? 'pos' : 'keyboard';
}

/**
 * A HID scanner as a Transport: each data chunk is exactly one input report (report id first when
 * the device numbers its reports), which the byte-exact decoders take as is. This is a thin
 * adapter: all decoding is in keyboard-wedge.ts and hid-pos.ts.
 */
export class HidTransport implements Transport {
  private handle: HidHandle | undefined;
  private current: TransportState = 'closed';
  private infoValue: HidDeviceInfo | undefined;
  private readonly data = new Listeners<[Buffer]>();
  private readonly closed = new Listeners<[Error | undefined]>();
  private readonly target: string;

  constructor(
    readonly uri: HidUri,
    private readonly backend: () => Promise<HidBackend>,
    private readonly knownSerial?: () => string | undefined,
  ) {
    this.target = `hid://${hex4(uri.vendorId)}:${hex4(uri.productId)}`;
  }

  get state(): TransportState {
    return this.current;
  }

  /** The interface opened (its usage page says which decoder its reports need). */
  get info(): HidDeviceInfo | undefined {
    return this.infoValue;
  }

  async open(): Promise<void> {
    if (this.handle) return;
    this.current = 'opening';
    let handle: HidHandle;
    try {
      const backend = await this.backend();
      const info = findHid(backend.devices(), this.uri, this.knownSerial?.());
      if (!info?.path) throw new PosError('DEVICE_NOT_FOUND', `${this.target}: not connected`, {});
      handle = backend.open(info.path);
      this.infoValue = info;
    } catch (err) {
      this.current = 'error';
      throw deviceError(err, this.target, 'open');
    }
    this.handle = handle;
    this.current = 'open';
    handle.on('data', (report) => this.data.emit(report));
    // node-hid reports an unplugged device as a read error; that is our close.
    handle.on('error', (err) => {
      if (this.handle !== handle) return;
      this.handle = undefined;
      this.current = 'error';
      try {
        handle.close();
      } catch {
        // already gone
      }
      this.closed.emit(
        new PosError(
          'DEVICE_DISCONNECTED',
          `${this.target}: read failed (unplugged?)`,
          { target: this.target },
          err,
        ),
      );
    });
  }

  write(): Promise<void> {
    return Promise.reject(
      this.handle ? new PosError('DEVICE_UNAVAILABLE', `${this.target}: read-only`) : notOpen(this.target),
    );
  }

  close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    this.current = 'closed';
    try {
      handle?.close();
    } catch {
      // closing a vanished device may throw; it is closed either way
    }
    return Promise.resolve();
  }

  onData(listener: (chunk: Buffer) => void): () => void {
    return this.data.add(listener);
  }

  onClose(listener: (err?: Error) => void): () => void {
    return this.closed.add(listener);
  }
}

export function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}
