import { PosError } from '../errors.js';

/** Largest amount of one line or sale, in minor units: keeps every product below 2^53. */
export const MAX_AMOUNT = 1_000_000_000_00;

export function assertAmount(value: number, what: string, { allowZero = true } = {}): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_AMOUNT || (!allowZero && value === 0)) {
    throw new PosError(
      'AMOUNT_INVALID',
      `${what} must be a whole number of minor units (fen), 0..${MAX_AMOUNT}`,
      {
        what,
        value,
      },
    );
  }
}

/** round(amount × bp / 10000), half up, exact for any amount (BigInt for the product). */
export function applyBasisPoints(amount: number, bp: number): number {
  return Number((BigInt(amount) * BigInt(bp) + 5000n) / 10000n);
}

/**
 * Splits `total` over `weights` in proportion, by largest remainder: the parts sum to `total`
 * exactly, and ties go to the earlier weight.
 */
export function spreadByLargestRemainder(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (total === 0 || weights.length === 0) return weights.map(() => 0);
  if (sum === 0) throw new PosError('DISCOUNT_INVALID', 'cannot spread an amount over zero weights');
  const bigTotal = BigInt(total);
  const bigSum = BigInt(sum);
  const parts = weights.map((w) => bigTotal * BigInt(w));
  const floors = parts.map((p) => p / bigSum);
  let left = total - floors.reduce((a, b) => a + Number(b), 0);
  const order = parts
    .map((p, i) => ({ i, rem: p % bigSum }))
    .sort((a, b) => (a.rem === b.rem ? a.i - b.i : a.rem > b.rem ? -1 : 1));
  const result = floors.map(Number);
  for (const { i } of order) {
    if (left === 0) break;
    result[i]! += 1;
    left -= 1;
  }
  return result;
}

/** 3200 → "32.00"; -50 → "-0.50". */
export function formatAmount(minor: number): string {
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
