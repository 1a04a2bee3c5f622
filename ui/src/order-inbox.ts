import { ApiError, api } from './api.js';
import type { Beeper } from './beep.js';
import type { OrderActions } from './cashier-actions.js';
import type { CashierContext } from './cashier-context.js';
import type { OrderView, SaleView } from './cashier-state.js';

/** What a cashier types as a pickup code: letters and digits, e.g. `P88`. */
export const PICKUP_CODE = /^[A-Za-z0-9]{1,32}$/;

/** The online-order inbox: the orders the daemon holds, a sound for each new one, accept or reject. */
export class OrderInbox implements OrderActions {
  private countdownTimer: number | undefined;
  private lastBeepAt = 0;
  /** How often the sound repeats while a new order waits (the tests shorten it). */
  reminderMs = 15_000;

  constructor(
    private readonly c: CashierContext,
    private readonly beeper: Beeper,
    /** Shows the pay screen for `c.s.sale`. */
    private readonly pay: () => void,
    /** False when the float must be typed first (then `next` runs once the shift is open). */
    private readonly shiftOpen: (next: () => void) => Promise<boolean> = async () => true,
  ) {}

  /**
   * An order paid at the counter (网络订单线下支付): its sale, at the order's prices, on the pay
   * screen. A prepaid, paid or cancelled order is refused by the daemon and offers no payment.
   */
  payOrder(orderId: string): void {
    void this.openOrderSale(orderId);
  }

  /** A scanned `POSORDER:{id}` (scan kind `order`). */
  onOrderScanned(code: string): void {
    const orderId = code.startsWith('POSORDER:') ? code.slice('POSORDER:'.length) : '';
    if (orderId) this.payOrder(orderId);
  }

  /** A typed pickup code: the order with it (this terminal's or, through the cloud, the store's). */
  async payByPickupCode(pickupCode: string): Promise<void> {
    if (!PICKUP_CODE.test(pickupCode)) {
      this.c.say(`${this.c.t.t('pickupCode')} ${pickupCode}?`);
      this.c.render();
      return;
    }
    this.c.s.pickupDraft = undefined;
    try {
      const { orders } = await api<{ orders: OrderView[] }>(
        'GET',
        `/api/v1/orders?pickupCode=${encodeURIComponent(pickupCode)}`,
      );
      const order = orders.find((o) => o.payState === 'to-pay' || o.payState === 'paying') ?? orders[0];
      if (!order) throw new Error(`${this.c.t.t('pickupCode')} ${pickupCode}?`);
      await this.openOrderSale(order.orderId);
    } catch (err) {
      this.c.fail(err);
    }
  }

  cancelOrder(orderId: string): void {
    this.c.s.confirmOrder = undefined;
    void this.act(orderId, 'cancel');
  }

  askOrder(orderId: string | undefined, action: 'reject' | 'cancel' = 'reject'): void {
    this.c.s.confirmOrder = orderId ? { orderId, action } : undefined;
    this.c.render();
  }

  private async openOrderSale(orderId: string): Promise<void> {
    const s = this.c.s;
    if (s.screen === 'pay' && s.sale?.status === 'open') return; // one sale at a time
    try {
      // The first sale of a shift waits for its float, an order's as a cart's.
      if (!(await this.shiftOpen(() => void this.openOrderSale(orderId)))) return;
      s.sale = await api<SaleView>('POST', `/api/v1/orders/${encodeURIComponent(orderId)}/checkout`);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'ORDER_PREPAID') this.c.say(this.c.t.t('orderPrepaid'));
      else if (err instanceof ApiError && err.code === 'ORDER_ALREADY_PAID') {
        // Perhaps paid on another terminal: the inbox shows it paid from now on.
        this.c.fail(err);
        await this.load().catch(() => undefined);
        this.c.render();
      } else this.c.fail(err);
      return;
    }
    s.checkoutKey = undefined;
    this.pay();
    this.c.render();
  }

  /**
   * Each second: the inbox counts down to each order's auto-accept while it is on screen, and the
   * new-order sound comes again every `reminderMs` while an order waits to be accepted or rejected.
   */
  startCountdown(): void {
    window.clearInterval(this.countdownTimer);
    this.countdownTimer = window.setInterval(() => {
      const s = this.c.s;
      if (s.screen === 'orders' && s.orders.some((o) => o.status === 'received' && o.autoAcceptAt))
        this.c.render();
      const waiting = s.orders.some((o) => o.status === 'received' && !o.payState);
      if (waiting && Date.now() - this.lastBeepAt >= this.reminderMs) this.beep();
    }, 1_000);
  }

  private beep(): void {
    this.lastBeepAt = Date.now();
    this.beeper.beep();
  }

  async load(): Promise<void> {
    const s = this.c.s;
    try {
      s.orders = (await api<{ orders: OrderView[] }>('GET', '/api/v1/orders?limit=50')).orders;
      s.ordersAvailable = 'yes';
    } catch (err) {
      if (err instanceof ApiError && err.notAvailable) s.ordersAvailable = 'no';
      else if (err instanceof ApiError && err.status === 401) throw err;
    }
  }

  /** An `order.updated` event. A new order sounds once, when it arrives live (not from a replay). */
  onOrderUpdated(d: Record<string, unknown>, replayed: boolean): void {
    if (d.status === 'received' && !replayed) this.beep();
    void this.load().then(() => this.c.render());
  }

  async showOrders(): Promise<void> {
    const s = this.c.s;
    if (s.screen === 'pay') return;
    this.beeper.unlock();
    try {
      await this.load();
    } catch (err) {
      this.c.fail(err);
      return;
    }
    s.message = undefined;
    s.screen = 'orders';
    this.c.render();
  }

  acceptOrder(orderId: string): void {
    void this.act(orderId, 'accept');
  }

  rejectOrder(orderId: string): void {
    this.c.s.confirmOrder = undefined;
    void this.act(orderId, 'reject');
  }

  reprintOrder(orderId: string): void {
    void this.act(orderId, 'reprint');
  }

  private async act(orderId: string, action: 'accept' | 'reject' | 'reprint' | 'cancel'): Promise<void> {
    try {
      const body = action === 'reject' ? { reason: this.c.t.t('soldOut') } : undefined;
      await api('POST', `/api/v1/orders/${encodeURIComponent(orderId)}/${action}`, body);
      await this.load();
    } catch (err) {
      this.c.fail(err);
      return;
    }
    this.c.render();
  }
}
