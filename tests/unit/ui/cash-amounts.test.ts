import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyHistory, priceRefund } from '../../../src/core/refund.js';
import type { PricedLine } from '../../../src/core/sale.js';
import { parseYuan, quickAmounts, toYuanText } from '../../../ui/src/money.js';
import { refundAmount } from '../../../ui/src/refund-amounts.js';

describe('quick cash amounts', () => {
  it('follow what is due: the next round sums a customer hands over, all above it', () => {
    expect(quickAmounts(12_060)).toEqual([13_000, 15_000, 20_000]);
    expect(quickAmounts(6_800)).toEqual([7_000, 10_000]);
    expect(quickAmounts(10_000)).toEqual([11_000, 15_000, 20_000]);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), (due) => {
        const amounts = quickAmounts(due);
        expect(amounts.length).toBeGreaterThan(0);
        for (const a of amounts) expect(a).toBeGreaterThan(due);
        expect(new Set(amounts).size).toBe(amounts.length);
      }),
    );
  });

  it('fill the keypad with text that reads back as the same fen', () => {
    expect(toYuanText(12_060)).toBe('120.6');
    expect(toYuanText(5_000)).toBe('50');
    expect(toYuanText(1_205)).toBe('12.05');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999_999 }), (fen) => {
        expect(parseYuan(toYuanText(fen))).toBe(fen);
      }),
    );
  });
});

describe('refund amounts on the refund screen', () => {
  it('are what the daemon will refund (core/refund), step by step to the last unit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 8 }),
        (qty, net, steps) => {
          const line = { lineNo: 1, name: 'x', qty, unitPrice: 0, net } as unknown as PricedLine;
          const history = emptyHistory();
          const done = { qty: 0, amount: 0 };
          for (const step of steps) {
            const take = Math.min(step, qty - done.qty);
            if (take === 0) break;
            const daemon = priceRefund([line], history, [{ lineNo: 1, qty: take }]).total;
            expect(refundAmount({ qty, net }, done, take)).toBe(daemon);
            done.qty += take;
            done.amount += daemon;
            history.qtyByLine.set(1, done.qty);
            history.amountByLine.set(1, done.amount);
          }
        },
      ),
    );
  });
});
