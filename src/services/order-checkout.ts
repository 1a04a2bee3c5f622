import type { EventBus } from '../bus.js';
import type { BusinessConfig } from '../config/business.js';
import { PosError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Ledger } from '../offline/ledger.js';
import type { SaleRecord, SalesStore } from '../offline/sales-store.js';
import type { CloudPort } from './cloud-port.js';
import type { OrderService, OrderView } from './order-service.js';
import type { SaleService, SaleView } from './sale-service.js';

export interface OrderCheckoutOptions {
  orders: OrderService;
  sales: SaleService;
  store: SalesStore;
  ledger: Ledger;
  cloud: CloudPort;
  bus: EventBus;
  log: Logger;
  business: () => BusinessConfig;
  now?: () => Date;
}

/** What the cashier gets for a scanned `POSORDER:{id}`. */
export const ORDER_QR_PREFIX = 'POSORDER:';

const LOOKUP_TIMEOUT_MS = 5_000;

/**
 * Online orders paid at the counter (网络订单线下支付): an at-counter order opens as a sale with the
 * order's lines and prices, linked by `orderId`; the transaction that completes that sale records
 * `order.paid`. One linked sale at a time, so an order is paid at most once; a void of the paying
 * sale puts the order back to "to pay".
 */
export class OrderCheckout {
  private readonly o: OrderCheckoutOptions;
  private readonly now: () => Date;

  constructor(options: OrderCheckoutOptions) {
    this.o = options;
    this.now = options.now ?? (() => new Date());
    const { sales, bus } = options;
    sales.onCompletedInTransaction((sale) => {
      if (sale.doc.orderId) this.paidInTransaction(sale.doc.orderId, sale);
    });
    sales.onReversedInTransaction((sale, how) => {
      if (sale.doc.orderId && how.kind === 'voided') this.unpaidInTransaction(sale.doc.orderId, sale.id);
    });
    bus.on('sale.updated', (e) => {
      if (e.data.status === 'voided') this.openSaleVoided(e.data.saleId);
    });
  }

  /**
   * The orders with this pickup code: the terminal's own, else the store's at-counter order pushed
   * to another terminal (`orders.lookup`), which is then taken in here like a pushed one.
   */
  async findByPickupCode(pickupCode: string): Promise<OrderView[]> {
    const local = this.o.orders.byPickupCode(pickupCode);
    if (local.length > 0) return local;
    const { cloud } = this.o;
    if (!cloud.configured || !cloud.isOnline()) return [];
    const reply = await cloud.request<{ order: unknown }>('orders.lookup', { pickupCode }, LOOKUP_TIMEOUT_MS);
    if (reply.kind !== 'ok' || !reply.result.order) return [];
    const { orderId } = this.o.orders.receive(null, reply.result.order);
    const view = this.o.orders.get(orderId);
    return view.order.payment === 'at-counter' ? [view] : [];
  }

  /** `POSORDER:{id}` → the order id; undefined for any other code. */
  static orderIdOfScan(code: string): string | undefined {
    return code.startsWith(ORDER_QR_PREFIX) && code.length > ORDER_QR_PREFIX.length
      ? code.slice(ORDER_QR_PREFIX.length)
      : undefined;
  }

  /**
   * Opens the order's checkout after asking the cloud, when it is reachable, whether the order is
   * still payable: another terminal may have taken its money (then it is recorded paid here and
   * refused `ORDER_ALREADY_PAID`). No answer: the customer is at this counter, so it opens (see
   * docs/protocol.md "Online orders paid at the counter").
   */
  async checkout(orderId: string): Promise<SaleView> {
    await this.askCloudPayable(orderId);
    return this.checkoutLocal(orderId);
  }

