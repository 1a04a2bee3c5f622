import { describe, expect, it } from 'vitest';
import { emptyHistory, priceRefund, shareReturned } from '../../../src/core/refund.js';
import { priceSale } from '../../../src/core/sale.js';

describe('shareReturned', () => {
  it('spreads what was returned over the lines pro rata, summing exactly, never above a line', () => {
    expect(shareReturned([2500], 1500)).toEqual([1500]);
    expect(shareReturned([1000, 1000, 1000], 1000)).toEqual([334, 333, 333]);
    expect(shareReturned([1, 2999], 3000)).toEqual([1, 2999]);
    for (const [amounts, returned] of [
      [[333, 667, 1], 500],
      [[5, 5, 5, 5], 7],
      [[10_000, 1], 9_999],
    ] as Array<[number[], number]>) {
      const shares = shareReturned(amounts, returned);
      expect(shares.reduce((s, a) => s + a, 0)).toBe(returned);
      for (const [i, s] of shares.entries()) expect(s).toBeLessThanOrEqual(amounts[i]!);
    }
  });
});

describe('a partly returned refund leaves exactly the rest refundable', () => {
  it('refunding the same lines again takes what is left, and the whole sale sums to what was paid', () => {
    const sale = priceSale([{ name: 'Tea', qty: 2, unitPrice: 2500 }]);
    // First refund of one unit returned 1500 of its 2500: its money counts, its quantity does not.
    const history = emptyHistory();
    history.amountByLine.set(1, 1500);
    const second = priceRefund(sale.lines, history, [{ lineNo: 1, qty: 1 }]);
    expect(second.total).toBe(1000);
    history.qtyByLine.set(1, 1);
    history.amountByLine.set(1, 2500);
    expect(priceRefund(sale.lines, history, [{ lineNo: 1, qty: 1 }]).total).toBe(2500);
  });
});
