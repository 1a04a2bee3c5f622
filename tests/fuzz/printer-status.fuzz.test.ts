import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/bus.js';
import {
  EscPosPrinter,
  type PrintOutcome,
  type SupervisedTransport,
} from '../../src/drivers/printer/printer.js';
import { type StatusEvent, StatusParser, type StatusQuery } from '../../src/drivers/printer/status.js';
import type { LinkHealth } from '../../src/drivers/transport/reconnecting-transport.js';
import { parseDeviceUri } from '../../src/drivers/transport/uri.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { fuzzParams, fuzzScale, heapGrowth, MB } from './helpers/fuzz-env.js';
import { countingLog } from './helpers/log-counter.js';

/*
 * The printer's back channel (DLE EOT replies, ASB blocks, GS r replies) is bytes from a device:
 * a broken cable, a different printer model or a hostile peripheral can send anything.
 */

/** Bytes biased towards the ones the parser branches on. */
const statusByte = fc.oneof(
  fc.integer({ min: 0, max: 255 }),
  fc.constantFrom(0x00, 0x0f, 0x10, 0x12, 0x16, 0x18, 0x1a, 0x1e, 0x36, 0x38, 0x72, 0x7e, 0x90, 0xff),
);
const bytes = (maxLength: number) => fc.array(statusByte, { maxLength }).map((a) => Uint8Array.from(a));

type Op =
  | { op: 'push'; bytes: Uint8Array }
  | { op: 'expect'; n: StatusQuery }
  | { op: 'transmit' }
  | { op: 'reset' }
  | { op: 'resetAll' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: bytes(24).map((b) => ({ op: 'push' as const, bytes: b })) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<StatusQuery>(1, 2, 3, 4).map((n) => ({ op: 'expect' as const, n })),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'transmit' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'reset' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'resetAll' as const }) },
);

const EVENT_BYTES = { realtime: 1, transmit: 1, asb: 4 } as const;

function checkStatus(e: StatusEvent): void {
  const s = e.status;
  if (s.paper !== undefined) expect(['ok', 'near-end', 'out']).toContain(s.paper);
  if (s.cover !== undefined) expect(['open', 'closed']).toContain(s.cover);
  for (const k of ['offline', 'error', 'fatal', 'drawerPin3High'] as const) {
    if (s[k] !== undefined) expect(typeof s[k]).toBe('boolean');
  }
}

