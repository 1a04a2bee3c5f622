import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type EscPosCommand, EscPosDecoder } from '../../src/drivers/printer/escpos-decoder.js';
import { VfdInterpreter } from '../../src/drivers/sim/vfd-interpreter.js';
import { fuzzParams, heapGrowth, MB } from './helpers/fuzz-env.js';

/*
 * The simulated printer and display listen on TCP ports and ptys in the demo: whatever connects
 * can send them anything. Their decoders must survive any bytes, in any chunks, in linear time
 * and bounded memory.
 */

const ESCPOS_BYTES = [
  0x1b, 0x1d, 0x1c, 0x10, 0x00, 0x0a, 0x0d, 0x21, 0x28, 0x30, 0x40, 0x56, 0x61, 0x6b, 0x76,
];
const VFD_BYTES = [0x1b, 0x1f, 0x0c, 0x0b, 0x0d, 0x0a, 0x08, 0x09, 0x40, 0x51, 0x41, 0x42, 0x6c, 0x24, 0x43];
const biased = (special: number[]) =>
  fc
    .array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...special)), { maxLength: 200 })
    .map((a) => Uint8Array.from(a));

function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  return out;
}

function mergeText(cmds: EscPosCommand[]): unknown[] {
  const out: unknown[] = [];
  for (const c of cmds) {
    const last = out[out.length - 1] as { op: string; bytes: number[] } | undefined;
    if (c.op === 'text' && last?.op === 'text') last.bytes.push(...c.bytes);
    else out.push(c.op === 'text' ? { op: 'text', bytes: [...c.bytes] } : c);
  }
  return out;
}

describe('ESC/POS decoder of the simulated printer', () => {
  it('any bytes in any chunks: never throws, and the chunking does not change what is decoded', () => {
    fc.assert(
      fc.property(biased(ESCPOS_BYTES), fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        const whole = new EscPosDecoder();
        const a = whole.push(bytes);
        const split = new EscPosDecoder();
        const b = chunked(bytes, cuts).flatMap((c) => split.push(c));
        // A text run may come out in pieces where the write was cut; its bytes may not change.
        expect(mergeText(b)).toEqual(mergeText(a));
        expect(split.pendingBytes).toBe(whole.pendingBytes);
        expect(split.junkBytes).toBe(whole.junkBytes);
      }),
      fuzzParams(200),
    );
  });

  // Found by this fuzzer: the partial command was kept and recopied on every write, without limit.
  it('a command announcing gigabytes (GS v 0 raster 65535 × 65535) or never ending (barcode without NUL) is not buffered for ever', () => {
    for (const start of [
      Uint8Array.of(0x1d, 0x76, 0x30, 0x00, 0xff, 0xff, 0xff, 0xff),
      Uint8Array.of(0x1d, 0x6b, 0x04),
    ]) {
      const d = new EscPosDecoder();
      d.push(start);
      const block = new Uint8Array(64 * 1024).fill(0x41);
      const growth = heapGrowth(() => {
        for (let i = 0; i < 20; i++) d.push(block);
      });
      expect(d.pendingBytes).toBeLessThanOrEqual(1 * MB);
      expect(growth).toBeLessThan(8 * MB);
    }
  });
});

describe('VFD interpreter of the simulated customer display', () => {
  it('any bytes in any chunks: never throws, the glass stays 2 × 20, chunking does not matter', () => {
    fc.assert(
      fc.property(biased(VFD_BYTES), fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        const whole = new VfdInterpreter();
        whole.feed(bytes);
        const split = new VfdInterpreter();
        for (const c of chunked(bytes, cuts)) split.feed(c);
        const lines = split.lines();
        expect(lines).toHaveLength(2);
        for (const l of lines) expect(l).toHaveLength(20);
        expect(lines).toEqual(whole.lines());
        expect(split.junkBytes).toBe(whole.junkBytes);
      }),
      fuzzParams(200),
    );
  });

  // Found by this fuzzer: each command was spliced off the front of everything written, so one
  // large write took quadratic time (a megabyte did not finish within the test timeout).
  it('regression: a megabyte of text in one write is handled in linear time', () => {
    const v = new VfdInterpreter();
    v.feed(new Uint8Array(1024 * 1024).fill(0x41));
    expect(v.lines()[0]).toBe('A'.repeat(20));
  });
});
