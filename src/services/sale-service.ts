import { v7 as uuidv7 } from 'uuid';
import type { EventBus } from '../bus.js';
import {
  type AppliedPayment,
  cashTender,
  type Discount,
  type LineInput,
  paidAmount as paidOf,
  priceSale,
} from '../core/sale.js';
import { PosError } from '../errors.js';
import type { Ledger } from '../offline/ledger.js';
import type { SaleDoc, SaleRecord, SalesStore } from '../offline/sales-store.js';
import { type Replayable, runOnce } from './idempotency.js';

declare module '../bus.js' {
  interface PosEvents {
    'sale.updated': {
      saleId: string;
      kind: 'sale' | 'refund';
      status: string;
      total: number;
      receiptNo?: string;
    };
  }
}

export interface CreateSaleInput {
  lines: LineInput[];
  orderDiscount?: Discount;
  tenders?: Array<{ method: string; amount: number }>;
}

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
  completedAt?: string;
  voidedAt?: string;
}

/** The shift that money moving now belongs to (opened on demand); called inside the transaction. */
export interface ShiftPort {
  currentIdInTransaction(): string;
}

export interface SaleServiceOptions {
  ledger: Ledger;
  store: SalesStore;
  shifts: ShiftPort;
  bus: EventBus;
  deviceId: string;
  /** Refuses a sale about to complete (offline risk limits); throws a PosError. */
  guard?: (sale: { total: number; tenders: readonly string[] }) => void;
  /** The currency new sales are in (the business config's, read at each sale). */
  currency?: () => string;
  now?: () => Date;
  newId?: () => string;
}

export type { Replayable } from './idempotency.js';

/** How a completed sale was reversed: voided, or refunded down to `netAfter`. */
export type Reversal = { kind: 'voided' } | { kind: 'refunded'; netAfter: number };

/** Sell, pay in cash and void (refunds: refund-service): asks core/, commits through offline/ before anyone is told. */
export class SaleService {
  private readonly ledger: Ledger;
  private readonly store: SalesStore;
  private readonly shifts: ShiftPort;
  private readonly bus: EventBus;
  private readonly deviceId: string;
  private readonly currency: () => string;
  private readonly now: () => Date;
  private readonly newId: () => string;
  private readonly completionHooks: Array<(sale: SaleRecord, receiptNo: string) => void> = [];
  private readonly releaseHooks: Array<(redemptionId: string) => void> = [];
  private readonly reversalHooks: Array<(sale: SaleRecord, how: Reversal) => void> = [];
  private readonly guard: (sale: { total: number; tenders: readonly string[] }) => void;

  constructor(options: SaleServiceOptions) {
    this.ledger = options.ledger;
    this.store = options.store;
    this.shifts = options.shifts;
    this.bus = options.bus;
    this.deviceId = options.deviceId;
    this.currency = options.currency ?? (() => 'CNY');
    this.guard = options.guard ?? (() => {});
    this.now = options.now ?? (() => new Date());
    this.newId = options.newId ?? uuidv7;
  }

  /**
   * Runs `work` once per key: a retry with the same key and request gets the first reply, even
   * after a crash (the reply is committed with the facts); another request under the key is refused.
   */
  once<T>(
    key: string | undefined,
    scope: string,
    request: unknown,
    work: () => Replayable<T>,
  ): Replayable<T> {
    return runOnce({ ledger: this.ledger, store: this.store, now: this.now }, key, scope, request, work);
  }

