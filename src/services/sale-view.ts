import { type AppliedPayment, paidAmount as paidOf } from '../core/sale.js';
import type { SaleRecord, SalesStore } from '../offline/sales-store.js';

/** A sale as the local API shows it: lines, payments, what is due, refunds and what remains refundable. */
export interface SaleView {
  saleId: string;
  kind: 'sale' | 'refund';
  status: 'open' | 'completed' | 'voided';
  currency: string;
  total: number;
  paid: number;
  due: number;
  change: number;
  receiptNo?: string;
  originalSaleId?: string;
  shiftId?: string;
  subtotal: number;
  lineDiscountTotal: number;
  orderDiscount: number;
  lines: SaleRecord['doc']['lines'];
  payments: AppliedPayment[];
  refunds: Array<{ saleId: string; total: number; receiptNo?: string }>;
  refundable: number;
  createdAt: string;
  /** The coupon applied as the order discount (`orderDiscount` is what it took off). */
  coupon?: { code: string; kind: 'amount' | 'percent'; value: number };
  completedAt?: string;
  voidedAt?: string;
}

/** The view of a stored sale (or refund). */
export function saleView(store: SalesStore, sale: SaleRecord): SaleView {
  const saleId = sale.id;
  const payments = store.paymentsOf(saleId);
  const refunds = sale.kind === 'sale' ? store.refundsOf(saleId) : [];
  const paid = sale.kind === 'sale' ? paidOf(payments) : sale.total;
  // A voided refund returned nothing; a partly returned one counts what it returned.
  const refunded = refunds.filter((r) => r.status !== 'voided').reduce((s, r) => s + r.total, 0);
  const view: SaleView = {
    saleId: sale.id,
    kind: sale.kind,
    status: sale.status,
    currency: sale.currency,
    total: sale.total,
    paid,
    due: sale.status === 'open' ? sale.total - paid : 0,
    change: payments.reduce((s, p) => s + p.change, 0),
    subtotal: sale.doc.subtotal,
    lineDiscountTotal: sale.doc.lineDiscountTotal,
    orderDiscount: sale.doc.orderDiscount,
    lines: sale.doc.lines,
    payments,
    refunds: refunds.map((r) => ({
      saleId: r.id,
      total: r.total,
      ...(r.receiptNo ? { receiptNo: r.receiptNo } : {}),
    })),
    refundable: sale.kind === 'sale' && sale.status === 'completed' ? sale.total - refunded : 0,
    createdAt: sale.createdAt,
  };
  if (sale.receiptNo) view.receiptNo = sale.receiptNo;
  if (sale.originalSaleId) view.originalSaleId = sale.originalSaleId;
  if (sale.shiftId) view.shiftId = sale.shiftId;
  if (sale.completedAt) view.completedAt = sale.completedAt;
  if (sale.voidedAt) view.voidedAt = sale.voidedAt;
  const c = sale.doc.coupon;
  if (c) view.coupon = { code: c.code, kind: c.kind, value: c.value };
  return view;
}