describe('printer status bytes (StatusParser)', () => {
  it('any bytes and query interleaving: never throws, every byte is a reply, part of an ASB block or counted junk', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        let pushed = 0;
        let decoded = 0;
        let junkReported = 0;
        const p = new StatusParser(
          (e) => {
            checkStatus(e);
            decoded += EVENT_BYTES[e.kind];
          },
          (b) => {
            expect(b.length).toBeGreaterThan(0);
            junkReported += b.length;
          },
        );
        for (const o of ops) {
          if (o.op === 'push') {
            pushed += o.bytes.length;
            p.push(o.bytes);
          } else if (o.op === 'expect') p.expect(o.n);
          else if (o.op === 'transmit') p.expectTransmit();
          else if (o.op === 'reset') p.reset();
          else p.resetAll();
          // At most the 3 bytes of an unfinished ASB block are held back.
          expect(pushed - decoded - p.junkBytes).toBeGreaterThanOrEqual(0);
          expect(pushed - decoded - p.junkBytes).toBeLessThanOrEqual(3);
        }
        p.resetAll();
        expect(decoded + p.junkBytes).toBe(pushed);
        expect(junkReported).toBe(p.junkBytes);
        expect(p.outstanding).toBe(0);
      }),
      fuzzParams(200),
    );
  });

  it('the same bytes split anywhere decode to the same events and junk', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom<StatusQuery>(1, 2, 3, 4), { maxLength: 8 }),
        fc.nat({ max: 3 }),
        bytes(120),
        fc.array(fc.nat(), { maxLength: 10 }),
        (queries, transmits, stream, cuts) => {
          const run = (chunks: Uint8Array[]) => {
            const events: StatusEvent[] = [];
            const p = new StatusParser((e) => events.push(e));
            for (const q of queries) p.expect(q);
            for (let i = 0; i < transmits; i++) p.expectTransmit();
            for (const c of chunks) p.push(c);
            return { events, junk: p.junkBytes };
          };
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const chunks: Uint8Array[] = [];
          let from = 0;
          for (const at of points) {
            chunks.push(stream.subarray(from, at));
            from = at;
          }
          chunks.push(stream.subarray(from));
          expect(run(chunks)).toEqual(run([stream]));
        },
      ),
      fuzzParams(200),
    );
  });

  it('a valid back channel (replies, GS r, ASB blocks in any order) decodes exactly, with no junk', () => {
    const realtime = fc.integer({ min: 0, max: 255 }).map((b) => (b & ~0x93) | 0x12);
    const asb = fc
      .tuple(
        fc.integer({ min: 0, max: 255 }),
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 3, maxLength: 3 }),
      )
      .map(([b1, rest]) => [(b1 & ~0x93) | 0x10, ...rest.map((b) => b & ~0x90)]);
    const transmit = fc.integer({ min: 0, max: 255 }).map((b) => b & ~0x90);
    const message = fc.oneof(
      fc.tuple(fc.constant('realtime' as const), fc.constantFrom<StatusQuery>(1, 2, 3, 4), realtime),
      fc.tuple(fc.constant('asb' as const), fc.constant(0 as const), asb),
      fc.tuple(fc.constant('transmit' as const), fc.constant(0 as const), transmit),
    );
    fc.assert(
      fc.property(fc.array(message, { maxLength: 40 }), (messages) => {
        const events: StatusEvent[] = [];
        const p = new StatusParser((e) => events.push(e));
        const stream: number[] = [];
        for (const [kind, n, b] of messages) {
          if (kind === 'realtime') p.expect(n as StatusQuery);
          if (kind === 'transmit') p.expectTransmit();
          stream.push(...(Array.isArray(b) ? b : [b]));
        }
        // A transmit reply is only told from ASB bytes by order: send them after their query.
        p.push(Uint8Array.from(stream));
        expect(p.junkBytes).toBe(0);
        expect(events.map((e) => e.kind)).toEqual(messages.map(([k]) => k));
      }),
      fuzzParams(200),
    );
  });

  it('bounded memory: a flood of junk and broken ASB starts keeps nothing', () => {
    const p = new StatusParser(() => {});
    const flood = Uint8Array.from({ length: 64 * 1024 }, (_, i) => [0x10, 0x00, 0x90, 0xff, 0x12][i % 5]!);
    const rounds = fuzzScale(20);
    const growth = heapGrowth(() => {
      for (let i = 0; i < rounds; i++) {
        p.expect(1);
        p.push(flood);
      }
      p.reset();
    });
    expect(growth).toBeLessThan(2 * MB);
  });
});

/** The printer's link as the driver sees it; bytes from the "printer" are whatever the test says. */
class HostileLink implements SupervisedTransport {
  readonly uri = parseDeviceUri('tcp://127.0.0.1:9100');
  state: SupervisedTransport['state'] = 'closed';
  health: LinkHealth = 'connecting';
  lastError: Error | undefined;
  written = 0;
  private data: Array<(chunk: Buffer) => void> = [];
  private healthListeners: Array<(h: LinkHealth, err?: Error) => void> = [];