  /**
   * The open sale that takes this order's money: the one already linked (a second tap, a restart
   * mid-payment), else a new one. Refuses a prepaid, paid or cancelled order. Local only.
   */
  checkoutLocal(orderId: string): SaleView {
    const saleId = this.o.ledger.transact(() => {
      const { status, doc } = this.o.orders.rowInTransaction(orderId);
      if (doc.order.payment !== 'at-counter') {
        throw new PosError('ORDER_PREPAID', `order ${orderId} was paid online: nothing to charge`);
      }
      if (doc.paidBy) {
        throw new PosError('ORDER_ALREADY_PAID', `order ${orderId} is paid (sale ${doc.paidBy})`, {
          saleId: doc.paidBy,
        });
      }
      if (doc.paidElsewhere) {
        throw new PosError('ORDER_ALREADY_PAID', `order ${orderId} was paid on another terminal`);
      }
      if (doc.cancelled || status === 'rejected') {
        throw new PosError('ORDER_CANCELLED', `order ${orderId} was cancelled`);
      }
      const linked = doc.saleId ? this.o.store.getSale(doc.saleId) : undefined;
      if (linked?.status === 'open') return linked.id;
      const sale = this.o.sales.openForOrderInTransaction(
        orderId,
        doc.order.lines.map((l) => ({
          ...(l.sku !== undefined ? { sku: l.sku } : {}),
          name: l.name,
          qty: l.qty,
          unitPrice: l.unitPrice,
        })),
        doc.order.currency,
      );
      if (sale.total !== doc.order.total) {
        // Lines that do not add up to what the customer was shown: charge neither, ask a person.
        throw new PosError(
          'VALIDATION_FAILED',
          `order ${orderId} lines total ${sale.total}, the order says ${doc.order.total}`,
        );
      }
      this.o.orders.saveInTransaction(orderId, status, { ...doc, saleId: sale.id });
      return sale.id;
    });
    this.o.sales.announceSale(saleId);
    this.o.orders.announceOrder(orderId);
    return this.o.sales.getSale(saleId);
  }

  /**
   * The cashier (or the expiry) cancels an at-counter order never collected: recorded as
   * `order.rejected {reason, cancelled: true}` (mqtt-v1 has no `order.cancelled` record). An order
   * with money in flight or taken is refused.
   */
  cancel(orderId: string, reason: string, by: 'cashier' | 'expiry' = 'cashier'): OrderView {
    const openSale = this.o.ledger.transact(() => {
      const { doc } = this.o.orders.rowInTransaction(orderId);
      if (doc.order.payment !== 'at-counter') {
        throw new PosError('ORDER_PREPAID', `order ${orderId} was paid online; reject it instead`);
      }
      if (doc.paidBy || doc.paidElsewhere) {
        throw new PosError('ORDER_ALREADY_PAID', `order ${orderId} is paid`);
      }
      if (doc.cancelled) return undefined;
      const linked = doc.saleId ? this.o.store.getSale(doc.saleId) : undefined;
      if (
        linked?.status === 'open' &&
        this.o.store.paymentsOf(linked.id).some((p) => p.status !== 'failed')
      ) {
        throw new PosError('ORDER_IN_PAYMENT', `order ${orderId} has a payment on its sale`);
      }
      this.o.orders.saveInTransaction(orderId, 'rejected', {
        ...doc,
        cancelled: true,
        rejectReason: reason,
        ...(linked?.status === 'open' ? {} : { saleId: undefined }),
      });
      this.o.ledger.append('order.rejected', { orderId, reason, cancelled: true, by });
      return linked?.status === 'open' ? linked.id : undefined;
    });
    // The emptied sale goes too (it holds no money).
    if (openSale) this.o.sales.voidSale(openSale, 'order cancelled');
    this.o.orders.announceOrder(orderId);
    return this.o.orders.get(orderId);
  }

  /** Cancels the at-counter orders older than `orders.atCounterExpiryMinutes` (0: never) and not being paid. */
  expireOld(): string[] {
    const minutes = this.o.business().orders.atCounterExpiryMinutes;
    if (!minutes) return [];
    const cutoff = this.now().getTime() - minutes * 60_000;
    const expired: string[] = [];
    for (const v of this.o.orders.unpaidAtCounter()) {
      if (Date.parse(v.receivedAt) > cutoff || v.payState !== 'to-pay') continue;
      try {
        this.cancel(v.orderId, 'expired', 'expiry');
        expired.push(v.orderId);
      } catch (err) {
        this.o.log.warn({ orderId: v.orderId, err }, 'order expiry skipped');
      }
    }
    return expired;
  }

