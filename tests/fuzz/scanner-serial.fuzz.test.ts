import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecoderEvent } from '../../src/drivers/scanner/decoder.js';
import { SerialFramer, type SerialFraming } from '../../src/drivers/scanner/serial-framer.js';
import { fuzzParams, fuzzScale, heapGrowth, MB } from './helpers/fuzz-env.js';

/** Bytes biased towards what the framer branches on: CR, LF, allowed and refused control bytes. */
const serialByte = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 1, arbitrary: fc.constantFrom(0x0d, 0x0a, 0x04, 0x1d, 0x1e, 0x00, 0x7f, 0x1b) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
);
const chunk = fc.array(serialByte, { maxLength: 40 }).map((a) => Uint8Array.from(a));
/** A chunk and the ms since the previous one (0 = same burst, large = a pause). */
const timedChunk = fc.tuple(chunk, fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 400 })));

function checkEvents(events: DecoderEvent[], maxLength: number): void {
  for (const e of events) {
    if (e.type === 'code') {
      expect(e.code.length).toBeGreaterThan(0);
      expect(Buffer.byteLength(e.code, 'latin1')).toBeLessThanOrEqual(maxLength);
      // A code never carries the framing bytes or control characters other than EOT, GS, RS.
      expect(e.code).not.toMatch(/[\x00-\x03\x05-\x1c\x1f\x7f]/);
    } else {
      expect(e.type).toBe('junk');
      expect(e.reason.length).toBeGreaterThan(0);
      expect(Number.isSafeInteger(e.bytes) && e.bytes >= 0).toBe(true);
    }
  }
}

describe.each<SerialFraming>(['suffix', 'timeout'])('serial scanner framer (%s framing)', (framing) => {
  it('any bytes at any times: never throws, emits only clean codes within the length cap or coded junk', () => {
    fc.assert(
      fc.property(
        fc.array(timedChunk, { maxLength: 50 }),
        fc.integer({ min: 1, max: 64 }),
        (chunks, maxLength) => {
          const f = new SerialFramer({ framing, maxLength });
          let at = 1_000;
          for (const [bytes, gap] of chunks) {
            at += gap;
            const due = f.deadline();
            if (due !== undefined && due <= at) checkEvents(f.expire(at), maxLength);
            checkEvents(f.push(bytes, at), maxLength);
            const next = f.deadline();
            if (next !== undefined) expect(next).toBeGreaterThan(at);
          }
          checkEvents(f.expire(at + 10_000), maxLength);
          expect(f.deadline()).toBeUndefined();
          expect(f.reset()).toEqual([]);
        },
      ),
      fuzzParams(200),
    );
  });

  it('valid codes, split anywhere within a burst, come out exactly', () => {
    const code = fc.string({
      unit: fc.constantFrom(...'0123456789ABCZabcz-./:%\x1d'),
      minLength: 1,
      maxLength: 60,
    });
    fc.assert(
      fc.property(
        fc.array(code, { minLength: 1, maxLength: 8 }),
        fc.constantFrom('\r', '\n', '\r\n'),
        fc.array(fc.nat(), { maxLength: 12 }),
        (codes, suffix, cuts) => {
          const f = new SerialFramer({ framing, interByteTimeoutMs: 50 });
          const got: string[] = [];
          let at = 0;
          for (const c of codes) {
            const wire = Buffer.from(framing === 'suffix' ? c + suffix : c, 'latin1');
            const points = [...new Set(cuts.map((x) => x % (wire.length + 1)))].sort((a, b) => a - b);
            let from = 0;
            for (const p of [...points, wire.length]) {
              for (const e of f.push(wire.subarray(from, p), at)) if (e.type === 'code') got.push(e.code);
              from = p;
              at += 1;
            }
            at += 500; // the pause between two scans (ends a code in timeout framing)
            for (const e of f.expire(at)) if (e.type === 'code') got.push(e.code);
          }
          expect(got).toEqual(codes);
        },
      ),
      fuzzParams(200),
    );
  });

  it('bounded memory: an endless line without CR/LF keeps at most maxLength bytes', () => {
    const f = new SerialFramer({ framing, interByteTimeoutMs: 1_000_000 });
    const block = Buffer.alloc(64 * 1024, 0x41);
    const rounds = fuzzScale(40);
    let at = 0;
    const growth = heapGrowth(() => {
      for (let i = 0; i < rounds; i++) f.push(block, at++);
    });
    expect(growth).toBeLessThan(2 * MB);
    const out = f.push(Uint8Array.of(0x0d), at);
    if (framing === 'suffix') expect(out).toEqual([expect.objectContaining({ type: 'junk' })]);
  });
});
