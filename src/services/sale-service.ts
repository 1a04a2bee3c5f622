import { v7 as uuidv7 } from 'uuid';
import type { EventBus } from '../bus.js';
import {
  type AppliedPayment,
  cashTender,
  type Discount,
  dueForPayment,
  type LineInput,
  paidAmount as paidOf,
  priceSale,
} from '../core/sale.js';
import { PosError } from '../errors.js';
import type { Ledger } from '../offline/ledger.js';
import type { SaleDoc, SaleRecord, SalesStore } from '../offline/sales-store.js';
import { type Replayable, runOnce } from './idempotency.js';
import { SaleHooks } from './sale-hooks.js';
import { repricedDoc, saleCompletedBody, voidInTransaction } from './sale-records.js';
import { type SaleView, saleView } from './sale-view.js';

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

export type { SaleView } from './sale-view.js';

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

export type { Reversal } from './sale-hooks.js';

/** Sell, pay in cash and void (refunds: refund-service): asks core/, commits through offline/ before anyone is told. */
export class SaleService extends SaleHooks {
  private readonly ledger: Ledger;
  private readonly store: SalesStore;
  private readonly shifts: ShiftPort;
  private readonly bus: EventBus;
  private readonly deviceId: string;
  private readonly currency: () => string;
  private readonly now: () => Date;
  private readonly newId: () => string;
  private readonly guard: (sale: { total: number; tenders: readonly string[] }) => void;

  constructor(options: SaleServiceOptions) {
    super();
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

  /**
   * Inside a transaction: an open sale holding an online order's lines at the order's prices (no
   * re-pricing: the order is what the customer agreed to), linked by `orderId`.
   */
  openForOrderInTransaction(orderId: string, lines: LineInput[], currency: string): SaleRecord {
    const priced = priceSale(lines);
    const at = this.now().toISOString();
    const sale: SaleRecord = {
      id: this.newId(),
      kind: 'sale',
      originalSaleId: null,
      status: 'open',
      currency,
      total: priced.total,
      receiptNo: null,
      shiftId: this.shifts.currentIdInTransaction(),
      doc: { ...priced, orderId },
      createdAt: at,
      completedAt: null,
      voidedAt: null,
    };
    this.store.insertSale(sale);
    return sale;
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
        const due = dueForPayment(sale, this.store.paymentsOf(saleId));
        const at = this.now().toISOString();
        // Money moving now is in the open shift's Z report, even for a sale begun in a closed one.
        this.shifts.currentIdInTransaction();
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
      const { couponReleased } = voidInTransaction(this.store, this.ledger, sale, reason, this.now());
      if (couponReleased) this.releaseCouponInTransaction(couponReleased);
      if (sale.status === 'completed') this.reversedInTransaction(sale, { kind: 'voided' });
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

  /** A sale's `paid` and `change` as its view has them, read from its payments only. */
  tenderedOf(saleId: string): { paid: number; change: number } {
    return this.store.tendered(saleId);
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

  /**
   * Inside a transaction: re-prices an open sale that has no payment yet with a new order discount
   * (a coupon), keeping its lines and their own discounts.
   */
  repriceOpenSale(saleId: string, orderDiscount: Discount | undefined, extra: Partial<SaleDoc>): SaleRecord {
    const sale = this.mustGet(saleId);
    if (sale.status !== 'open' || sale.kind !== 'sale')
      throw new PosError('SALE_NOT_OPEN', `sale ${saleId} is ${sale.status}`);
    if (sale.doc.orderId) {
      throw new PosError(
        'ORDER_PRICED',
        'the sale of an online order keeps the prices the customer agreed to',
      );
    }
    if (this.store.paymentsOf(saleId).length > 0) {
      throw new PosError('CONFLICT', 'a discount cannot change once a payment was taken');
    }
    const doc = repricedDoc(sale.doc, orderDiscount, extra);
    this.store.updateOpenSale(saleId, doc.total, doc);
    return this.mustGet(saleId);
  }

  private recordCompletion(
    sale: SaleRecord,
    receiptNo: string,
    allPayments: readonly AppliedPayment[],
  ): void {
    this.ledger.append('sale.completed', saleCompletedBody(sale, receiptNo, allPayments));
    for (const hook of this.completionHooks) hook(sale, receiptNo);
  }

  /** Inside a transaction: the shift money moving now belongs to (opened on demand). */
  shiftInTransaction(): string {
    return this.shifts.currentIdInTransaction();
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
    return saleView(this.store, this.mustGet(saleId));
  }
}
