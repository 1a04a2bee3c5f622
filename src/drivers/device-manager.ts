import type { EventBus } from '../bus.js';
import { describeError, isPosError, PosError } from '../errors.js';
import { type Logger, moduleLogger } from '../log.js';
import type { DeviceKind, DeviceSnapshot, PosDevice } from './device.js';
import {
  type DisplayAddress,
  parseDisplayAddress,
  parseScannerAddress,
  type ScannerAddress,
} from './device-addresses.js';
import { pathPresent, serialIdentity } from './device-identity.js';
import { DeviceLink } from './device-link.js';
import { commandSet } from './display/command-sets.js';
import { CustomerDisplay } from './display/customer-display.js';
import type { ClassifyOptions } from './scanner/classify.js';
import type { ScanDecoder } from './scanner/decoder.js';
import { HidPosDecoder } from './scanner/hid-pos.js';
import { findHid, type HidBackend, HidTransport, hidMode, nodeHidBackend } from './scanner/hid-transport.js';
import { KeyboardWedgeDecoder } from './scanner/keyboard-wedge.js';
import { ScanPipeline } from './scanner/scan-pipeline.js';
import { ScannerDevice } from './scanner/scanner-device.js';
import { SerialFramer } from './scanner/serial-framer.js';
import { DisplaySim } from './sim/display-sim.js';
import { ScannerSim } from './sim/scanner-sim.js';
import { createTransport } from './transport/index.js';
import { describe } from './transport/reconnecting-transport.js';
import { systemTimers, type TimerHandle, type Timers } from './transport/timers.js';
import type { Transport } from './transport/transport.js';
import type { DeviceUri } from './transport/uri.js';
import { type DeviceAddressError, UnusableDevice } from './unusable-device.js';

/** A device's snapshot as `GET /api/v1/devices` shows it, with the device it is about. */
export type DeviceStatusEvent = { device: DeviceKind } & DeviceSnapshot;

declare module '../bus.js' {
  interface PosEvents {
    /** A device's state changed (ready, busy, error, offline, disabled). */
    'device.status': DeviceStatusEvent;
    /** A device failed: why it is offline or in error. */
    'device.error': { device: DeviceKind; code: string; message: string };
  }
}

export interface DeviceManagerOptions {
  bus: EventBus;
  log: Logger;
  /** `scanner.uri` and `display.uri` from the config. */
  scannerUri: string;
  displayUri: string;
  /** The printer device (built by the printer driver); absent means `printer.uri` is `none`. */
  printer?: PosDevice;
  /** Coupon and member prefixes, read at each scan (business config). */
  classifyOptions: () => ClassifyOptions;
  timers?: Timers;
  /** Monotonic milliseconds for decoder timeouts. */
  clock?: () => number;
  /** Hot-plug poll period (a returning device is open within about one period). */
  pollMs?: number;
  maxBackoffMs?: number;
  /** HID access (default node-hid on hidraw, loaded on first use). */
  hid?: () => Promise<HidBackend>;
  /** Byte transports for serial/tcp/file addresses (default `createTransport`). */
  transport?: (uri: DeviceUri) => Transport;
  /** Where USB serial adapters' stable links live (tests point it elsewhere). */
  serialByIdDir?: string;
}

export interface DevicesSnapshot {
  printer: DeviceSnapshot;
  scanner: DeviceSnapshot;
  display: DeviceSnapshot;
}

/**
 * Builds the scanner and display from their config addresses, keeps all three devices open
 * (hot-plug, backoff), and reports them: `snapshot()` for the local API, `device.status` and
 * `device.error` on the bus whenever a device's state changes, `scan` for every scan. Nothing a
 * device does (missing, unplugged, garbage) is fatal.
 */
export class DeviceManager {
  readonly scanner: ScannerDevice | UnusableDevice | undefined;
  readonly display: CustomerDisplay | UnusableDevice | undefined;
  /** The simulated devices when an address is `sim:` (the demo and tests drive them). */
  readonly scannerSim: ScannerSim | undefined;
  readonly displaySim: DisplaySim | undefined;
  readonly scanPipeline: ScanPipeline;
  private readonly timers: Timers;
  private readonly clock: () => number;
  private readonly log: Logger;
  private readonly lastStatus = new Map<DeviceKind, string>();
  private watchTimer: TimerHandle | undefined;
  private started = false;
  private watching = false;
  private hidBackend: Promise<HidBackend> | undefined;

