import { v7 as uuidv7 } from 'uuid';
import {
  emptyHistory,
  priceRefund,
  type RefundHistory,
  type RefundLineRequest,
  shareReturned,
} from '../core/refund.js';
import type { AppliedPayment } from '../core/sale.js';
import { PosError } from '../errors.js';
import type { Ledger } from '../offline/ledger.js';
import type { SaleRecord, SalesStore } from '../offline/sales-store.js';
import type { Replayable, SaleService, ShiftPort } from './sale-service.js';

export interface RefundServiceOptions {
  ledger: Ledger;
  store: SalesStore;
  sales: SaleService;
  shifts: ShiftPort;
  now?: () => Date;
  newId?: () => string;
}

/**
 * Refunds of completed sales: priced by core/refund, allocated to the original channels, committed
 * before anyone is told. Electronic parts go to the acquirer through the refund processor.
 */
export class RefundService {
  private readonly ledger: Ledger;
  private readonly store: SalesStore;
  private readonly sales: SaleService;
  private readonly shifts: ShiftPort;
  private readonly now: () => Date;
  private readonly newId: () => string;
  private refundProcessor: ((refundSaleId: string) => void) | undefined;

  constructor(options: RefundServiceOptions) {
    this.ledger = options.ledger;
    this.store = options.store;
    this.sales = options.sales;
    this.shifts = options.shifts;
    this.now = options.now ?? (() => new Date());
    this.newId = options.newId ?? uuidv7;
  }

  refund(
    saleId: string,
    request: { lines: RefundLineRequest[]; reason?: string },
    idempotencyKey?: string,
  ): Replayable<Record<string, unknown>> {
    const reply = this.sales.once<Record<string, unknown>>(
      idempotencyKey,
      `POST /sales/${saleId}/refunds`,
      request,
      () => {
        const sale = this.sales.mustGet(saleId);
        if (sale.kind !== 'sale' || sale.status !== 'completed') {
          throw new PosError(
            'REFUND_NOT_ALLOWED',
            `only a completed sale can be refunded (this one is ${sale.status})`,
          );
        }
        const priced = priceRefund(sale.doc.lines, this.history(saleId), request.lines);
        const at = this.now().toISOString();
        const refund: SaleRecord = {
          id: this.newId(),
          kind: 'refund',
          originalSaleId: saleId,
          status: 'open',
          currency: sale.currency,
          total: priced.total,
          receiptNo: null,
          shiftId: this.shifts.currentIdInTransaction(),
          doc: {
            lines: sale.doc.lines
              .filter((l) => priced.lines.some((r) => r.lineNo === l.lineNo))
              .map((l) => {
                const r = priced.lines.find((x) => x.lineNo === l.lineNo)!;
                return {
                  ...l,
                  qty: r.qty,
                  gross: r.amount,
                  lineDiscount: 0,
                  orderDiscount: 0,
                  net: r.amount,
                };
              }),
            subtotal: priced.total,
            lineDiscountTotal: 0,
            orderDiscount: 0,
            total: priced.total,
            originalReceiptNo: sale.receiptNo ?? undefined,
            ...(request.reason ? { reason: request.reason } : {}),
          },
          createdAt: at,
          completedAt: null,
          voidedAt: null,
        };
        this.store.insertSale(refund);
        // To the original channels: electronic payments first, newest first, then cash.
        const allocations = this.allocateRefund(saleId, priced.total);
        let electronic = 0;
        for (const a of allocations) {
          // Cash and bank card go back at the counter (card: on the separate card terminal).
          const cash = a.method === 'cash' || a.method === 'card';
          if (!cash) electronic += 1;
          this.store.insertPayment(
            refund.id,
            {
              paymentId: this.newId(),
              method: a.method,
              channel: a.channel,
              amount: a.amount,
              change: 0,
              status: cash ? 'refunded' : 'pending',
            },
            at,
            { refundOf: a.paymentId, currency: sale.currency },
          );
        }
        if (electronic > 0) {
          return {
            status: 202,
            body: { refundId: refund.id, saleId, status: 'pending', total: priced.total },
          };
        }
        const receiptNo = this.settleRefundInTransaction(refund.id);
        return {
          status: 201,
          body: { refundId: refund.id, saleId, status: 'completed', total: priced.total, receiptNo },
        };
      },
    );
    const refundId = String(reply.body.refundId);
    if (reply.body.status === 'pending') this.refundProcessor?.(refundId);
    this.sales.announceSale(refundId);
    return reply;
  }

  /** Who sends electronic refunds to the acquirer (the payment service, when there is a cloud). */
  setRefundProcessor(processor: (refundSaleId: string) => void): void {
    this.refundProcessor = processor;
  }

