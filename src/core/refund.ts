import { PosError } from '../errors.js';
import type { PricedLine } from './sale.js';

export interface RefundLineRequest {
  lineNo: number;
  qty: number;
}

export interface RefundedLine {
  lineNo: number;
  name: string;
  sku?: string;
  qty: number;
  amount: number;
}

/** What was already refunded from each line of a sale. */
export interface RefundHistory {
  qtyByLine: Map<number, number>;
  amountByLine: Map<number, number>;
}

export function emptyHistory(): RefundHistory {
  return { qtyByLine: new Map(), amountByLine: new Map() };
}

/**
 * Prices a refund of some quantities of a sale's lines. A line's refund is its net (after all
 * discounts) pro rata; the refund that takes the last units takes exactly what is left, so
 * refunding everything, in any steps, returns exactly what was paid.
 */
export function priceRefund(
  lines: readonly PricedLine[],
  history: RefundHistory,
  requests: readonly RefundLineRequest[],
): { lines: RefundedLine[]; total: number } {
  if (requests.length === 0) throw new PosError('REFUND_NOT_ALLOWED', 'a refund needs at least one line');
  const seen = new Set<number>();
  const out: RefundedLine[] = [];
  for (const req of requests) {
    const line = lines.find((l) => l.lineNo === req.lineNo);
    if (!line) throw new PosError('REFUND_NOT_ALLOWED', `the sale has no line ${req.lineNo}`);
    if (seen.has(req.lineNo)) throw new PosError('REFUND_NOT_ALLOWED', `line ${req.lineNo} is named twice`);
    seen.add(req.lineNo);
    if (!Number.isInteger(req.qty) || req.qty < 1) {
      throw new PosError('AMOUNT_INVALID', `line ${req.lineNo}: refund qty must be a whole number ≥ 1`);
    }
    const doneQty = history.qtyByLine.get(line.lineNo) ?? 0;
    const doneAmount = history.amountByLine.get(line.lineNo) ?? 0;
    const leftQty = line.qty - doneQty;
    if (req.qty > leftQty) {
      throw new PosError(
        'REFUND_EXCEEDS_REMAINING',
        `line ${line.lineNo}: ${req.qty} to refund but only ${leftQty} of ${line.qty} remain`,
        { lineNo: line.lineNo, remainingQty: leftQty },
      );
    }
    const amount =
      req.qty === leftQty
        ? line.net - doneAmount
        : Number((BigInt(line.net) * BigInt(doneQty + req.qty)) / BigInt(line.qty)) - doneAmount;
    const refunded: RefundedLine = { lineNo: line.lineNo, name: line.name, qty: req.qty, amount };
    if (line.sku !== undefined) refunded.sku = line.sku;
    out.push(refunded);
  }
  return { lines: out, total: out.reduce((s, l) => s + l.amount, 0) };
}

/**
 * Spreads what a refund actually returned over its lines, pro rata to their amounts (the fen left
 * by rounding go to the first lines), so the lines of a partly returned refund sum to its total.
 */
export function shareReturned(amounts: readonly number[], returned: number): number[] {
  const requested = amounts.reduce((s, a) => s + a, 0);
  if (requested <= 0) return amounts.map(() => 0);
  const shares = amounts.map((a) => Number((BigInt(a) * BigInt(returned)) / BigInt(requested)));
  let left = returned - shares.reduce((s, a) => s + a, 0);
  for (let i = 0; left > 0 && i < shares.length; i++) {
    if (shares[i]! < amounts[i]!) {
      shares[i] = shares[i]! + 1;
      left -= 1;
    }
  }
  return shares;
}