  createSale(input: CreateSaleInput, idempotencyKey?: string): Replayable<Record<string, unknown>> {
    const priced = priceSale(input.lines, input.orderDiscount);
    const tenders = input.tenders ?? [];
    for (const t of tenders) {
      if (t.method !== 'cash') {
        throw new PosError(
          'TENDER_NOT_SUPPORTED',
          `tender "${t.method}" cannot complete a sale in one call; open the sale and use its payments`,
        );
      }
    }
    const tendered = tenders.reduce((s, t) => s + t.amount, 0);
    // Money taken for nothing would be neither kept nor handed back: refuse it.
    if (tenders.length > 0 && priced.total === 0) {
      throw new PosError('NOTHING_TO_PAY', 'the sale totals 0: it completes without a tender');
    }
    if (tenders.length > 0 && tendered < priced.total) {
      throw new PosError(
        'TENDER_INSUFFICIENT',
        `tenders ${tendered} do not cover the total ${priced.total}`,
        {
          total: priced.total,
          tendered,
        },
      );
    }
    const reply = this.once<Record<string, unknown>>(idempotencyKey, 'POST /sales', input, () => {
      const at = this.now().toISOString();
      const completesNow = tenders.length > 0 || priced.total === 0;
      if (completesNow) this.guard({ total: priced.total, tenders: tenders.map((t) => t.method) });
      // A sale paid in the same call is written completed at once: one row write, not two.
      const receiptNo = completesNow ? this.nextReceiptNo() : null;
      const sale: SaleRecord = {
        id: this.newId(),
        kind: 'sale',
        originalSaleId: null,
        status: completesNow ? 'completed' : 'open',
        currency: this.currency(),
        total: priced.total,
        receiptNo,
        shiftId: this.shifts.currentIdInTransaction(),
        doc: priced,
        createdAt: at,
        completedAt: completesNow ? at : null,
        voidedAt: null,
      };
      this.store.insertSale(sale);
      // Several cash tenders are one handful of cash: one payment, change from the lot.
      let change = 0;
      const payments: AppliedPayment[] = [];
      if (tenders.length > 0 && priced.total > 0) {
        change = cashTender(priced.total, tendered).change;
        payments.push(this.recordCash(sale, tendered, change, at));
      }
      if (receiptNo !== null) {
        this.recordCompletion(sale, receiptNo, payments);
        return {
          status: 201,
          body: { saleId: sale.id, status: 'completed', total: sale.total, change, receiptNo },
        };
      }
      return { status: 201, body: { saleId: sale.id, status: 'open', total: sale.total } };
    });
    const { saleId, status, total, receiptNo } = reply.body as {
      saleId: string;
      status: string;
      total: number;
      receiptNo?: string;
    };
    this.bus.emit('sale.updated', {
      saleId,
      kind: 'sale',
      status,
      total,
      ...(receiptNo ? { receiptNo } : {}),
    });
    return reply;
  }

  /** A cash tender on an open sale; completes it when covered. */
  payCash(saleId: string, amount: number, idempotencyKey?: string): Replayable<Record<string, unknown>> {
    return this.payOnce(saleId, { method: 'cash', amount }, idempotencyKey, (sale, due, at) => {
      this.guard({ total: sale.total, tenders: ['cash'] });
      const { applied, change } = cashTender(due, amount);
      return { payment: this.recordCash(sale, amount, change, at), applied };
    });
  }

  /**
   * A bank card paid on the separate card terminal, recorded here: no change, at most what is due;
   * it takes part in split tender like any other payment.
   */
  payCard(
    saleId: string,
    amount: number,
    reference: string | undefined,
    idempotencyKey?: string,
  ): Replayable<Record<string, unknown>> {
    const request = { method: 'card', amount, ...(reference ? { reference } : {}) };
    return this.payOnce(saleId, request, idempotencyKey, (sale, due, at) => {
      if (amount > due) throw new PosError('CHANGE_NOT_ALLOWED', `a card pays at most what is due (${due})`);
      this.guard({ total: sale.total, tenders: ['card'] });
      const payment: AppliedPayment = {
        paymentId: this.newId(),
        method: 'card',
        channel: 'card',
        amount,
        change: 0,
        status: 'succeeded',
      };
      this.store.insertPayment(sale.id, payment, at, reference ? { reference } : {});
      this.ledger.append('payment.succeeded', {
        paymentId: payment.paymentId,
        saleId,
        method: 'card',
        channel: 'card',
        currency: sale.currency,
        amount,
        ...(reference ? { reference } : {}),
      });
      return { payment, applied: amount };
    });
  }

