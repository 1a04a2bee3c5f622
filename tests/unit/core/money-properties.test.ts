import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { applyBasisPoints, MAX_AMOUNT, spreadByLargestRemainder } from '../../../src/core/money.js';
import { emptyHistory, priceRefund, type RefundHistory } from '../../../src/core/refund.js';
import { cashTender, type Discount, type LineInput, paidAmount, priceSale } from '../../../src/core/sale.js';

/** Properties of the pure money functions: never negative, sums exact, for any input. */
const SEED = { seed: 20_261_205, numRuns: 400 };

const line = fc.record({
  name: fc.constant('item'),
  qty: fc.integer({ min: 1, max: 50 }),
  unitPrice: fc.integer({ min: 0, max: 500_000 }),
});

/** A line with an optional discount that never exceeds its gross (a valid request). */
const discountedLine: fc.Arbitrary<LineInput> = line.chain((l) =>
  fc
    .option(
      fc.oneof(
        fc.integer({ min: 0, max: l.qty * l.unitPrice }).map((amount): Discount => ({ amount })),
        fc.integer({ min: 0, max: 10_000 }).map((percentBp): Discount => ({ percentBp })),
      ),
      { nil: undefined },
    )
    .map((discount) => (discount ? { ...l, discount } : l)),
);

const sale = fc.array(discountedLine, { minLength: 1, maxLength: 8 }).chain((lines) => {
  const afterLines = priceSale(lines).total;
  return fc
    .option(
      fc.oneof(
        fc.integer({ min: 0, max: afterLines }).map((amount): Discount => ({ amount })),
        fc.integer({ min: 0, max: 10_000 }).map((percentBp): Discount => ({ percentBp })),
      ),
      { nil: undefined },
    )
    .map((orderDiscount) => ({ lines, orderDiscount }));
});

describe('spreadByLargestRemainder', () => {
  test('parts are never negative and sum exactly to the total; none exceeds its weight when total ≤ sum', () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.integer({ min: 0, max: MAX_AMOUNT }), { minLength: 1, maxLength: 20 })
          .filter((w) => w.some((x) => x > 0)),
        fc.integer({ min: 0, max: MAX_AMOUNT }),
        (weights, raw) => {
          const sum = weights.reduce((a, b) => a + b, 0);
          const total = Math.min(raw, sum);
          const parts = spreadByLargestRemainder(total, weights);
          expect(parts).toHaveLength(weights.length);
          expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
          parts.forEach((p, i) => {
            expect(p).toBeGreaterThanOrEqual(0);
            expect(Number.isSafeInteger(p)).toBe(true);
            expect(p).toBeLessThanOrEqual(weights[i]!);
          });
        },
      ),
      SEED,
    );
  });

  test('each part is within one unit of its exact proportional share', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        (weights, total) => {
          const sum = weights.reduce((a, b) => a + b, 0);
          const parts = spreadByLargestRemainder(total, weights);
          parts.forEach((p, i) => {
            const exact = (total * weights[i]!) / sum;
            expect(Math.abs(p - exact)).toBeLessThan(1 + 1e-9);
          });
        },
      ),
      SEED,
    );
  });
});

describe('applyBasisPoints', () => {
  test('between 0 and the amount, and exact half-up rounding', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_AMOUNT }),
        fc.integer({ min: 0, max: 10_000 }),
        (amount, bp) => {
          const r = applyBasisPoints(amount, bp);
          expect(r).toBeGreaterThanOrEqual(0);
          expect(r).toBeLessThanOrEqual(amount);
          expect(BigInt(r)).toBe((BigInt(amount) * BigInt(bp) + 5000n) / 10000n);
        },
      ),
      SEED,
    );
  });
});

describe('priceSale', () => {
  test('no amount is negative and every sum is exact', () => {
    fc.assert(
      fc.property(sale, ({ lines, orderDiscount }) => {
        const p = priceSale(lines, orderDiscount);
        for (const l of p.lines) {
          expect(l.net).toBeGreaterThanOrEqual(0);
          expect(l.lineDiscount).toBeGreaterThanOrEqual(0);
          expect(l.orderDiscount).toBeGreaterThanOrEqual(0);
          expect(l.gross - l.lineDiscount - l.orderDiscount).toBe(l.net);
        }
        expect(p.total).toBeGreaterThanOrEqual(0);
        expect(p.lines.reduce((s, l) => s + l.net, 0)).toBe(p.total);
        expect(p.lines.reduce((s, l) => s + l.orderDiscount, 0)).toBe(p.orderDiscount);
        expect(p.subtotal - p.lineDiscountTotal - p.orderDiscount).toBe(p.total);
      }),
      SEED,
    );
  });
});

