/**
 * Random report streams (seeded, so every run replays exactly).
 *
 * What "never emits a code that was not scanned" means here: a run of well-formed key reports
 * ended by the suffix key *is* a scan at the byte level, whoever sent it; no decoder can tell it
 * from a real one. So the garbage we generate never contains the suffix key (Enter) in a
 * well-formed report (nor a valid HID-POS final report, nor a clean CR/LF-ended line), and the
 * property is exact: the codes emitted are exactly the codes scanned, in order — garbage, scans
 * corrupted by a malformed report in the middle and scans cut off before their suffix all come
 * out as junk (counted), never as a code, and never corrupt the scan that follows a pause.
 */
import { describe, expect, it } from 'vitest';
import type { DecoderEvent, ScanDecoder } from '../../../src/drivers/scanner/decoder.js';
import { encodeHidPosReports, HidPosDecoder } from '../../../src/drivers/scanner/hid-pos.js';
import { typeAsKeyboard } from '../../../src/drivers/scanner/keyboard-encoder.js';
import { KeyboardWedgeDecoder } from '../../../src/drivers/scanner/keyboard-wedge.js';
import { SerialFramer } from '../../../src/drivers/scanner/serial-framer.js';
import { randomInt, seededRandom } from '../../helpers/random.js';

const STREAMS = 100_000;
const TIMEOUT = 50;

type Rand = () => number;
const pick = <T>(rand: Rand, items: readonly T[]): T => items[randomInt(rand, 0, items.length - 1)]!;
const bytes = (rand: Rand, n: number) => Uint8Array.from({ length: n }, () => randomInt(rand, 0, 255));

const ALPHABET = [
  ...'0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
  'é',
  'Ä',
  '中',
  '\x1d',
];
function randomCode(rand: Rand, max: number): string {
  let s = '';
  for (let i = randomInt(rand, 1, max); i > 0; i--) s += pick(rand, ALPHABET);
  return s;
}

/** A report no boot keyboard sends: wrong size, or a key reported twice. */
function malformedKeyboardReport(rand: Rand): Uint8Array {
  if (rand() < 0.5) {
    let n = randomInt(rand, 0, 15);
    if (n === 8) n = 9;
    return bytes(rand, n);
  }
  const r = bytes(rand, 8);
  r[2] = r[3] = randomInt(rand, 4, 0x65);
  return r;
}

/** Random bytes, or a well-formed report of random keys; never a well-formed Enter. */
function keyboardGarbage(rand: Rand): Uint8Array {
  let r: Uint8Array;
  if (rand() < 0.5) r = bytes(rand, randomInt(rand, 0, 16));
  else {
    r = new Uint8Array(8);
    r[0] = randomInt(rand, 0, 255);
    for (let i = 2; i < 2 + randomInt(rand, 0, 6); i++) r[i] = randomInt(rand, 4, 0x65);
  }
  if (r.length === 8) for (let i = 2; i < 8; i++) if (r[i] === 0x28 || r[i] === 0x58) r[i] = 0xff;
  return r;
}

interface Stream {
  chunks: Array<{ data: Uint8Array; at: number }>;
  scanned: string[];
  expectJunk: number;
}

/** Segments of one kind each, separated by pauses longer than the timeout. */
function buildStream(
  rand: Rand,
  scan: (code: string) => Uint8Array[],
  code: () => string,
  garbage: () => Uint8Array,
  malformed: () => Uint8Array,
  minCorruptible: number,
  /** Reports a cut-off scan keeps at least (enough to hold a character). */
  minKept = 1,
): Stream {
  const chunks: Stream['chunks'] = [];
  const scanned: string[] = [];
  let expectJunk = 0;
  let t = randomInt(rand, 0, 1000);
  const emit = (list: Uint8Array[]) => {
    for (const data of list) {
      chunks.push({ data, at: t });
      t += randomInt(rand, 0, 10);
    }
    t += TIMEOUT + 1 + randomInt(rand, 0, 100);
  };
  for (let s = randomInt(rand, 1, 4); s > 0; s--) {
    const kind = rand();
    const c = code();
    const reports = scan(c);
    if (kind < 0.4) {
      emit(reports);
      scanned.push(c);
    } else if (kind < 0.7) {
      emit(Array.from({ length: randomInt(rand, 1, 8) }, garbage));
    } else if (kind < 0.85 && reports.length >= minCorruptible) {
      // A malformed report in the middle of a scan: the whole scan is junk.
      const at = randomInt(rand, 1, reports.length - 2);
      emit([...reports.slice(0, at), malformed(), ...reports.slice(at)]);
      expectJunk++;
    } else if (reports.length >= minCorruptible) {
      // Cut off before its last part (suffix / final report).
      emit(reports.slice(0, randomInt(rand, minKept, reports.length - 2)));
      expectJunk++;
    }
  }
  return { chunks, scanned, expectJunk };
}