  /**
   * The frame of an immediate tender on an open sale: idempotent, refused while another payment is
   * unresolved, and completing the sale when the tender covers what is due.
   */
  private payOnce(
    saleId: string,
    request: Record<string, unknown>,
    idempotencyKey: string | undefined,
    take: (sale: SaleRecord, due: number, at: string) => { payment: AppliedPayment; applied: number },
  ): Replayable<Record<string, unknown>> {
    const reply = this.once<Record<string, unknown>>(
      idempotencyKey,
      `POST /sales/${saleId}/payments`,
      request,
      () => {
        const sale = this.mustGet(saleId);
        if (sale.status !== 'open' || sale.kind !== 'sale') {
          throw new PosError('SALE_NOT_OPEN', `sale ${saleId} is ${sale.status}`);
        }
        const payments = this.store.paymentsOf(saleId);
        if (payments.some((p) => p.status === 'pending' || p.status === 'unknown')) {
          throw new PosError('PAYMENT_UNRESOLVED', 'another payment of this sale is still unresolved');
        }
        const due = sale.total - paidOf(payments);
        const at = this.now().toISOString();
        const { payment, applied } = take(sale, due, at);
        const body: Record<string, unknown> = { ...payment, saleId, saleStatus: 'open', due: due - applied };
        if (applied === due) {
          body.saleStatus = 'completed';
          body.receiptNo = this.complete(sale, at);
        }
        return { status: 201, body };
      },
    );
    this.announce(saleId);
    return reply;
  }