  constructor(private readonly o: DeviceManagerOptions) {
    this.timers = o.timers ?? systemTimers();
    this.clock = o.clock ?? (() => performance.now());
    this.log = moduleLogger(o.log, 'devices');
    this.scanPipeline = new ScanPipeline({
      bus: o.bus,
      log: moduleLogger(o.log, 'scanner'),
      classifyOptions: o.classifyOptions,
      clock: this.clock,
    });
    let scannerSim: ScannerSim | undefined;
    let displaySim: DisplaySim | undefined;
    this.scanner = this.build('scanner', o.scannerUri, () => {
      const address = parseScannerAddress(o.scannerUri);
      if (address.uri.kind === 'none') return undefined;
      if (address.uri.kind === 'sim') scannerSim = new ScannerSim(address.uri.name);
      return this.buildScanner(address, scannerSim);
    });
    this.display = this.build('display', o.displayUri, () => {
      const address = parseDisplayAddress(o.displayUri);
      if (address.uri.kind === 'none') return undefined;
      if (address.uri.kind === 'sim') displaySim = new DisplaySim(address.uri.name);
      return this.buildDisplay(address, displaySim);
    });
    this.scannerSim = scannerSim;
    this.displaySim = displaySim;
    // The printer says when it changes: a paper-out shorter than a poll period still goes out.
    // Only the printer: it reports twice per receipt (printing, then not), the others did not change.
    o.bus.on('printer.status', () => this.check(['printer']));
  }

  /** Opens every device; resolves after each has had its first attempt (absent ones stay offline). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await Promise.all(
      this.entries().map(async ([kind, device]) => {
        try {
          await device?.open();
        } catch (err) {
          this.log.warn({ device: kind, err: describeError(err) }, 'device failed to open');
        }
      }),
    );
    this.watch();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.watching = false;
    this.timers.clearTimeout(this.watchTimer);
    this.watchTimer = undefined;
    // The printer belongs to whoever built it; the manager stops only what it built.
    await Promise.all(
      [this.scanner, this.display].map((d) =>
        d?.close().catch((err: unknown) => this.log.warn({ err: describeError(err) }, 'device close failed')),
      ),
    );
  }

  snapshot(): DevicesSnapshot {
    const snap = (d: PosDevice | undefined): DeviceSnapshot => (d ? d.snapshot() : { state: 'disabled' });
    return { printer: snap(this.o.printer), scanner: snap(this.scanner), display: snap(this.display) };
  }

  /** A scan from the simulated scanner, through framing, classification and the `scan` event. */
  injectScan(code: string): void {
    if (!this.scannerSim)
      throw new PosError('DEVICE_UNAVAILABLE', 'the scanner is not simulated (scanner.uri is not sim:)');
    this.scannerSim.inject(code);
  }

  private entries(): Array<[DeviceKind, PosDevice | undefined]> {
    return [
      ['printer', this.o.printer],
      ['scanner', this.scanner],
      ['display', this.display],
    ];
  }

  private build<T extends PosDevice>(
    kind: DeviceKind,
    raw: string,
    make: () => T | undefined,
  ): T | UnusableDevice | undefined {
    try {
      return make();
    } catch (err) {
      const e: DeviceAddressError = isPosError(err)
        ? err
        : new PosError('DEVICE_URI_INVALID', describeError(err), { uri: raw }, err);
      this.log.error({ device: kind, err: e.message }, 'device address unusable');
      return new UnusableDevice(kind, raw, e);
    }
  }

  private link(
    uri: DeviceUri,
    create: () => Transport,
    extra: Partial<ConstructorParameters<typeof DeviceLink>[0]> = {},
  ): DeviceLink {
    return new DeviceLink({
      target: describe(uri),
      create,
      log: this.log,
      timers: this.timers,
      ...(this.o.pollMs !== undefined ? { pollMs: this.o.pollMs } : {}),
      ...(this.o.maxBackoffMs !== undefined ? { maxBackoffMs: this.o.maxBackoffMs } : {}),
      ...extra,
    });
  }