function run(decoder: ScanDecoder, stream: Stream): { codes: string[]; junk: DecoderEvent[] } {
  const events: DecoderEvent[] = [];
  for (const { data, at } of stream.chunks) events.push(...decoder.push(data, at));
  const end = decoder.deadline();
  if (end !== undefined) events.push(...decoder.expire(end));
  return {
    codes: events.flatMap((e) => (e.type === 'code' ? [e.code] : [])),
    junk: events.filter((e) => e.type === 'junk'),
  };
}

function property(seed: number, make: () => ScanDecoder, build: (rand: Rand) => Stream): void {
  const rand = seededRandom(seed);
  for (let i = 0; i < STREAMS; i++) {
    const stream = build(rand);
    const decoder = make();
    let result: ReturnType<typeof run>;
    try {
      result = run(decoder, stream);
    } catch (err) {
      throw new Error(`stream ${i} (seed ${seed}) crashed the decoder: ${String(err)}`);
    }
    if (result.codes.join('\n') !== stream.scanned.join('\n') || result.junk.length < stream.expectJunk) {
      if (process.env.DEBUG_STREAM)
        console.log(stream.chunks.map((c) => `${c.at} ${Buffer.from(c.data).toString('hex')}`).join('\n'));
      expect({ stream: i, codes: result.codes, junk: result.junk.length }).toEqual({
        stream: i,
        codes: stream.scanned,
        junk: stream.expectJunk,
      });
    }
  }
}

describe('100,000 random report streams per decoder', () => {
  it('keyboard wedge: emits exactly the scanned codes, everything else is junk', () => {
    property(
      0x5eed1,
      () => new KeyboardWedgeDecoder({ interKeyTimeoutMs: TIMEOUT }),
      (rand) =>
        buildStream(
          rand,
          (c) => typeAsKeyboard(c),
          () => randomCode(rand, 24),
          () => keyboardGarbage(rand),
          () => malformedKeyboardReport(rand),
          4,
          2, // a lone Alt-down report types nothing yet
        ),
    );
  });

  it('HID-POS: emits exactly the scanned barcodes, multi-report ones included', () => {
    const aims = [']E0', ']Q1', ']C0', ']d2', ''];
    property(
      0x5eed2,
      () => new HidPosDecoder({ interReportTimeoutMs: TIMEOUT }),
      (rand) =>
        buildStream(
          rand,
          (c) => encodeHidPosReports(Buffer.from(c, 'utf8'), pick(rand, aims)),
          () => randomCode(rand, 150),
          () => {
            const r = bytes(rand, rand() < 0.5 ? 64 : randomInt(rand, 0, 70));
            if (r.length > 0 && rand() < 0.5) r[0] = 2;
            return r;
          },
          () => bytes(rand, randomInt(rand, 0, 63)),
          3,
        ),
    );
  });

  it('serial framing: emits exactly the scanned codes', () => {
    const suffixes = ['\r', '\n', '\r\n'];
    const enc = (s: string) => Buffer.from(s, 'utf8');
    property(
      0x5eed3,
      () => new SerialFramer({ interByteTimeoutMs: TIMEOUT }),
      (rand) => {
        // Serial chunks are split anywhere: cut each scan's bytes at random points.
        const split = (buf: Uint8Array) => {
          const out: Uint8Array[] = [];
          for (let i = 0; i < buf.length; ) {
            const n = randomInt(rand, 1, buf.length - i);
            out.push(buf.subarray(i, i + n));
            i += n;
          }
          return out;
        };
        return buildStream(
          rand,
          (c) => [...split(enc(c)), enc(pick(rand, suffixes))],
          () => randomCode(rand, 40).replace(/\x1d/g, 'x'),
          // Line noise never ends with a clean line: CR/LF become NUL, a control byte.
          () => bytes(rand, randomInt(rand, 0, 20)).map((b) => (b === 0x0d || b === 0x0a ? 0 : b)),
          () => Uint8Array.of(0x00),
          3,
        );
      },
    );
  });
});