  async open(): Promise<void> {
    this.state = 'open';
    this.setHealth('open');
  }
  async write(data: Uint8Array): Promise<void> {
    if (this.health !== 'open') throw new Error('link down');
    this.written += data.length;
  }
  async close(): Promise<void> {
    this.state = 'closed';
  }
  onData(listener: (chunk: Buffer) => void): () => void {
    this.data.push(listener);
    return () => {
      this.data = this.data.filter((l) => l !== listener);
    };
  }
  onClose(): () => void {
    return () => {};
  }
  onHealth(listener: (h: LinkHealth, err?: Error) => void): () => void {
    this.healthListeners.push(listener);
    return () => {
      this.healthListeners = this.healthListeners.filter((l) => l !== listener);
    };
  }
  setHealth(h: LinkHealth): void {
    this.health = h;
    for (const l of this.healthListeners) l(h, h === 'open' ? undefined : new Error('cable pulled'));
  }
  /** Bytes "from the printer": listener errors are not swallowed here, so a parser throw fails the test. */
  send(chunk: Uint8Array): void {
    for (const l of this.data) l(Buffer.from(chunk));
  }
}

type PrinterOp =
  | { op: 'bytes'; bytes: Uint8Array }
  | { op: 'print' }
  | { op: 'advance'; ms: number }
  | { op: 'drop' }
  | { op: 'reconnect' };

const printerOp: fc.Arbitrary<PrinterOp> = fc.oneof(
  { weight: 6, arbitrary: bytes(32).map((b) => ({ op: 'bytes' as const, bytes: b })) },
  { weight: 2, arbitrary: fc.constant({ op: 'print' as const }) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 3_000 }).map((ms) => ({ op: 'advance' as const, ms })) },
  { weight: 1, arbitrary: fc.constant({ op: 'drop' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'reconnect' as const }) },
);

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('printer driver read path (EscPosPrinter over a hostile back channel)', () => {
  it('any bytes, drops and jobs: no throw, every job ends with a coded outcome, the snapshot stays well formed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(printerOp, { maxLength: 40 }), async (ops) => {
        const timers = new ManualTimers();
        const link = new HostileLink();
        const { log } = countingLog(0);
        const bus = new EventBus();
        const printer = new EscPosPrinter({ transport: link, bus, log, timers, jobTimeoutMs: 10_000 });
        const jobs: Array<Promise<PrintOutcome>> = [];
        const opened = printer.open();
        await flush();
        for (const o of ops) {
          if (o.op === 'bytes') link.send(o.bytes);
          else if (o.op === 'print') jobs.push(printer.print(Uint8Array.of(0x1b, 0x40, 0x41, 0x0a)));
          else if (o.op === 'advance') timers.advance(o.ms);
          else if (o.op === 'drop') link.setHealth('degraded');
          else link.setHealth('open');
          await flush();
          const snap = printer.snapshot();
          expect(['ok', 'near-end', 'out']).toContain(snap.paper);
          expect(['open', 'closed']).toContain(snap.cover);
          expect(Number.isSafeInteger(snap.junkBytes)).toBe(true);
        }
        // Time runs out for everything still waiting: each job must then have ended.
        for (let i = 0; i < 20; i++) {
          timers.advance(70_000);
          await flush();
        }
        await opened;
        const outcomes = await Promise.all(jobs);
        for (const out of outcomes) {
          expect(['printed', 'not-started', 'maybe-partial']).toContain(out.result);
          if (out.result !== 'printed') expect(out.code).toMatch(/^[A-Z_]+$/);
        }
        await printer.close();
      }),
      fuzzParams(60),
    );
  });

  it('bounded log lines: a flood of junk from the printer does not log a line per byte or chunk', async () => {
    const timers = new ManualTimers();
    const link = new HostileLink();
    const { log, count } = countingLog();
    const printer = new EscPosPrinter({ transport: link, bus: new EventBus(), log, timers });
    const opened = printer.open();
    await flush();
    timers.advance(5_000); // the first status query goes unanswered
    await opened;
    const before = count();
    // 10 000 chunks of junk within one minute of the printer's clock.
    for (let i = 0; i < 10_000; i++) {
      link.send(Uint8Array.of(0xff, 0x13, i & 0xff));
      if (i % 1_000 === 0) timers.advance(6_000);
    }
    await flush();
    expect(printer.snapshot().junkBytes).toBeGreaterThan(20_000);
    expect(count() - before).toBeLessThanOrEqual(20);
    await printer.close();
  });
});
