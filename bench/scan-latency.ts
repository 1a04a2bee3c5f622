import { EventEmitter } from 'node:events';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SerialPort } from 'serialport';
import { EventBus } from '../src/bus.js';
import { DeviceManager } from '../src/drivers/device-manager.js';
import type { HidBackend, HidDeviceInfo, HidHandle } from '../src/drivers/scanner/hid-transport.js';
import { typeAsKeyboard } from '../src/drivers/scanner/keyboard-encoder.js';
import { BOOT_REPORT_SIZE } from '../src/drivers/scanner/keyboard-wedge.js';
import { createTransport, type DeviceUri, type Transport } from '../src/drivers/transport/index.js';
import { createRootLogger } from '../src/log.js';
import { type PtyPair, startPtyPair } from '../tests/integration/printer/helpers/socat.js';
import { fmt, nowMs, summarize } from './stats.js';

/**
 * Scan-to-event latency inside the daemon. A scan's bytes are written into one end of a real socat
 * pty pair; the other end is the daemon's scanner, built by the DeviceManager from its address as
 * in production (DeviceLink, transport, DecoderRunner, decoder, ScanPipeline with classification)
 * and the clock stops in a `scan` listener on the EventBus.
 *
 * - serial: `serial:///dev/pts/N`, CR/LF framing (SerialTransport over `serialport`).
 * - HID keyboard wedge: this machine has no /dev/uhid to make a real hidraw node, so the boot
 *   keyboard reports (byte-exact, from typeAsKeyboard: press and release per key, Shift, Enter)
 *   travel through the pty too, and a HidBackend hands them to the real HidTransport one 8-byte
 *   report per `data` event, as node-hid does with one hidraw read per report. `hid://0c2e:0b61`.
 * - reference, same run: the same bytes through the same kind of pty pair, read by a bare
 *   SerialPort that only counts them (no framing, no decoding, no bus).
 *
 * - in the daemon: from the moment the transport hands over the chunk that completes the scan
 *   (SerialPort `data`, or the pty read the HID reports came in) to the event: our code alone.
 *
 * Scans are sent one at a time (the next after the previous event and a 1 ms pause), in rounds that
 * alternate the four paths, each round on a fresh pty pair.
 */
