import fc from 'fast-check';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import type { DecoderEvent } from '../../src/drivers/scanner/decoder.js';
import { typeAsKeyboard } from '../../src/drivers/scanner/keyboard-encoder.js';
import { KeyboardWedgeDecoder, type WedgeSuffix } from '../../src/drivers/scanner/keyboard-wedge.js';
import { fuzzParams, fuzzScale, heapGrowth, MB } from './helpers/fuzz-env.js';

/** A boot keyboard report, mostly well formed (real usages, modifiers), sometimes anything. */
const usage = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0x04, max: 0x38 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0x59, max: 0x62 }) }, // keypad digits (Alt codes)
  { weight: 1, arbitrary: fc.constantFrom(0x00, 0x01, 0x28, 0x2b, 0x58, 0xe0, 0xe2, 0xff) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
);
const report = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.constantFrom(0, 0, 0x02, 0x04, 0x01, 0x08, 0x40, 0x20), fc.array(usage, { maxLength: 3 }))
      .map(([mod, keys]) => {
        const r = new Uint8Array(8);
        r[0] = mod;
        r.set(keys, 2);
        return r;
      }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 8, maxLength: 8 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 20 }) },
);

function checkEvents(events: DecoderEvent[], maxLength: number): void {
  for (const e of events) {
    if (e.type === 'code') {
      expect(e.code.length).toBeGreaterThan(0);
      expect(e.code.length).toBeLessThanOrEqual(maxLength);
    } else {
      expect(e.reason.length).toBeGreaterThan(0);
      expect(Number.isSafeInteger(e.bytes) && e.bytes >= 0).toBe(true);
    }
  }
}

/** Characters the encoder can type: the US keys, Alt codes below 256 (Windows-1252) and any code point above. */
const typeable = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...'0123456789abcxyzABCXYZ !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~') },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 0x80, max: 0xff })
      .map((b) => iconv.decode(Buffer.of(b), 'win1252'))
      .filter((c) => c !== '\ufffd'),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 0x100, max: 0x10ffff })
      .filter((cp) => cp < 0xd800 || cp > 0xdfff)
      .map((cp) => String.fromCodePoint(cp)),
  },
);

describe.each<WedgeSuffix>(['enter', 'tab', 'none'])('keyboard wedge decoder (suffix %s)', (suffix) => {
  it('any reports at any times: never throws, codes within the length cap, junk coded', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(report, fc.integer({ min: 0, max: 300 })), { maxLength: 80 }),
        fc.integer({ min: 1, max: 40 }),
        (reports, maxLength) => {
          const d = new KeyboardWedgeDecoder({ suffix, maxLength });
          let at = 0;
          for (const [r, gap] of reports) {
            at += gap;
            checkEvents(d.expire(at), maxLength);
            checkEvents(d.push(r, at), maxLength);
          }
          checkEvents(d.expire(at + 10_000), maxLength);
          checkEvents(d.reset(), maxLength);
          expect(d.deadline()).toBeUndefined();
        },
      ),
      fuzzParams(200),
    );
  });

  it('text typed as HID keyboard reports (keys, Shift, Alt codes) decodes byte-exact', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(typeable, { minLength: 1, maxLength: 30 }).map((a) => a.join('')),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        (texts) => {
          const d = new KeyboardWedgeDecoder({ suffix, interKeyTimeoutMs: 100 });
          const got: string[] = [];
          let at = 0;
          for (const text of texts) {
            for (const r of typeAsKeyboard(text, suffix)) {
              at += 2;
              for (const e of d.push(r, at)) if (e.type === 'code') got.push(e.code);
            }
            at += 1_000;
            for (const e of d.expire(at)) if (e.type === 'code') got.push(e.code);
          }
          expect(got).toEqual(texts);
        },
      ),
      fuzzParams(200),
    );
  });
});

describe('keyboard wedge decoder memory', () => {
  /** Alt held and keypad digits typed for ever (a stuck Alt key, or a hostile HID device). */
  function endlessAltCode(d: KeyboardWedgeDecoder, presses: number, at: { t: number }): void {
    const alt = Uint8Array.of(0x04, 0, 0, 0, 0, 0, 0, 0);
    const digit = Uint8Array.of(0x04, 0, 0x59, 0, 0, 0, 0, 0);
    for (let i = 0; i < presses; i++) {
      d.push(digit, ++at.t);
      d.push(alt, ++at.t);
    }
  }

  // Found by this fuzzer: every digit was kept (6.4 MB held after 200 000 presses).
  it('bounded memory: endless keypad digits under Alt are not all kept', () => {
    const d = new KeyboardWedgeDecoder({ interKeyTimeoutMs: 1_000_000 });
    const at = { t: 0 };
    const growth = heapGrowth(() => endlessAltCode(d, fuzzScale(120_000), at));
    expect(growth).toBeLessThan(2 * MB);
  });

  it('an Alt code longer than any character code is junk, and the next scan still decodes', () => {
    const d = new KeyboardWedgeDecoder();
    const at = { t: 0 };
    endlessAltCode(d, 12, at);
    const events: DecoderEvent[] = [];
    for (const r of typeAsKeyboard('6901234567892')) events.push(...d.push(r, ++at.t));
    // Alt released: the 12 digits are no character; the run is junk up to the suffix.
    expect(events).toEqual([expect.objectContaining({ type: 'junk' })]);
    for (const r of typeAsKeyboard('6901234567892')) events.push(...d.push(r, ++at.t));
    expect(events[1]).toEqual({ type: 'code', code: '6901234567892' });
  });
});
