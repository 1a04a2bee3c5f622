import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { channelOfAuthCode } from '../../src/core/payment-code.js';
import { classify, gtinCheckDigitValid, gtinSymbology } from '../../src/drivers/scanner/classify.js';
import { fuzzParams } from './helpers/fuzz-env.js';

const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
const code = fc.oneof(
  digits(1, 26),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'CP', 'MB', ''),
  fc.tuple(fc.constantFrom('CP', 'MB', '13', '28', '62'), digits(0, 22)).map(([p, d]) => p + d),
);
const prefixes = fc.array(
  fc.oneof(fc.constantFrom('CP', 'MB', '', '6', '__proto__'), fc.string({ maxLength: 4 })),
  {
    maxLength: 4,
  },
);
const KINDS = ['payment', 'coupon', 'member', 'product', 'unknown'];

/** A GTIN with its mod-10 check digit. */
function withCheckDigit(body: string): string {
  for (let c = 0; c <= 9; c++) if (gtinCheckDigitValid(body + c)) return body + c;
  throw new Error('no check digit');
}

describe('scanned code classifier', () => {
  it('any code and prefixes: never throws; payment codes are never anything else; the code is kept as scanned', () => {
    fc.assert(
      fc.property(
        code,
        prefixes,
        prefixes,
        fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
        (c, cp, mp, sym) => {
          const r = classify(c, { couponPrefixes: cp, memberPrefixes: mp }, sym);
          expect(KINDS).toContain(r.kind);
          expect(r.code).toBe(c);
          const channel = channelOfAuthCode(c);
          if (channel) expect(r).toMatchObject({ kind: 'payment', channel });
          else expect(r.kind).not.toBe('payment');
          if (r.kind === 'coupon') expect(cp.some((p) => p !== '' && c.startsWith(p))).toBe(true);
          if (r.kind === 'member') expect(mp.some((p) => p !== '' && c.startsWith(p))).toBe(true);
          if (r.kind === 'product') expect(gtinSymbology(c)).toBeDefined();
        },
      ),
      fuzzParams(300),
    );
  });

  it('a GTIN with one digit changed is never taken for a product', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(7, 11, 12),
        digits(12, 12),
        fc.nat(),
        fc.integer({ min: 1, max: 9 }),
        (len, body, at, delta) => {
          const gtin = withCheckDigit(body.slice(0, len));
          const none = { couponPrefixes: [], memberPrefixes: [] };
          if (!channelOfAuthCode(gtin)) expect(classify(gtin, none).kind).toBe('product');
          const i = at % gtin.length;
          const changed = gtin.slice(0, i) + ((Number(gtin[i]) + delta) % 10) + gtin.slice(i + 1);
          expect(classify(changed, none).kind).not.toBe('product');
        },
      ),
      fuzzParams(300),
    );
  });
});
