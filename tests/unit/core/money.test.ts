import { describe, expect, it } from 'vitest';
import { applyBasisPoints, formatAmount, spreadByLargestRemainder } from '../../../src/core/money.js';
import { emptyHistory, priceRefund } from '../../../src/core/refund.js';
import { cashTender, priceSale } from '../../../src/core/sale.js';
import { isPosError } from '../../../src/errors.js';
import { randomInt, seededRandom } from '../../helpers/random.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isPosError(err) ? err.code : 'NOT_A_POS_ERROR';
  }
  return undefined;
}

describe('money', () => {
  it('spreads by largest remainder, ties to the earlier line, summing exactly', () => {
    expect(spreadByLargestRemainder(100, [1, 1, 1])).toEqual([34, 33, 33]);
    expect(spreadByLargestRemainder(2, [1, 1, 1])).toEqual([1, 1, 0]);
    expect(spreadByLargestRemainder(10, [333, 333, 334])).toEqual([3, 3, 4]);
    expect(spreadByLargestRemainder(1, [999_999, 1])).toEqual([1, 0]);
    expect(spreadByLargestRemainder(0, [5, 7])).toEqual([0, 0]);
    expect(spreadByLargestRemainder(7, [0, 10])).toEqual([0, 7]);
  });

  it('spreads exactly on 10,000 random adversarial cases', () => {
    const rand = seededRandom(42);
    for (let i = 0; i < 10_000; i++) {
      const weights = Array.from({ length: randomInt(rand, 1, 12) }, () =>
        rand() < 0.2 ? randomInt(rand, 0, 3) : randomInt(rand, 1, 99_999_999_99),
      );
      const sum = weights.reduce((a, b) => a + b, 0);
      if (sum === 0) continue;
      const total = randomInt(rand, 0, Math.min(sum, 99_999_999_99));
      const parts = spreadByLargestRemainder(total, weights);
      expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
      parts.forEach((p, j) => {
        expect(Number.isInteger(p)).toBe(true);
        // Each part is its exact share rounded down or up by one unit.
        const exact = (total * weights[j]!) / sum;
        expect(Math.abs(p - exact)).toBeLessThan(1 + 1e-6 * Math.max(1, exact));
      });
    }
  });

  it('rounds basis points half up without float drift', () => {
    expect(applyBasisPoints(1000, 1500)).toBe(150);
    expect(applyBasisPoints(5, 1000)).toBe(1); // 0.5 → 1
    expect(applyBasisPoints(4, 1000)).toBe(0); // 0.4 → 0
    expect(applyBasisPoints(99_999_999_999, 3333)).toBe(33_330_000_000); // 33,329,999,999.67
    expect(formatAmount(3200)).toBe('32.00');
    expect(formatAmount(5)).toBe('0.05');
    expect(formatAmount(-150)).toBe('-1.50');
  });
});