const SCANS = Number(process.env.BENCH_SCANS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const TIMEOUT_MS = 1000;

/** A typical mix: EAN-13, WeChat and Alipay payment codes, a UPC-A, a URL from a QR code. */
const CODES = [
  '6901234567892',
  '134567890123456789',
  '286543210987654321',
  '036000291452',
  'https://e.example.cn/r/T01-20261125-000123',
];

const serialBytes = CODES.map((c) => Buffer.from(`${c}\r\n`, 'latin1'));
const hidBytes = CODES.map((c) => Buffer.concat(typeAsKeyboard(c, 'enter')));

const KEYBOARD: Omit<HidDeviceInfo, 'path'> = {
  vendorId: 0x0c2e,
  productId: 0x0b61,
  usagePage: 0x01,
  usage: 0x06,
  interface: 0,
  serialNumber: 'BENCH1',
};

/** When the last chunk of bytes reached the daemon's scanner (set by the two wrappers below). */
let lastArrival = 0;

/** The production serial transport, with the arrival of each chunk noted before it is passed on. */
class StampedTransport implements Transport {
  private readonly inner: Transport;
  constructor(readonly uri: DeviceUri) {
    this.inner = createTransport(uri);
  }
  get state() {
    return this.inner.state;
  }
  open(): Promise<void> {
    return this.inner.open();
  }
  write(data: Uint8Array): Promise<void> {
    return this.inner.write(data);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  onData(listener: (chunk: Buffer) => void): () => void {
    return this.inner.onData((chunk) => {
      lastArrival = nowMs();
      listener(chunk);
    });
  }
  onClose(listener: (err?: Error) => void): () => void {
    return this.inner.onClose(listener);
  }
}

/** A hidraw stand-in on a pty: its byte stream cut into boot reports, one `data` per report. */
class PtyHidHandle extends EventEmitter implements HidHandle {
  readonly port: SerialPort;
  readonly ready: Promise<void>;
  private rest: Buffer = Buffer.alloc(0);

  constructor(path: string) {
    super();
    this.port = new SerialPort({ path, baudRate: 115200 });
    this.ready = new Promise((resolve, reject) => {
      this.port.once('open', () => resolve());
      this.port.once('error', reject);
    });
    this.port.on('data', (chunk: Buffer) => {
      lastArrival = nowMs();
      let buf = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
      while (buf.length >= BOOT_REPORT_SIZE) {
        this.emit('data', buf.subarray(0, BOOT_REPORT_SIZE));
        buf = buf.subarray(BOOT_REPORT_SIZE);
      }
      this.rest = buf;
    });
    this.port.on('error', (err) => this.emit('error', err));
  }

  close(): void {
    if (this.port.isOpen) this.port.close();
  }
}

class PtyHidBackend implements HidBackend {
  handle: PtyHidHandle | undefined;
  constructor(private readonly path: string) {}
  devices(): HidDeviceInfo[] {
    return [{ ...KEYBOARD, path: this.path }];
  }
  open(path: string): HidHandle {
    this.handle = new PtyHidHandle(path);
    return this.handle;
  }
}

/** The sending end: the scanner's side of the pty, written synchronously so t0 is exact. */
function openWriter(path: string): number {
  return openSync(path, constants.O_RDWR | constants.O_NOCTTY);
}

type Arrival = { at: number; code?: string; inside?: number };

type Receiver = {
  /** Resolves with the time the scan (or all its bytes) arrived, and what arrived. */
  next(expected: number): Promise<Arrival>;
  stop(): Promise<void>;
};

/** The daemon: DeviceManager → scanner device → decoder → ScanPipeline → `scan` on the bus. */
async function daemonReceiver(pair: PtyPair, kind: 'serial' | 'hid'): Promise<Receiver> {
  const bus = new EventBus();
  const log = createRootLogger('info', { write: () => {} });
  const backend = new PtyHidBackend(pair.b);
  const dm = new DeviceManager({
    bus,
    log,
    scannerUri: kind === 'serial' ? `serial://${pair.b}?baud=115200` : 'hid://0c2e:0b61',
    displayUri: 'none',
    classifyOptions: () => ({ couponPrefixes: ['CP'], memberPrefixes: ['VIP'] }),
    hid: async () => backend,
    transport: (uri) => new StampedTransport(uri),
  });
  let waiting: ((v: Arrival) => void) | undefined;
  bus.on('scan', (e) => {
    const at = nowMs();
    const w = waiting;
    waiting = undefined;
    w?.({ at, code: e.data.code, inside: at - lastArrival });
  });
  await dm.start();
  if (backend.handle) await backend.handle.ready;
  const state = dm.snapshot().scanner.state;
  if (state !== 'ready') throw new Error(`scanner on ${pair.b} is ${state}`);
  return {
    next: () => new Promise((resolve) => (waiting = resolve)),
    stop: () => dm.stop(),
  };
}

/** Reference: a bare SerialPort on the same end, counting bytes until the scan's are all in. */
async function rawReceiver(pair: PtyPair): Promise<Receiver> {
  const port = new SerialPort({ path: pair.b, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  let got = 0;
  let want = 0;
  let waiting: ((v: { at: number }) => void) | undefined;
  port.on('data', (chunk: Buffer) => {
    got += chunk.length;
    if (waiting && got >= want) {
      const at = nowMs();
      const w = waiting;
      waiting = undefined;
      got -= want;
      w({ at });
    }
  });
  return {
    next: (expected) =>
      new Promise((resolve) => {
        want = expected;
        waiting = resolve;
      }),
    stop: () => new Promise<void>((resolve) => port.close(() => resolve())),
  };
}

interface Path {
  name: string;
  bytes: Buffer[];
  receiver: (pair: PtyPair) => Promise<Receiver>;
  latencies: number[];
  inside: number[];
  lost: number;
  wrong: number;
}

async function round(path: Path, count: number, offset: number): Promise<void> {
  const pair = await startPtyPair();
  const writer = openWriter(pair.a);
  const receiver = await path.receiver(pair);
  try {
    for (let i = 0; i < count; i++) {
      const k = (offset + i) % CODES.length;
      const bytes = path.bytes[k]!;
      const arrived = receiver.next(bytes.length);
      const t0 = nowMs();
      writeSync(writer, bytes);
      const r = await Promise.race([arrived, sleep(TIMEOUT_MS).then(() => undefined)]);
      if (!r) path.lost++;
      else {
        path.latencies.push(r.at - t0);
        if (r.inside !== undefined) path.inside.push(r.inside);
        if (r.code !== undefined && r.code !== CODES[k]) path.wrong++;
      }
      await sleep(1);
    }
  } finally {
    await receiver.stop();
    closeSync(writer);
    await pair.stop();
  }
}

const signed = (ms: number) => `${ms >= 0 ? '+' : '−'}${fmt(Math.abs(ms), 3)}`;

export async function benchScanLatency(): Promise<void> {
  const paths: Path[] = [
    {
      name: 'raw pty, serial bytes',
      bytes: serialBytes,
      receiver: rawReceiver,
      latencies: [],
      inside: [],
      lost: 0,
      wrong: 0,
    },
    {
      name: 'daemon, serial scanner',
      bytes: serialBytes,
      receiver: (p) => daemonReceiver(p, 'serial'),
      latencies: [],
      inside: [],
      lost: 0,
      wrong: 0,
    },
    {
      name: 'raw pty, HID reports',
      bytes: hidBytes,
      receiver: rawReceiver,
      latencies: [],
      inside: [],
      lost: 0,
      wrong: 0,
    },
    {
      name: 'daemon, HID keyboard wedge',
      bytes: hidBytes,
      receiver: (p) => daemonReceiver(p, 'hid'),
      latencies: [],
      inside: [],
      lost: 0,
      wrong: 0,
    },
  ];
  // Warm-up: one short round each (JIT, serialport's native binding, socat).
  for (const p of paths) {
    const keep = { ...p, latencies: [], inside: [], lost: 0, wrong: 0 };
    await round(keep, 100, 0);
  }
  const perRound = Math.ceil(SCANS / ROUNDS);
  for (let r = 0; r < ROUNDS; r++) for (const p of paths) await round(p, perRound, r * perRound);

  const avgBytes = (b: Buffer[]) => fmt(b.reduce((s, x) => s + x.length, 0) / b.length, 0);
  console.log(
    `scan-latency (${ROUNDS} rounds × ${perRound} scans per path, one at a time, socat pty pair; ms from write to event)`,
  );
  const s = paths.map((p) => summarize(p.latencies));
  paths.forEach((p, i) => {
    const x = s[i]!;
    console.log(
      `  ${p.name.padEnd(28)} p50 ${fmt(x.p50, 3)}  p99 ${fmt(x.p99, 3)}  max ${fmt(x.max, 3)}  (n=${x.n}, ~${avgBytes(p.bytes)} bytes a scan${p.lost ? `, LOST ${p.lost}` : ''}${p.wrong ? `, WRONG ${p.wrong}` : ''})`,
    );
  });
  for (const p of paths) {
    if (p.inside.length === 0) continue;
    const x = summarize(p.inside);
    console.log(
      `  ${`  of which in the daemon`.padEnd(28)} p50 ${fmt(x.p50, 3)}  p99 ${fmt(x.p99, 3)}  max ${fmt(x.max, 3)}  (${p.name.slice(8)}: chunk handed over → scan event)`,
    );
  }
  const [rawSerial, serial, rawHid, hid] = s as [
    ReturnType<typeof summarize>,
    ReturnType<typeof summarize>,
    ReturnType<typeof summarize>,
    ReturnType<typeof summarize>,
  ];
  console.log(
    `  serial: p50 ${fmt(serial.p50 / rawSerial.p50)}× the raw pty, ${signed(serial.p50 - rawSerial.p50)} ms; p99 ${fmt(serial.p99, 3)} ms (goal p99 ≤ 5 ms)`,
  );
  console.log(
    `  HID:    p50 ${fmt(hid.p50 / rawHid.p50)}× the raw pty, ${signed(hid.p50 - rawHid.p50)} ms; p99 ${fmt(hid.p99, 3)} ms (goal p99 ≤ 5 ms)`,
  );
}
