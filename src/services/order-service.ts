import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { EventBus } from '../bus.js';
import type { BusinessConfig } from '../config/business.js';
import { MAX_AMOUNT } from '../core/money.js';
import { PosError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Db } from '../offline/db.js';
import type { Ledger } from '../offline/ledger.js';

/** `order` of `P/down/order` (mqtt-v1 "Online orders"). */
export const OnlineOrderSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 100 }),
  source: Type.String({ minLength: 1, maxLength: 40 }),
  placedAt: Type.String({ minLength: 1, maxLength: 40 }),
  lines: Type.Array(
    Type.Object({
      sku: Type.Optional(Type.String({ maxLength: 64 })),
      name: Type.String({ minLength: 1, maxLength: 120 }),
      qty: Type.Integer({ minimum: 1, maximum: 9999 }),
      unitPrice: Type.Integer({ minimum: 0, maximum: MAX_AMOUNT }),
    }),
    { minItems: 1, maxItems: 500 },
  ),
  total: Type.Integer({ minimum: 0, maximum: MAX_AMOUNT }),
  currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  customer: Type.Optional(Type.Unknown()),
  note: Type.Optional(Type.String({ maxLength: 500 })),
  pickup: Type.Optional(Type.Unknown()),
  /** Absent means prepaid: never charged again at the counter. */
  payment: Type.Optional(Type.Union([Type.Literal('prepaid'), Type.Literal('at-counter')])),
  pickupCode: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
});

export type OnlineOrder = Static<typeof OnlineOrderSchema>;
const checkOrder = TypeCompiler.Compile(OnlineOrderSchema);

export type OrderStatus = 'received' | 'accepted' | 'rejected';
export type TicketKind = 'kitchen' | 'customer';

/**
 * The print queue as orders see it: a ticket job is made inside the transaction that accepts the
 * order, so an accepted order always has its tickets waiting; `ticketPrinted` records them.
 */
export interface TicketQueue {
  enqueueInTransaction(kind: TicketKind, order: OnlineOrder, reprint: boolean): void;
}

declare module '../bus.js' {
  interface PosEvents {
    'order.updated': {
      orderId: string;
      status: OrderStatus;
      source: string;
      total: number;
      autoAcceptAt?: string;
      payState?: PayState;
      pickupCode?: string;
    };
  }
}

export interface OrderView {
  orderId: string;
  status: OrderStatus;
  downSeq: number | null;
  order: OnlineOrder;
  receivedAt: string;
  updatedAt: string;
  printed: TicketKind[];
  autoAcceptAt?: string;
  rejectReason?: string;
  /** An at-counter order: whether it still waits for its money (see order-checkout). */
  payState?: PayState;
  saleId?: string;
}

/** An at-counter order: 待付款, being paid (a linked open sale), paid, or cancelled unpaid. */
export type PayState = 'to-pay' | 'paying' | 'paid' | 'cancelled';

export interface Row {
  id: string;
  down_seq: number | null;
  status: OrderStatus;
  doc: string;
  received_at: string;
  updated_at: string;
}

export interface OrderDoc {
  order: OnlineOrder;
  printed?: TicketKind[];
  autoAcceptAt?: string;
  rejectReason?: string;
  /** At-counter only: the linked sale (open while paying) and, once paid, the sale that paid it. */
  saleId?: string;
  paidBy?: string;
  /** The cloud answered that another terminal took this order's money (see order-checkout). */
  paidElsewhere?: boolean;
  cancelled?: boolean;
}

export interface OrderServiceOptions {
  db: Db;
  ledger: Ledger;
  bus: EventBus;
  log: Logger;
  business: () => BusinessConfig;
  tickets?: TicketQueue;
  now?: () => Date;
  setTimer?: (fn: () => void, ms: number) => { cancel(): void };
}

/**
 * Online orders: deduped on `order.id` (a redelivery or an `orders.pull` overlap is harmless),
 * recorded `order.received`, accepted by the cashier or automatically after `autoAcceptSeconds`,
 * tickets queued on accept and recorded `order.printed` once the printer confirms them.
 */