  /**
   * `orders.lookup {orderId, pickupCode}`: the cloud answers the order while it is unpaid, `null`
   * once paid. Not asked for an order paid or cancelled here, nor one with money in flight here.
   */
  private async askCloudPayable(orderId: string): Promise<void> {
    const view = this.o.orders.get(orderId);
    const { cloud } = this.o;
    if (view.order.payment !== 'at-counter' || view.status === 'rejected') return;
    const doc = this.o.orders.rowDoc(orderId);
    if (doc.paidBy || doc.cancelled || this.moneyInFlight(doc.saleId)) return;
    if (!cloud.configured || !cloud.isOnline()) return;
    const { pickupCode } = view.order;
    const reply = await cloud.request<{ order: { id?: unknown } | null }>(
      'orders.lookup',
      { orderId, ...(pickupCode ? { pickupCode } : {}) },
      LOOKUP_TIMEOUT_MS,
    );
    if (reply.kind !== 'ok') {
      this.o.log.warn({ orderId, reply: reply.kind }, 'orders.lookup unanswered: checkout opens');
      return;
    }
    const found = reply.result?.order;
    // Another order under the same pickup code: a cloud that does not read orderId, no answer.
    if (found && found.id !== orderId) return;
    const paidElsewhere = !found;
    const voidSale = this.o.ledger.transact(() => {
      const row = this.o.orders.rowInTransaction(orderId);
      if (row.doc.paidBy || Boolean(row.doc.paidElsewhere) === paidElsewhere) return undefined;
      if (this.moneyInFlight(row.doc.saleId)) return undefined;
      const { paidElsewhere: _p, saleId, ...rest } = row.doc;
      const open = saleId && this.o.store.getSale(saleId)?.status === 'open' ? saleId : undefined;
      this.o.orders.saveInTransaction(
        orderId,
        row.status,
        paidElsewhere ? { ...rest, paidElsewhere: true } : { ...rest, ...(saleId ? { saleId } : {}) },
      );
      return { open: paidElsewhere ? open : undefined };
    });
    if (voidSale) {
      this.o.log.info({ orderId, paidElsewhere }, 'order pay state taken from the cloud');
      if (voidSale.open) this.o.sales.voidSale(voidSale.open, 'order paid on another terminal');
      this.o.orders.announceOrder(orderId);
    }
  }

  /** The linked open sale holds a payment that is not failed. */
  private moneyInFlight(saleId: string | undefined): boolean {
    const linked = saleId ? this.o.store.getSale(saleId) : undefined;
    return linked?.status === 'open' && this.o.store.paymentsOf(linked.id).some((p) => p.status !== 'failed');
  }

  /** Inside the completing transaction: `order.paid`, and the order accepted (tickets) if it was not. */
  private paidInTransaction(orderId: string, sale: SaleRecord): void {
    const { status, doc } = this.o.orders.rowInTransaction(orderId);
    if (doc.paidBy === sale.id) return;
    if (doc.paidBy) {
      // Cannot happen (one linked sale at a time); never undo a payment that succeeded over it.
      this.o.log.error({ orderId, saleId: sale.id, paidBy: doc.paidBy }, 'order paid by a second sale');
      return;
    }
    this.o.orders.saveInTransaction(orderId, status, { ...doc, saleId: sale.id, paidBy: sale.id });
    this.o.ledger.append('order.paid', { orderId, saleId: sale.id, total: sale.total });
    if (status === 'received') this.o.orders.acceptInTransaction(orderId, 'payment');
    queueMicrotask(() => this.o.orders.announceOrder(orderId));
  }

  /** Inside the transaction voiding the paying sale: the order waits for its money again. */
  private unpaidInTransaction(orderId: string, saleId: string): void {
    const { status, doc } = this.o.orders.rowInTransaction(orderId);
    if (doc.paidBy !== saleId) return;
    const { paidBy: _p, saleId: _s, ...rest } = doc;
    this.o.orders.saveInTransaction(orderId, status, rest);
    queueMicrotask(() => this.o.orders.announceOrder(orderId));
  }

  /** An open linked sale was voided: the order is no longer being paid. */
  private openSaleVoided(saleId: string): void {
    const sale = this.o.store.getSale(saleId);
    const orderId = sale?.doc.orderId;
    if (!orderId) return;
    const changed = this.o.ledger.transact(() => {
      const { status, doc } = this.o.orders.rowInTransaction(orderId);
      if (doc.saleId !== saleId || doc.paidBy) return false;
      const { saleId: _s, ...rest } = doc;
      this.o.orders.saveInTransaction(orderId, status, rest);
      return true;
    });
    if (changed) this.o.orders.announceOrder(orderId);
  }
}
