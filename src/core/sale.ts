import { PosError } from '../errors.js';
import { applyBasisPoints, assertAmount, spreadByLargestRemainder } from './money.js';

/** A discount: a fixed amount off, or a rate in basis points (1500 = 15 % off). */
export type Discount = { amount: number } | { percentBp: number };

export interface LineInput {
  sku?: string;
  name: string;
  qty: number;
  unitPrice: number;
  discount?: Discount;
}

export interface PricedLine {
  lineNo: number;
  sku?: string;
  name: string;
  qty: number;
  unitPrice: number;
  gross: number;
  lineDiscount: number;
  /** This line's share of the order discount (largest remainder). */
  orderDiscount: number;
  /** What the customer pays for this line. */
  net: number;
}

export interface PricedSale {
  lines: PricedLine[];
  subtotal: number;
  lineDiscountTotal: number;
  orderDiscount: number;
  total: number;
}

export const MAX_QTY = 99_999;

function discountAmount(base: number, discount: Discount | undefined, what: string): number {
  if (discount === undefined) return 0;
  if ('amount' in discount) {
    assertAmount(discount.amount, `${what} amount`);
    if (discount.amount > base) {
      throw new PosError(
        'DISCOUNT_INVALID',
        `${what} ${discount.amount} exceeds the amount it applies to (${base})`,
      );
    }
    return discount.amount;
  }
  const bp = discount.percentBp;
  if (!Number.isInteger(bp) || bp < 0 || bp > 10_000) {
    throw new PosError('DISCOUNT_INVALID', `${what} percentBp must be a whole number 0..10000`);
  }
  return applyBasisPoints(base, bp);
}

/** Prices a sale: line discounts first, then the order discount spread over lines by net amount. */
export function priceSale(lines: readonly LineInput[], orderDiscount?: Discount): PricedSale {
  if (lines.length === 0) throw new PosError('SALE_EMPTY', 'a sale needs at least one line');
  const priced: PricedLine[] = lines.map((line, i) => {
    if (!Number.isInteger(line.qty) || line.qty < 1 || line.qty > MAX_QTY) {
      throw new PosError('AMOUNT_INVALID', `line ${i + 1}: qty must be a whole number 1..${MAX_QTY}`);
    }
    assertAmount(line.unitPrice, `line ${i + 1} unitPrice`);
    const gross = line.qty * line.unitPrice;
    assertAmount(gross, `line ${i + 1} amount`);
    const lineDiscount = discountAmount(gross, line.discount, `line ${i + 1} discount`);
    const out: PricedLine = {
      lineNo: i + 1,
      name: line.name,
      qty: line.qty,
      unitPrice: line.unitPrice,
      gross,
      lineDiscount,
      orderDiscount: 0,
      net: gross - lineDiscount,
    };
    if (line.sku !== undefined) out.sku = line.sku;
    return out;
  });
  const afterLines = priced.reduce((s, l) => s + l.net, 0);
  assertAmount(afterLines, 'sale subtotal');
  const order = discountAmount(afterLines, orderDiscount, 'order discount');
  const shares = spreadByLargestRemainder(
    order,
    priced.map((l) => l.net),
  );
  priced.forEach((l, i) => {
    l.orderDiscount = shares[i]!;
    l.net -= shares[i]!;
  });
  return {
    lines: priced,
    subtotal: priced.reduce((s, l) => s + l.gross, 0),
    lineDiscountTotal: priced.reduce((s, l) => s + l.lineDiscount, 0),
    orderDiscount: order,
    total: afterLines - order,
  };
}

export type TenderMethod = 'cash' | 'code' | 'qr' | 'card' | 'member';

export interface AppliedPayment {
  paymentId: string;
  method: TenderMethod;
  channel: string;
  amount: number;
  /** Cash only: what the cashier hands back. */
  change: number;
  /**
   * pending: sent, outcome awaited; unknown: outcome unknown while offline (payment.pending);
   * closed: an unpaid QR that was closed; refunded: a refund's own payment out.
   */
  status: 'succeeded' | 'pending' | 'unknown' | 'failed' | 'reversed' | 'closed' | 'refunded';
}

export function paidAmount(payments: readonly AppliedPayment[]): number {
  return payments.filter((p) => p.status === 'succeeded').reduce((s, p) => s + p.amount - p.change, 0);
}

/**
 * What is still due on a sale about to take a payment: it must be an open sale (not a refund's),
 * and no other payment of it may be unresolved (one attempt at a time).
 */
export function dueForPayment(
  sale: { id: string; kind: string; status: string; total: number },
  payments: readonly AppliedPayment[],
): number {
  if (sale.status !== 'open' || sale.kind !== 'sale') {
    throw new PosError('SALE_NOT_OPEN', `sale ${sale.id} is ${sale.status}`);
  }
  if (payments.some((p) => p.status === 'pending' || p.status === 'unknown')) {
    throw new PosError('PAYMENT_UNRESOLVED', 'another payment of this sale is still unresolved');
  }
  return sale.total - paidAmount(payments);
}

/**
 * A cash tender against what is still due: change only from cash, and only when the tender
 * covers the rest of the sale.
 */
export function cashTender(due: number, tendered: number): { applied: number; change: number } {
  assertAmount(tendered, 'cash amount', { allowZero: false });
  if (due <= 0) throw new PosError('SALE_NOT_OPEN', 'nothing is due on this sale');
  return tendered > due ? { applied: due, change: tendered - due } : { applied: tendered, change: 0 };
}