export class OrderService {
  private readonly o: OrderServiceOptions;
  private readonly now: () => Date;
  private readonly setTimer: NonNullable<OrderServiceOptions['setTimer']>;
  private readonly timers = new Map<string, { cancel(): void }>();
  private readonly stmt;

  constructor(options: OrderServiceOptions) {
    this.o = options;
    this.now = options.now ?? (() => new Date());
    this.setTimer =
      options.setTimer ??
      ((fn, ms) => {
        const t = setTimeout(fn, ms);
        t.unref();
        return { cancel: () => clearTimeout(t) };
      });
    const db = options.db;
    this.stmt = {
      get: db.prepare<[string], Row>('SELECT * FROM orders WHERE id = ?'),
      insert: db.prepare<[string, number | null, string, string, string]>(
        "INSERT INTO orders (id, down_seq, status, doc, received_at, updated_at) VALUES (?, ?, 'received', ?, ?, ?)",
      ),
      update: db.prepare<[string, string, string, string]>(
        'UPDATE orders SET status = ?, doc = ?, updated_at = ? WHERE id = ?',
      ),
      list: db.prepare<[number], Row>('SELECT * FROM orders ORDER BY received_at DESC LIMIT ?'),
      waiting: db.prepare<[], Row>("SELECT * FROM orders WHERE status = 'received'"),
      byPickup: db.prepare<[string], Row>(
        "SELECT * FROM orders WHERE json_extract(doc, '$.order.payment') = 'at-counter' AND json_extract(doc, '$.order.pickupCode') = ? ORDER BY received_at DESC",
      ),
      unpaid: db.prepare<[], Row>(
        "SELECT * FROM orders WHERE json_extract(doc, '$.order.payment') = 'at-counter' AND json_extract(doc, '$.paidBy') IS NULL AND json_extract(doc, '$.paidElsewhere') IS NULL AND status != 'rejected'",
      ),
      getState: db.prepare<[string], { value: string }>('SELECT value FROM sync_state WHERE key = ?'),
      setState: db.prepare<[string, string]>(
        'INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
    };
  }

  /**
   * The contiguous watermark: every downSeq up to it has been taken. `orders.pull {sinceDownSeq}`
   * starts here, so an order missed before a later push is still pulled.
   */
  lastDownSeq(): number {
    return Number(this.stmt.getState.get('orders.downSeq')?.value ?? 0);
  }

  /** downSeqs taken above the watermark (out of order); few, so kept as one JSON list. */
  private seenAbove(): Set<number> {
    return new Set(JSON.parse(this.stmt.getState.get('orders.downSeqsAbove')?.value ?? '[]') as number[]);
  }

  /** Inside a transaction: `downSeqs` are taken; the watermark moves over what is now contiguous. */
  private takeDownSeqs(downSeqs: Iterable<number>): void {
    let mark = this.lastDownSeq();
    const above = this.seenAbove();
    for (const d of downSeqs) if (d > mark) above.add(d);
    while (above.delete(mark + 1)) mark += 1;
    this.stmt.setState.run('orders.downSeq', String(mark));
    this.stmt.setState.run('orders.downSeqsAbove', JSON.stringify([...above].sort((a, b) => a - b)));
  }

  /**
   * After `orders.pull {sinceDownSeq}` answered in full (each order passed to `receive`): a
   * downSeq in the answered range that the cloud did not return does not exist there, so the
   * watermark may pass it.
   */
  pulled(sinceDownSeq: number, upTo: number): void {
    if (upTo <= sinceDownSeq) return;
    this.o.ledger.transact(() => {
      const range: number[] = [];
      for (let d = sinceDownSeq + 1; d <= upTo; d++) range.push(d);
      this.takeDownSeqs(range);
    });
  }

  /** Re-arms auto-accept timers after a restart. */
  start(): void {
    for (const row of this.stmt.waiting.all()) {
      const doc = JSON.parse(row.doc) as OrderDoc;
      if (doc.autoAcceptAt) this.armAutoAccept(row.id, doc.autoAcceptAt);
    }
  }

  stop(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  /** From the downlink (push or pull). Returns whether it was new. */
  receive(downSeq: number | null, order: unknown): { orderId: string; duplicate: boolean } {
    if (!checkOrder.Check(order)) {
      const first = [...checkOrder.Errors(order)][0];
      throw new PosError(
        'VALIDATION_FAILED',
        `order: ${first?.path ?? ''} ${first?.message ?? 'invalid'}`.trim(),
      );
    }
    const nowMs = this.now().getTime();
    const at = new Date(nowMs).toISOString();
    // An at-counter order is accepted (its tickets printed) when it is paid, not by a timer.
    const seconds = order.payment === 'at-counter' ? 0 : this.o.business().orders.autoAcceptSeconds;
    const autoAcceptAt = seconds > 0 ? new Date(nowMs + seconds * 1000).toISOString() : undefined;
    const duplicate = this.o.ledger.transact(() => {
      if (downSeq !== null) this.takeDownSeqs([downSeq]);
      if (this.stmt.get.get(order.id)) return true;
      const doc: OrderDoc = { order, printed: [], ...(autoAcceptAt ? { autoAcceptAt } : {}) };
      this.stmt.insert.run(order.id, downSeq, JSON.stringify(doc), at, at);
      this.o.ledger.append('order.received', {
        orderId: order.id,
        source: order.source,
        placedAt: order.placedAt,
        total: order.total,
        currency: order.currency,
        lines: order.lines.length,
        ...(downSeq !== null ? { downSeq } : {}),
        ...(order.payment === 'at-counter' ? { payment: 'at-counter', pickupCode: order.pickupCode } : {}),
      });
      return false;
    });
    if (!duplicate) {
      this.announce(order.id);
      if (autoAcceptAt) this.armAutoAccept(order.id, autoAcceptAt, nowMs);
    }
    return { orderId: order.id, duplicate };
  }

  async accept(orderId: string, by: 'cashier' | 'auto' = 'cashier'): Promise<OrderView> {
    this.timers.get(orderId)?.cancel();
    this.timers.delete(orderId);
    this.o.ledger.transact(() => this.acceptInTransaction(orderId, by));
    this.announce(orderId);
    return this.get(orderId);
  }

  /** Inside a transaction: accepts a received order (tickets queued); an accepted one stays so. */
  acceptInTransaction(orderId: string, by: 'cashier' | 'auto' | 'payment'): void {
    const row = this.mustGet(orderId);
    if (row.status === 'accepted') return;
    if (row.status !== 'received') throw new PosError('CONFLICT', `order ${orderId} is ${row.status}`);
    const doc = JSON.parse(row.doc) as OrderDoc;
    delete doc.autoAcceptAt;
    this.stmt.update.run('accepted', JSON.stringify(doc), this.now().toISOString(), orderId);
    this.o.ledger.append('order.accepted', { orderId, by });
    this.queueTickets(doc, false);
  }

  /** Inside a transaction: the stored row of an order (NOT_FOUND when there is none). */
  rowInTransaction(orderId: string): { status: OrderStatus; doc: OrderDoc } {
    const row = this.mustGet(orderId);
    return { status: row.status, doc: JSON.parse(row.doc) as OrderDoc };
  }

  /** The stored document of an order (NOT_FOUND when there is none). */
  rowDoc(orderId: string): OrderDoc {
    return JSON.parse(this.mustGet(orderId).doc) as OrderDoc;
  }

  /** Inside a transaction: writes an order's status and document (the caller records why). */
  saveInTransaction(orderId: string, status: OrderStatus, doc: OrderDoc): void {
    this.stmt.update.run(status, JSON.stringify(doc), this.now().toISOString(), orderId);
  }

  /** At-counter orders with this pickup code, newest first. */
  byPickupCode(pickupCode: string): OrderView[] {
    return this.stmt.byPickup.all(pickupCode).map(toView);
  }

  /** At-counter orders neither paid nor cancelled. */
  unpaidAtCounter(): OrderView[] {
    return this.stmt.unpaid.all().map(toView);
  }

  /** Tells the UI an order changed (after a commit made elsewhere). */
  announceOrder(orderId: string): void {
    this.announce(orderId);
  }

  reject(orderId: string, reason: string): OrderView {
    this.timers.get(orderId)?.cancel();
    this.timers.delete(orderId);
    this.o.ledger.transact(() => {
      const row = this.mustGet(orderId);
      if (row.status !== 'received') throw new PosError('CONFLICT', `order ${orderId} is ${row.status}`);
      const doc = JSON.parse(row.doc) as OrderDoc;
      delete doc.autoAcceptAt;
      doc.rejectReason = reason;
      this.stmt.update.run('rejected', JSON.stringify(doc), this.now().toISOString(), orderId);
      this.o.ledger.append('order.rejected', { orderId, reason });
    });
    this.announce(orderId);
    return this.get(orderId);
  }

  /** Queues the tickets again, marked as a reprint. */
  reprint(orderId: string): OrderView {
    this.o.ledger.transact(() => {
      const row = this.mustGet(orderId);
      if (row.status !== 'accepted') throw new PosError('CONFLICT', 'only an accepted order prints');
      this.queueTickets(JSON.parse(row.doc) as OrderDoc, true);
    });
    return this.get(orderId);
  }

  /** Inside the print queue's transaction: the ticket is on paper; records `order.printed`. */
  ticketPrintedInTransaction(orderId: string, kind: TicketKind, reprint: boolean): void {
    const row = this.stmt.get.get(orderId);
    if (!row) return;
    const doc = JSON.parse(row.doc) as OrderDoc;
    doc.printed = [...new Set([...(doc.printed ?? []), kind])];
    this.stmt.update.run(row.status, JSON.stringify(doc), this.now().toISOString(), orderId);
    this.o.ledger.append('order.printed', { orderId, ticket: kind, ...(reprint ? { reprint: true } : {}) });
    queueMicrotask(() => this.announce(orderId)); // after the caller's commit
  }

  get(orderId: string): OrderView {
    return toView(this.mustGet(orderId));
  }

  list(limit = 50): OrderView[] {
    return this.stmt.list.all(limit).map(toView);
  }

  private queueTickets(doc: OrderDoc, reprint: boolean): void {
    const tickets = this.o.tickets;
    if (!tickets) return;
    const { printKitchenTicket, printCustomerTicket } = this.o.business().orders;
    if (printKitchenTicket) tickets.enqueueInTransaction('kitchen', doc.order, reprint);
    if (printCustomerTicket) tickets.enqueueInTransaction('customer', doc.order, reprint);
  }

  private armAutoAccept(orderId: string, at: string, nowMs = this.now().getTime()): void {
    const ms = Math.max(0, Date.parse(at) - nowMs);
    this.timers.set(
      orderId,
      this.setTimer(() => {
        this.timers.delete(orderId);
        this.accept(orderId, 'auto').catch((err) => this.o.log.warn({ orderId, err }, 'auto-accept failed'));
      }, ms),
    );
  }

  private mustGet(orderId: string): Row {
    const row = this.stmt.get.get(orderId);
    if (!row) throw new PosError('NOT_FOUND', `no order ${orderId}`);
    return row;
  }

  private announce(orderId: string): void {
    const v = this.get(orderId);
    this.o.bus.emit('order.updated', {
      orderId,
      status: v.status,
      source: v.order.source,
      total: v.order.total,
      ...(v.autoAcceptAt ? { autoAcceptAt: v.autoAcceptAt } : {}),
      ...(v.payState ? { payState: v.payState } : {}),
      ...(v.order.pickupCode ? { pickupCode: v.order.pickupCode } : {}),
    });
  }
}

function toView(row: Row): OrderView {
  const doc = JSON.parse(row.doc) as OrderDoc;
  const view: OrderView = {
    orderId: row.id,
    status: row.status,
    downSeq: row.down_seq,
    order: doc.order,
    receivedAt: row.received_at,
    updatedAt: row.updated_at,
    printed: doc.printed ?? [],
  };
  if (doc.autoAcceptAt) view.autoAcceptAt = doc.autoAcceptAt;
  if (doc.rejectReason) view.rejectReason = doc.rejectReason;
  if (doc.order.payment === 'at-counter') {
    view.payState =
      doc.paidBy || doc.paidElsewhere
        ? 'paid'
        : doc.cancelled || row.status === 'rejected'
          ? 'cancelled'
          : doc.saleId
            ? 'paying'
            : 'to-pay';
    const saleId = doc.paidBy ?? doc.saleId;
    if (saleId) view.saleId = saleId;
  }
  return view;
}
