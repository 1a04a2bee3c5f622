import { type AppliedPayment, type Discount, paidAmount as paidOf, priceSale } from '../core/sale.js';
import { PosError } from '../errors.js';
import type { Ledger } from '../offline/ledger.js';
import type { SaleDoc, SaleRecord, SalesStore } from '../offline/sales-store.js';

/** The body of a `sale.completed` record (docs/ledger-records.md): lines, succeeded payments, member, coupon. */
export function saleCompletedBody(
  sale: SaleRecord,
  receiptNo: string,
  allPayments: readonly AppliedPayment[],
): Record<string, unknown> {
  const payments = allPayments.filter((p) => p.status === 'succeeded');
  return {
    saleId: sale.id,
    receiptNo,
    currency: sale.currency,
    total: sale.total,
    subtotal: sale.doc.subtotal,
    discount: sale.doc.lineDiscountTotal + sale.doc.orderDiscount,
    lines: sale.doc.lines.map((l) => ({
      ...(l.sku !== undefined ? { sku: l.sku } : {}),
      name: l.name,
      qty: l.qty,
      unitPrice: l.unitPrice,
      discount: l.lineDiscount + l.orderDiscount,
      amount: l.net,
    })),
    payments: payments.map((p) => ({
      paymentId: p.paymentId,
      method: p.method,
      channel: p.channel,
      amount: p.amount - p.change,
      ...(p.change > 0 ? { tendered: p.amount, change: p.change } : {}),
    })),
    ...(sale.shiftId ? { shiftId: sale.shiftId } : {}),
    ...(sale.doc.memberId ? { memberId: sale.doc.memberId } : {}),
    ...(sale.doc.orderId ? { orderId: sale.doc.orderId } : {}),
    ...(sale.doc.coupon
      ? { coupon: { couponId: sale.doc.coupon.couponId, discount: sale.doc.orderDiscount } }
      : {}),
  };
}

/** An open sale's doc priced again with a new order discount (a coupon), its lines and their own discounts kept. */
export function repricedDoc(
  doc: SaleDoc,
  orderDiscount: Discount | undefined,
  extra: Partial<SaleDoc>,
): SaleDoc {
  const lines = doc.lines.map((l) => ({
    ...(l.sku !== undefined ? { sku: l.sku } : {}),
    name: l.name,
    qty: l.qty,
    unitPrice: l.unitPrice,
    ...(l.lineDiscount > 0 ? { discount: { amount: l.lineDiscount } } : {}),
  }));
  return { ...doc, ...priceSale(lines, orderDiscount), ...extra };
}

/**
 * Inside a transaction: voids a sale within its shift (no captured non-cash payment, no refund) and
 * records `sale.voided`; its coupon, if any, goes back to the customer (returned for the hooks).
 */
export function voidInTransaction(
  store: SalesStore,
  ledger: Ledger,
  sale: SaleRecord,
  reason: string | undefined,
  now: Date,
): { couponReleased?: string } {
  if (sale.kind !== 'sale') throw new PosError('VOID_NOT_ALLOWED', 'a refund cannot be voided');
  if (sale.status === 'voided') throw new PosError('VOID_NOT_ALLOWED', 'the sale is already voided');
  if (sale.shiftId && store.shiftClosed(sale.shiftId)) {
    throw new PosError('VOID_NOT_ALLOWED', 'the shift of this sale is closed: refund it instead');
  }
  const payments = store.paymentsOf(sale.id);
  const nonCash = payments.filter((p) => p.method !== 'cash');
  if (nonCash.some((p) => p.status === 'pending' || p.status === 'unknown')) {
    throw new PosError(
      'VOID_NOT_ALLOWED',
      'a non-cash payment of the sale is still being confirmed: wait for it',
    );
  }
  if (nonCash.some((p) => p.status === 'succeeded')) {
    throw new PosError('VOID_NOT_ALLOWED', 'the sale has a captured non-cash payment: refund it instead');
  }
  if (store.refundsOf(sale.id).length > 0) {
    throw new PosError('VOID_NOT_ALLOWED', 'the sale has refunds: refund the rest instead');
  }
  const at = now.toISOString();
  store.markVoided(sale.id, at);
  const body: Record<string, unknown> = {
    saleId: sale.id,
    currency: sale.currency,
    total: sale.total,
    cashReturned: paidOf(payments),
  };
  if (sale.receiptNo) body.receiptNo = sale.receiptNo;
  if (reason) body.reason = reason;
  // Its coupon goes back to the customer, open sale or completed.
  const couponReleased = sale.doc.coupon?.redemptionId;
  if (couponReleased) body.couponReleased = couponReleased;
  if (sale.doc.memberId) body.memberId = sale.doc.memberId;
  ledger.append('sale.voided', body);
  return couponReleased ? { couponReleased } : {};
}