  private allocateRefund(
    saleId: string,
    total: number,
  ): Array<{ paymentId: string; method: AppliedPayment['method']; channel: string; amount: number }> {
    const refunded = new Map<string, number>();
    for (const r of this.store.refundsOf(saleId)) {
      if (r.status === 'voided') continue;
      for (const p of this.store.paymentsWithDocOf(r.id)) {
        if (p.status === 'failed') continue; // refused: nothing went back
        const of = p.doc.refundOf;
        if (typeof of === 'string') refunded.set(of, (refunded.get(of) ?? 0) + p.amount);
      }
    }
    const paid = this.store
      .paymentsOf(saleId)
      .filter((p) => p.status === 'succeeded')
      .reverse()
      .sort((a, b) => Number(a.method === 'cash') - Number(b.method === 'cash'));
    const out: Array<{
      paymentId: string;
      method: AppliedPayment['method'];
      channel: string;
      amount: number;
    }> = [];
    let left = total;
    for (const p of paid) {
      if (left === 0) break;
      const room = p.amount - p.change - (refunded.get(p.paymentId) ?? 0);
      const take = Math.min(room, left);
      if (take > 0) out.push({ paymentId: p.paymentId, method: p.method, channel: p.channel, amount: take });
      left -= take;
    }
    if (left > 0) {
      throw new PosError('REFUND_EXCEEDS_REMAINING', `only ${total - left} of ${total} remains refundable`);
    }
    return out;
  }

  /**
   * Inside a transaction: once every part of a refund sale has its outcome, the refund is settled.
   * Some money went back: it completes with what was returned (receipt number, `refund.completed`
   * with the amounts per channel; parts refused are listed as `unreturned` and stay refundable).
   * Nothing went back: it is voided and counts for nothing. Returns the receipt number if completed.
   */
  settleRefundInTransaction(refundSaleId: string): string | undefined {
    const refund = this.sales.mustGet(refundSaleId);
    if (refund.status !== 'open' || refund.kind !== 'refund') return undefined;
    const payments = this.store.paymentsWithDocOf(refundSaleId);
    if (payments.some((p) => p.status !== 'refunded' && p.status !== 'failed')) return undefined;
    const returned = payments.filter((p) => p.status === 'refunded');
    const refused = payments.filter((p) => p.status === 'failed');
    const at = this.now().toISOString();
    if (returned.length === 0) {
      this.store.markVoided(refund.id, at);
      return undefined;
    }
    const completed = refused.length > 0 ? this.shrinkToReturned(refund, returned) : refund;
    const original = this.sales.mustGet(refund.originalSaleId!);
    const receiptNo = this.sales.nextReceiptNo();
    this.store.markCompleted(refund.id, receiptNo, at);
    const refundedInAll = this.store
      .refundsOf(original.id)
      .filter((r) => r.status === 'completed')
      .reduce((sum, r) => sum + r.total, 0);
    const fully = refundedInAll >= original.total;
    // A coupon goes back to the customer when its sale is refunded in full.
    const couponReleased = fully ? original.doc.coupon?.redemptionId : undefined;
    const part = (p: (typeof payments)[number]) => ({
      paymentId: p.paymentId,
      refundOf: p.doc.refundOf,
      method: p.method,
      channel: p.channel,
      amount: p.amount,
    });
    this.ledger.append('refund.completed', {
      refundId: refund.id,
      saleId: original.id,
      receiptNo,
      originalReceiptNo: original.receiptNo,
      currency: refund.currency,
      total: completed.total,
      lines: completed.doc.lines.map((l) => ({
        lineNo: l.lineNo,
        ...(l.sku !== undefined ? { sku: l.sku } : {}),
        name: l.name,
        qty: l.qty,
        amount: l.net,
      })),
      payments: returned.map(part),
      ...(completed.doc.partial
        ? {
            partial: true,
            requestedTotal: completed.doc.partial.requestedTotal,
            unreturned: refused.map((p) => ({ ...part(p), reason: p.doc.reason })),
          }
        : {}),
      ...(refund.doc.reason ? { reason: refund.doc.reason } : {}),
      ...(refund.shiftId ? { shiftId: refund.shiftId } : {}),
      ...(couponReleased ? { couponReleased } : {}),
    });
    if (couponReleased) this.sales.releaseCouponInTransaction(couponReleased);
    this.sales.reversedInTransaction(original, {
      kind: 'refunded',
      netAfter: Math.max(0, original.total - refundedInAll),
    });
    return receiptNo;
  }

  /** A refund some of whose parts were refused becomes the refund of what was returned. */
  private shrinkToReturned(refund: SaleRecord, returned: readonly { amount: number }[]): SaleRecord {
    const total = returned.reduce((s, p) => s + p.amount, 0);
    const shares = shareReturned(
      refund.doc.lines.map((l) => l.net),
      total,
    );
    const lines = refund.doc.lines.map((l, i) => ({ ...l, gross: shares[i]!, net: shares[i]! }));
    const doc = { ...refund.doc, lines, subtotal: total, total, partial: { requestedTotal: refund.total } };
    this.store.updateOpenSale(refund.id, total, doc);
    return this.sales.mustGet(refund.id);
  }

  private history(saleId: string): RefundHistory {
    const history = emptyHistory();
    for (const r of this.store.refundsOf(saleId)) {
      if (r.status === 'voided') continue; // nothing went back
      for (const l of r.doc.lines) {
        // A partly returned refund counts its money only: the rest of its lines stays refundable.
        const qty = r.doc.partial ? 0 : l.qty;
        history.qtyByLine.set(l.lineNo, (history.qtyByLine.get(l.lineNo) ?? 0) + qty);
        history.amountByLine.set(l.lineNo, (history.amountByLine.get(l.lineNo) ?? 0) + l.net);
      }
    }
    return history;
  }
}
