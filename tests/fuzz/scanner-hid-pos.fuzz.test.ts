import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToText, type DecoderEvent } from '../../src/drivers/scanner/decoder.js';
import {
  encodeHidPosReports,
  HID_POS_REPORT_SIZE,
  HidPosDecoder,
} from '../../src/drivers/scanner/hid-pos.js';
import { fuzzParams, fuzzScale, heapGrowth, MB } from './helpers/fuzz-env.js';

/** The longest barcode a scanner may hand over (local-v1 scan length cap). */
const MAX_SCAN = 4096;

const aim = fc.oneof(
  fc.constantFrom(']E0', ']E4', ']Q1', ']C0', ']d2', ''),
  fc
    .tuple(fc.constantFrom('A', 'z', '9', '_', '\u0000'), fc.constantFrom('0', 'Z', ' '))
    .map(([c, m]) => `]${c}${m}`),
);

/** Valid reports of a barcode, then bit flips and byte changes here and there. */
const mutatedReports = fc
  .tuple(
    fc.uint8Array({ minLength: 0, maxLength: 300 }),
    fc.constantFrom(']E0', ']Q1', ''),
    fc.array(fc.tuple(fc.nat(), fc.nat({ max: HID_POS_REPORT_SIZE - 1 }), fc.integer({ min: 0, max: 255 })), {
      maxLength: 4,
    }),
  )
  .map(([data, id, edits]) => {
    const reports = encodeHidPosReports(data, id).map((r) => Uint8Array.from(r));
    for (const [which, at, value] of edits) reports[which % reports.length]![at] = value;
    return reports;
  });

const anyReport = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ minLength: HID_POS_REPORT_SIZE, maxLength: HID_POS_REPORT_SIZE }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 80 }) },
);

function checkEvents(events: DecoderEvent[]): void {
  for (const e of events) {
    if (e.type === 'code') {
      expect(e.code.length).toBeGreaterThan(0);
      expect(Buffer.byteLength(e.code)).toBeLessThanOrEqual(MAX_SCAN);
      if (e.symbology !== undefined) expect(e.symbology.length).toBeGreaterThan(0);
    } else {
      expect(e.reason.length).toBeGreaterThan(0);
      expect(Number.isSafeInteger(e.bytes) && e.bytes >= 0).toBe(true);
    }
  }
}

describe('HID-POS barcode reports', () => {
  it('any reports, valid, mutated or random, at any times: never throws, codes within the cap, junk coded', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.oneof(
              mutatedReports,
              anyReport.map((r) => [r]),
            ),
            fc.integer({ min: 0, max: 400 }),
          ),
          { maxLength: 20 },
        ),
        (batches) => {
          const d = new HidPosDecoder();
          let at = 0;
          for (const [reports, gap] of batches) {
            at += gap;
            checkEvents(d.expire(at));
            for (const r of reports) checkEvents(d.push(r, at++));
          }
          checkEvents(d.expire(at + 10_000));
          checkEvents(d.reset());
          expect(d.deadline()).toBeUndefined();
        },
      ),
      fuzzParams(200),
    );
  });

  it('a barcode of 1 to 4096 bytes, in as many reports as it takes, decodes exactly', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: MAX_SCAN }), aim, (data, id) => {
        const d = new HidPosDecoder();
        const events = encodeHidPosReports(data, id).flatMap((r, i) => d.push(r, i));
        const malformed = id !== '' && !/^\][A-Za-z0-9][A-Za-z0-9]$/.test(id);
        if (malformed) {
          expect(events.every((e) => e.type === 'junk')).toBe(true);
          return;
        }
        expect(events).toHaveLength(1);
        expect(events[0]).toMatchObject({ type: 'code', code: bytesToText(data) });
      }),
      fuzzParams(200),
    );
  });

  it('a barcode longer than 4096 bytes is junk, and the next one still decodes', () => {
    const d = new HidPosDecoder();
    const long = encodeHidPosReports(Buffer.alloc(MAX_SCAN + 1, 0x41));
    const events = long.flatMap((r, i) => d.push(r, i));
    expect(events.some((e) => e.type === 'code')).toBe(false);
    expect(events.some((e) => e.type === 'junk')).toBe(true);
    const next = encodeHidPosReports(Buffer.from('6901234567892')).flatMap((r) => d.push(r, long.length));
    expect(next).toEqual([{ type: 'code', code: '6901234567892', symbology: 'ean-13' }]);
  });

  it('bounded memory: a barcode whose reports all say "continued" is not kept whole', () => {
    const d = new HidPosDecoder({ interReportTimeoutMs: 1_000_000 });
    const r = encodeHidPosReports(Buffer.alloc(56, 0x41))[0]!;
    r[63] = 1; // continued, for ever
    let at = 0;
    const growth = heapGrowth(() => {
      for (let i = 0; i < fuzzScale(30_000); i++) d.push(Uint8Array.from(r), at++);
    });
    expect(growth).toBeLessThan(2 * MB);
  });
});