  /** Serial devices: present when their path exists; identified by their by-id link. */
  private byteLink(uri: DeviceUri, sim: Transport | undefined): DeviceLink {
    if (sim) return this.link(uri, () => sim, { present: () => (sim as ScannerSim | DisplaySim).plugged });
    const make = this.o.transport ?? ((u: DeviceUri) => createTransport(u));
    if (uri.kind === 'serial') {
      const byId = this.o.serialByIdDir;
      return this.link(uri, () => make(uri), {
        present: () => pathPresent(uri.path),
        identify: () => serialIdentity(uri.path, byId),
      });
    }
    if (uri.kind === 'file') return this.link(uri, () => make(uri), { present: () => pathPresent(uri.path) });
    return this.link(uri, () => make(uri));
  }

  private buildScanner(a: ScannerAddress, sim: ScannerSim | undefined): ScannerDevice {
    const uri = a.uri;
    const timeout = a.timeoutMs;
    const wedge = () =>
      new KeyboardWedgeDecoder({ suffix: a.suffix, ...(timeout ? { interKeyTimeoutMs: timeout } : {}) });
    const pos = () => new HidPosDecoder(timeout ? { interReportTimeoutMs: timeout } : {});
    let link: DeviceLink;
    let decoderFor: (t: Transport | undefined) => { decoder: ScanDecoder; mode: string };
    if (uri.kind === 'hid') {
      const backend = () => this.hid();
      let serial: string | undefined;
      link = this.link(uri, () => new HidTransport(uri, backend, () => serial), {
        present: async () => findHid((await backend()).devices(), uri, serial) !== undefined,
        identify: (t) => {
          const info = (t as HidTransport).info;
          serial = info?.serialNumber || serial;
          return serial ? `${describe(uri)}/${serial}` : info?.path;
        },
      });
      decoderFor = (t) => {
        const info = t instanceof HidTransport ? t.info : undefined;
        const mode = a.mode !== 'auto' ? a.mode : info ? hidMode(info) : 'keyboard';
        return mode === 'pos'
          ? { decoder: pos(), mode: 'hid-pos' }
          : { decoder: wedge(), mode: 'hid-keyboard' };
      };
    } else {
      link = this.byteLink(uri, sim);
      const framer = () =>
        new SerialFramer({ framing: a.framing, ...(timeout ? { interByteTimeoutMs: timeout } : {}) });
      decoderFor = () => ({
        decoder: framer(),
        mode: a.framing === 'timeout' ? 'serial-timeout' : 'serial-crlf',
      });
    }
    const device = new ScannerDevice({
      link,
      pipeline: this.scanPipeline,
      decoderFor,
      timers: this.timers,
      clock: this.clock,
      log: moduleLogger(this.o.log, 'scanner'),
      uri: a.raw,
    });
    link.onState(() => this.check());
    return device;
  }

  private buildDisplay(a: DisplayAddress, sim: DisplaySim | undefined): CustomerDisplay {
    const link = this.byteLink(a.uri, sim);
    link.onState(() => this.check());
    return new CustomerDisplay({
      link,
      commands: commandSet(a.commands),
      log: moduleLogger(this.o.log, 'display'),
      uri: a.raw,
      bus: this.o.bus,
    });
  }

  private hid(): Promise<HidBackend> {
    this.hidBackend ??= (this.o.hid ?? nodeHidBackend)().catch((err: unknown) => {
      this.hidBackend = undefined;
      throw new PosError('DEVICE_UNAVAILABLE', `HID access unavailable: ${describeError(err)}`, {}, err);
    });
    return this.hidBackend;
  }

  /** Every poll period: publish state changes of devices that do not report them (the printer). */
  private watch(): void {
    this.watching = true;
    this.check();
    this.watchTimer = this.timers.setTimeout(() => {
      this.watchTimer = undefined;
      if (this.started) this.watch();
    }, this.o.pollMs ?? 1000);
  }

  private check(only?: readonly DeviceKind[]): void {
    if (!this.started || !this.watching) return; // the first status goes out after the first attempts
    for (const [kind, device] of this.entries()) {
      if (only && !only.includes(kind)) continue;
      const snap: DeviceSnapshot = device ? device.snapshot() : { state: 'disabled' };
      const error = snap.error as { code: string; message: string } | undefined;
      const key = `${snap.state}|${error?.code ?? ''}|${String(snap.identity ?? '')}`;
      if (this.lastStatus.get(kind) === key) continue;
      this.lastStatus.set(kind, key);
      this.o.bus.emit('device.status', { device: kind, ...snap });
      if (error) this.o.bus.emit('device.error', { device: kind, code: error.code, message: error.message });
    }
  }
}