  voidSale(saleId: string, reason: string | undefined): SaleView {
    this.ledger.transact(() => {
      const sale = this.mustGet(saleId);
      if (sale.kind !== 'sale') throw new PosError('VOID_NOT_ALLOWED', 'a refund cannot be voided');
      if (sale.status === 'voided') throw new PosError('VOID_NOT_ALLOWED', 'the sale is already voided');
      if (sale.shiftId && this.store.shiftClosed(sale.shiftId)) {
        throw new PosError('VOID_NOT_ALLOWED', 'the shift of this sale is closed: refund it instead');
      }
      const payments = this.store.paymentsOf(saleId);
      if (
        payments.some(
          (p) =>
            p.method !== 'cash' &&
            (p.status === 'succeeded' || p.status === 'pending' || p.status === 'unknown'),
        )
      ) {
        throw new PosError('VOID_NOT_ALLOWED', 'the sale has a captured non-cash payment: refund it instead');
      }
      if (this.store.refundsOf(saleId).length > 0) {
        throw new PosError('VOID_NOT_ALLOWED', 'the sale has refunds: refund the rest instead');
      }
      const at = this.now().toISOString();
      this.store.markVoided(saleId, at);
      const body: Record<string, unknown> = {
        saleId,
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
      this.ledger.append('sale.voided', body);
      if (couponReleased) for (const hook of this.releaseHooks) hook(couponReleased);
      if (sale.status === 'completed') for (const hook of this.reversalHooks) hook(sale, { kind: 'voided' });
    });
    this.announce(saleId);
    return this.view(saleId);
  }

  /**
   * Inside a transaction: completes an open sale whose succeeded payments now cover it; returns
   * the receipt number when it did.
   */
  completeIfCovered(saleId: string): string | undefined {
    const sale = this.mustGet(saleId);
    if (sale.status !== 'open') return undefined;
    if (paidOf(this.store.paymentsOf(saleId)) < sale.total) return undefined;
    return this.complete(sale, this.now().toISOString());
  }

  /** Announces a sale's state to the UI after a commit made elsewhere (payments). */
  announceSale(saleId: string): void {
    this.announce(saleId);
  }

  getSale(saleId: string): SaleView {
    return this.view(saleId);
  }

  private recordCash(sale: SaleRecord, tendered: number, change: number, at: string): AppliedPayment {
    const payment: AppliedPayment = {
      paymentId: this.newId(),
      method: 'cash',
      channel: 'cash',
      amount: tendered,
      change,
      status: 'succeeded',
    };
    this.store.insertPayment(sale.id, payment, at);
    this.ledger.append('payment.succeeded', {
      paymentId: payment.paymentId,
      saleId: sale.id,
      method: 'cash',
      channel: 'cash',
      currency: sale.currency,
      amount: tendered - change,
      tendered,
      change,
    });
    return payment;
  }

  /** Inside a transaction: the next receipt number of this terminal (sales and refunds share it). */
  nextReceiptNo(): string {
    return this.store.nextReceiptNo(this.deviceId);
  }

  private complete(sale: SaleRecord, at: string): string {
    const receiptNo = this.nextReceiptNo();
    this.store.markCompleted(sale.id, receiptNo, at);
    this.recordCompletion(sale, receiptNo, this.store.paymentsOf(sale.id));
    return receiptNo;
  }

  /** Puts a member on an open sale: the completed sale carries the member for points. */
  setMember(saleId: string, memberId: string): SaleView {
    this.ledger.transact(() => {
      const sale = this.mustGet(saleId);
      if (sale.status !== 'open' || sale.kind !== 'sale')
        throw new PosError('SALE_NOT_OPEN', `sale ${saleId} is ${sale.status}`);
      this.store.updateOpenSale(saleId, sale.total, { ...sale.doc, memberId });
    });
    this.announce(saleId);
    return this.view(saleId);
  }

  /** Runs inside the transaction of a full refund of a sale that used a coupon. */
  onCouponReleasedInTransaction(hook: (redemptionId: string) => void): void {
    this.releaseHooks.push(hook);
  }

  /** Inside the transaction of a full refund: the sale's coupon goes back to the customer. */
  releaseCouponInTransaction(redemptionId: string): void {
    for (const hook of this.releaseHooks) hook(redemptionId);
  }

  /** Inside the transaction of a refund: whatever the sale earned that its net no longer earns goes. */
  reversedInTransaction(sale: SaleRecord, how: Reversal): void {
    for (const hook of this.reversalHooks) hook(sale, how);
  }

  /** Runs inside the transaction that voids a completed sale or completes a refund of one. */
  onReversedInTransaction(hook: (sale: SaleRecord, how: Reversal) => void): void {
    this.reversalHooks.push(hook);
  }

  /** Runs inside the transaction that completes a sale, after its `sale.completed` record. */
  onCompletedInTransaction(hook: (sale: SaleRecord, receiptNo: string) => void): void {
    this.completionHooks.push(hook);
  }

  /**
   * Inside a transaction: re-prices an open sale that has no payment yet with a new order discount
   * (a coupon), keeping its lines and their own discounts.
   */
  repriceOpenSale(saleId: string, orderDiscount: Discount | undefined, extra: Partial<SaleDoc>): SaleRecord {
    const sale = this.mustGet(saleId);
    if (sale.status !== 'open' || sale.kind !== 'sale')
      throw new PosError('SALE_NOT_OPEN', `sale ${saleId} is ${sale.status}`);
    if (this.store.paymentsOf(saleId).length > 0) {
      throw new PosError('CONFLICT', 'a discount cannot change once a payment was taken');
    }
    const lines = sale.doc.lines.map((l) => ({
      ...(l.sku !== undefined ? { sku: l.sku } : {}),
      name: l.name,
      qty: l.qty,
      unitPrice: l.unitPrice,
      ...(l.lineDiscount > 0 ? { discount: { amount: l.lineDiscount } } : {}),
    }));
    const priced = priceSale(lines, orderDiscount);
    const doc: SaleDoc = { ...sale.doc, ...priced, ...extra };
    this.store.updateOpenSale(saleId, priced.total, doc);
    return this.mustGet(saleId);
  }

  private recordCompletion(
    sale: SaleRecord,
    receiptNo: string,
    allPayments: readonly AppliedPayment[],
  ): void {
    const payments = allPayments.filter((p) => p.status === 'succeeded');
    this.ledger.append('sale.completed', {
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
      ...(sale.doc.coupon
        ? { coupon: { couponId: sale.doc.coupon.couponId, discount: sale.doc.orderDiscount } }
        : {}),
    });
    for (const hook of this.completionHooks) hook(sale, receiptNo);
  }

  /** The stored sale (or refund); SALE_NOT_FOUND when there is none. */
  mustGet(saleId: string): SaleRecord {
    const sale = this.store.getSale(saleId);
    if (!sale) throw new PosError('SALE_NOT_FOUND', `no sale ${saleId}`);
    return sale;
  }

  private announce(saleId: string): void {
    const sale = this.store.getSale(saleId);
    if (!sale) return;
    this.bus.emit('sale.updated', {
      saleId,
      kind: sale.kind,
      status: sale.status,
      total: sale.total,
      ...(sale.receiptNo ? { receiptNo: sale.receiptNo } : {}),
    });
  }

  private view(saleId: string): SaleView {
    const sale = this.mustGet(saleId);
    const payments = this.store.paymentsOf(saleId);
    const refunds = sale.kind === 'sale' ? this.store.refundsOf(saleId) : [];
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
    return view;
  }
}