describe('sale pricing', () => {
  it('applies line discounts, then spreads the order discount over line nets', () => {
    const sale = priceSale(
      [
        { name: 'A', qty: 3, unitPrice: 333, discount: { percentBp: 1000 } },
        { name: 'B', qty: 1, unitPrice: 1000, discount: { amount: 1 } },
        { name: 'C', qty: 2, unitPrice: 1 },
      ],
      { amount: 100 },
    );
    expect(sale.lines.map((l) => l.lineDiscount)).toEqual([100, 1, 0]);
    expect(sale.subtotal).toBe(999 + 1000 + 2);
    const nets = [899, 999, 2];
    const shares = spreadByLargestRemainder(100, nets);
    expect(sale.lines.map((l) => l.orderDiscount)).toEqual(shares);
    expect(sale.total).toBe(899 + 999 + 2 - 100);
    expect(sale.lines.reduce((s, l) => s + l.net, 0)).toBe(sale.total);
  });

  it('refuses discounts larger than what they apply to, bad quantities and empty sales', () => {
    expect(codeOf(() => priceSale([{ name: 'A', qty: 1, unitPrice: 10, discount: { amount: 11 } }]))).toBe(
      'DISCOUNT_INVALID',
    );
    expect(codeOf(() => priceSale([{ name: 'A', qty: 1, unitPrice: 10 }], { amount: 11 }))).toBe(
      'DISCOUNT_INVALID',
    );
    expect(codeOf(() => priceSale([{ name: 'A', qty: 1, unitPrice: 10 }], { percentBp: 10_001 }))).toBe(
      'DISCOUNT_INVALID',
    );
    expect(codeOf(() => priceSale([{ name: 'A', qty: 0, unitPrice: 10 }]))).toBe('AMOUNT_INVALID');
    expect(codeOf(() => priceSale([{ name: 'A', qty: 1.5, unitPrice: 10 }]))).toBe('AMOUNT_INVALID');
    expect(codeOf(() => priceSale([{ name: 'A', qty: 1, unitPrice: 10.5 }]))).toBe('AMOUNT_INVALID');
    expect(codeOf(() => priceSale([{ name: 'A', qty: 99_999, unitPrice: 99_999_999_99 }]))).toBe(
      'AMOUNT_INVALID',
    );
    expect(codeOf(() => priceSale([]))).toBe('SALE_EMPTY');
  });

  it('keeps totals exact on 5,000 random sales', () => {
    const rand = seededRandom(7);
    for (let i = 0; i < 5_000; i++) {
      const lines = Array.from({ length: randomInt(rand, 1, 20) }, (_, j) => ({
        name: `L${j}`,
        qty: randomInt(rand, 1, 50),
        unitPrice: randomInt(rand, 0, 100_000),
        ...(rand() < 0.3 ? { discount: { percentBp: randomInt(rand, 0, 10_000) } } : {}),
      }));
      const afterLines = priceSale(lines).total;
      const order =
        rand() < 0.5 ? { amount: randomInt(rand, 0, afterLines) } : { percentBp: randomInt(rand, 0, 10_000) };
      const sale = priceSale(lines, order);
      expect(sale.lines.reduce((s, l) => s + l.net, 0)).toBe(sale.total);
      expect(sale.lines.every((l) => l.net >= 0 && Number.isInteger(l.net))).toBe(true);
      expect(sale.subtotal - sale.lineDiscountTotal - sale.orderDiscount).toBe(sale.total);
    }
  });

  it('gives change only on the cash that covers the rest', () => {
    expect(cashTender(3200, 5000)).toEqual({ applied: 3200, change: 1800 });
    expect(cashTender(3200, 1000)).toEqual({ applied: 1000, change: 0 });
    expect(codeOf(() => cashTender(0, 100))).toBe('SALE_NOT_OPEN');
    expect(codeOf(() => cashTender(100, 0))).toBe('AMOUNT_INVALID');
  });
});

describe('refund pricing', () => {
  const sale = priceSale(
    [
      { name: 'A', qty: 3, unitPrice: 100 },
      { name: 'B', qty: 7, unitPrice: 143 },
    ],
    { amount: 101 },
  );

  it('caps each line by what remains and returns exactly what was paid in any steps', () => {
    const rand = seededRandom(99);
    for (let round = 0; round < 500; round++) {
      const history = emptyHistory();
      let refunded = 0;
      const left = new Map(sale.lines.map((l) => [l.lineNo, l.qty]));
      while ([...left.values()].some((q) => q > 0)) {
        const open = [...left.entries()].filter(([, q]) => q > 0);
        const [lineNo, q] = open[randomInt(rand, 0, open.length - 1)]!;
        const qty = randomInt(rand, 1, q);
        const r = priceRefund(sale.lines, history, [{ lineNo, qty }]);
        for (const l of r.lines) {
          history.qtyByLine.set(l.lineNo, (history.qtyByLine.get(l.lineNo) ?? 0) + l.qty);
          history.amountByLine.set(l.lineNo, (history.amountByLine.get(l.lineNo) ?? 0) + l.amount);
        }
        refunded += r.total;
        left.set(lineNo, q - qty);
      }
      expect(refunded).toBe(sale.total);
      expect(codeOf(() => priceRefund(sale.lines, history, [{ lineNo: 1, qty: 1 }]))).toBe(
        'REFUND_EXCEEDS_REMAINING',
      );
    }
  });

  it('refuses unknown lines, duplicates and zero quantities', () => {
    expect(codeOf(() => priceRefund(sale.lines, emptyHistory(), [{ lineNo: 9, qty: 1 }]))).toBe(
      'REFUND_NOT_ALLOWED',
    );
    expect(
      codeOf(() =>
        priceRefund(sale.lines, emptyHistory(), [
          { lineNo: 1, qty: 1 },
          { lineNo: 1, qty: 1 },
        ]),
      ),
    ).toBe('REFUND_NOT_ALLOWED');
    expect(codeOf(() => priceRefund(sale.lines, emptyHistory(), [{ lineNo: 1, qty: 0 }]))).toBe(
      'AMOUNT_INVALID',
    );
    expect(codeOf(() => priceRefund(sale.lines, emptyHistory(), [{ lineNo: 1, qty: 4 }]))).toBe(
      'REFUND_EXCEEDS_REMAINING',
    );
  });
});