describe('priceRefund', () => {
  /** A sale, and a split of every line's quantity into refund steps in some order. */
  const refundPlan = sale.chain(({ lines, orderDiscount }) => {
    const priced = priceSale(lines, orderDiscount);
    const steps = priced.lines.map((l) =>
      fc
        .array(fc.integer({ min: 1, max: l.qty }), { minLength: 1, maxLength: 4 })
        .map((cuts) => splitQty(l.qty, cuts).map((qty) => ({ lineNo: l.lineNo, qty }))),
    );
    return fc
      .tuple(fc.constant(priced), fc.tuple(...steps))
      .chain(([p, perLine]) =>
        fc
          .shuffledSubarray(perLine.flat(), { minLength: perLine.flat().length })
          .map((order) => ({ p, order })),
      );
  });

  test('refunding everything, in any steps and order, returns exactly what was paid, never negative', () => {
    fc.assert(
      fc.property(refundPlan, ({ p, order }) => {
        const history: RefundHistory = emptyHistory();
        let refunded = 0;
        for (const req of order) {
          const r = priceRefund(p.lines, history, [req]);
          expect(r.total).toBeGreaterThanOrEqual(0);
          for (const l of r.lines) {
            expect(l.amount).toBeGreaterThanOrEqual(0);
            history.qtyByLine.set(l.lineNo, (history.qtyByLine.get(l.lineNo) ?? 0) + l.qty);
            history.amountByLine.set(l.lineNo, (history.amountByLine.get(l.lineNo) ?? 0) + l.amount);
          }
          refunded += r.total;
          // Never more than the line's net at any point.
          for (const l of p.lines) expect(history.amountByLine.get(l.lineNo) ?? 0).toBeLessThanOrEqual(l.net);
        }
        expect(refunded).toBe(p.total);
        for (const l of p.lines) expect(history.amountByLine.get(l.lineNo)).toBe(l.net);
      }),
      SEED,
    );
  });

  test('a partial refund is the pro-rata share, rounded down', () => {
    fc.assert(
      fc.property(sale, fc.nat(), ({ lines, orderDiscount }, pick) => {
        const p = priceSale(lines, orderDiscount);
        const l = p.lines[pick % p.lines.length]!;
        if (l.qty < 2) return;
        const qty = 1 + (pick % (l.qty - 1));
        const r = priceRefund(p.lines, emptyHistory(), [{ lineNo: l.lineNo, qty }]);
        expect(r.total).toBe(Math.floor((l.net * qty) / l.qty));
      }),
      SEED,
    );
  });
});

describe('cash tender and change', () => {
  test('applied + change = tendered, applied ≤ due, change only when the tender covers the due', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: MAX_AMOUNT }),
        fc.integer({ min: 1, max: MAX_AMOUNT }),
        (due, tendered) => {
          const { applied, change } = cashTender(due, tendered);
          expect(applied + change).toBe(tendered);
          expect(applied).toBeLessThanOrEqual(due);
          expect(change).toBeGreaterThanOrEqual(0);
          if (change > 0) expect(applied).toBe(due);
        },
      ),
      SEED,
    );
  });

  test('paidAmount counts succeeded payments net of change, never negative', () => {
    const payment = fc.record({
      paymentId: fc.constant('p'),
      method: fc.constantFrom('cash' as const, 'code' as const, 'card' as const),
      channel: fc.constant('x'),
      amount: fc.integer({ min: 1, max: 1_000_000 }),
      change: fc.constant(0),
      status: fc.constantFrom(
        'succeeded' as const,
        'failed' as const,
        'pending' as const,
        'reversed' as const,
      ),
    });
    fc.assert(
      fc.property(
        fc.array(
          payment.chain((p) =>
            fc
              .integer({ min: 0, max: p.amount - 1 })
              .map((change) => ({ ...p, change: p.method === 'cash' ? change : 0 })),
          ),
          { maxLength: 10 },
        ),
        (payments) => {
          const paid = paidAmount(payments);
          expect(paid).toBeGreaterThanOrEqual(0);
          expect(paid).toBe(
            payments.filter((p) => p.status === 'succeeded').reduce((s, p) => s + p.amount - p.change, 0),
          );
        },
      ),
      SEED,
    );
  });
});

/** Splits `qty` into positive parts at the given cut sizes (the rest is the last part). */
function splitQty(qty: number, cuts: number[]): number[] {
  const parts: number[] = [];
  let left = qty;
  for (const c of cuts) {
    if (left === 0) break;
    const take = Math.min(c, left);
    parts.push(take);
    left -= take;
  }
  if (left > 0) parts.push(left);
  return parts;
}
