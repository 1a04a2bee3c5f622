import { ApiError, api, newIdempotencyKey } from './api.js';
import { Beeper } from './beep.js';
import type { Actions, AppActions, CartActions, PaymentActions } from './cashier-actions.js';
import { type CashierContext, fetchSale } from './cashier-context.js';
import {
  type CashierState,
  type CatalogItem,
  initialState,
  type SaleView,
  type Tender,
} from './cashier-state.js';
import { mainView } from './cashier-view.js';
import { byId, replace } from './dom.js';
import { EventClient, type Frame } from './event-client.js';
import { I18n } from './i18n.js';
import { parseYuan } from './money.js';
import { OrderInbox } from './order-inbox.js';
import { RecentSales } from './recent-sales.js';
import { RefundFlow } from './refund-flow.js';
import { ShiftFlow } from './shift-flow.js';
import { signInView } from './sign-in-view.js';
import { TerminalStatus } from './terminal-status.js';

/** The cashier screen: one state object, re-rendered whole on each change; the daemon decides. */
class CashierApp implements CashierContext, AppActions, CartActions, PaymentActions {
  readonly s: CashierState = initialState();
  readonly t = new I18n(window.localStorage);
  /** Payment outcomes that arrived before the reply that named the payment. */
  private readonly earlyOutcomes = new Map<string, Record<string, unknown>>();
  private readonly root = byId('app');
  private readonly events = new EventClient({
    onEvent: (f, replayed) => this.onEvent(f, replayed),
    onResync: () => void this.reload(),
    onConnection: (up) => {
      this.s.connected = up;
      this.render();
    },
  });
  /** Every event applied, for the tests' "nothing twice" check (types and seqs only). */
  readonly applied: Array<{ bootId: string | undefined; seq: number; type: string; replayed: boolean }> = [];
  private messageTimer: number | undefined;
  /** The new-order sound (WebAudio); `beeper.count` tells the tests how often it sounded. */
  readonly beeper = new Beeper();
  private readonly orders = new OrderInbox(this, this.beeper);
  private readonly shift = new ShiftFlow(this);
  private readonly status = new TerminalStatus(this);
  private readonly recent = new RecentSales(this);
  private readonly refund = new RefundFlow(this, this.recent);
  private readonly actions: Actions = {
    app: this,
    cart: this,
    payment: this,
    recent: this.recent,
    refund: this.refund,
    shift: this.shift,
    orders: this.orders,
  };

  async boot(): Promise<void> {
    document.documentElement.lang = this.t.lang;
    try {
      const session = await api<{ cashier: { id: string; name: string } | null }>('GET', '/api/v1/session');
      this.s.cashier = session.cashier ?? undefined;
    } catch {
      this.s.cashier = undefined;
    }
    if (this.s.cashier) this.startSession();
    this.render();
  }

  private startSession(): void {
    this.events.start();
    this.status.startPolling();
    this.orders.startCountdown();
  }

  render(): void {
    document.documentElement.lang = this.t.lang;
    replace(
      this.root,
      this.s.cashier ? mainView(this.s, this.t, this.actions) : signInView(this.s, this.t, this.actions),
    );
    document.body.dataset.ready = this.s.cashier ? (this.s.connected ? 'live' : 'connecting') : 'signin';
  }

  say(message: string | undefined): void {
    this.s.message = message;
    window.clearTimeout(this.messageTimer);
    if (message) this.messageTimer = window.setTimeout(() => this.dismissMessage(), 8_000);
    this.render();
  }

  dismissMessage(): void {
    window.clearTimeout(this.messageTimer);
    this.s.message = undefined;
    this.render();
  }

  fail(err: unknown): void {
    const text = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err);
    if (err instanceof ApiError && err.status === 401) {
      this.s.cashier = undefined;
      this.events.stop();
    }
    this.say(this.t.t('error', { m: text }));
  }

  // --- state from the daemon -------------------------------------------------------------------

  /** After sign-in, a restart or a gap: everything shown comes from the API again. */
  private async reload(): Promise<void> {
    try {
      const [catalog] = await Promise.all([
        api<{ items: CatalogItem[] }>('GET', '/api/v1/catalog'),
        this.status.loadStatus(),
        this.status.loadDevices(),
        this.orders.load(),
      ]);
      this.s.catalog = catalog.items;
      if (this.s.sale) this.s.sale = await fetchSale(this.s.sale.saleId);
      await this.recent.reload();
      if (this.s.sale && this.s.screen === 'pay' && this.s.sale.status !== 'open') this.settled();
      await this.shift.reload();
    } catch (err) {
      this.fail(err);
      return;
    }
    this.render();
  }

  private onEvent(f: Frame, replayed: boolean): void {
    this.applied.push({ bootId: this.events.state.bootId, seq: f.seq, type: f.type, replayed });
    const d = f.data;
    switch (f.type) {
      case 'sale.updated': {
        this.recent.onSaleUpdated(d);
        if (this.s.sale?.saleId === String(d.saleId)) void this.refreshSale();
        void this.status.loadStatus();
        break;
      }
      case 'payment.updated':
        if (this.s.sale?.saleId === d.saleId) void this.onPayment(d);
        break;
      case 'scan':
        // A payment code is only taken live: a replayed one may be stale.
        if (!(replayed && d.kind === 'payment')) void this.onScan(d);
        break;
      case 'order.updated':
        this.orders.onOrderUpdated(d, replayed);
        break;
      case 'shift.updated':
        void this.shift.onShiftUpdated(d);
        break;
      case 'print.job':
        this.status.onPrintJob(d);
        break;
      case 'device.status':
        this.status.onDeviceStatus(d);
        break;
      case 'devices.updated':
        this.status.onDevicesUpdated();
        break;
      default:
        break;
    }
  }

  private async refreshSale(): Promise<void> {
    if (!this.s.sale) return;
    try {
      this.s.sale = await fetchSale(this.s.sale.saleId);
      if (this.s.screen === 'pay' && this.s.sale.status !== 'open') this.settled();
      this.render();
    } catch (err) {
      this.fail(err);
    }
  }

  private async onPayment(d: Record<string, unknown>): Promise<void> {
    if (this.s.pending?.paymentId !== d.paymentId) {
      // The outcome can beat the reply to our own request (a code paid at once): keep it for then.
      if (d.status !== 'pending') this.earlyOutcomes.set(String(d.paymentId), d);
      return;
    }
    if (d.status === 'succeeded') {
      this.s.pending = undefined;
      await this.refreshSale();
    } else if (d.status !== 'pending') {
      this.s.pending = undefined;
      // Reversed: the customer never confirmed on the phone and the daemon took it back.
      this.s.tenderNote =
        d.status === 'reversed'
          ? this.t.t('paymentReversed')
          : this.t.t('paymentFailed', { r: String(d.reason ?? d.status) });
      this.render();
    }
  }

  private async onScan(d: Record<string, unknown>): Promise<void> {
    const code = String(d.code ?? '');
    if (d.kind === 'payment') {
      if (this.s.screen === 'pay' && !this.s.pending) {
        this.s.tender = 'code';
        await this.startCode(code);
      }
      return;
    }
    if (d.kind === 'coupon') {
      if (this.s.sale?.status === 'open') await this.applyCoupon(code);
      else this.s.pendingCoupon = code;
      this.render();
      return;
    }
    if (d.kind === 'member') {
      try {
        const found = await api<{ memberId: string; name: string; balance?: number }>(
          'POST',
          '/api/v1/members/lookup',
          { code },
        );
        this.s.member = { ...found, code };
      } catch (err) {
        this.fail(err);
      }
      this.render();
      return;
    }
    const item = this.s.catalog.find((i) => i.sku === code || i.barcodes?.includes(code));
    if (item && this.s.screen === 'sell') this.addItem(item);
    else if (!item) this.say(this.t.t('unknownItem', { c: code }));
  }

  // --- actions ---------------------------------------------------------------------------------

  pinKey(key: string): void {
    this.s.pinError = undefined;
    if (key === 'C') this.s.pin = '';
    else if (this.s.pin.length < 8) this.s.pin += key;
    this.render();
  }

  async signIn(): Promise<void> {
    this.beeper.unlock(); // a tap: the browser lets the page make sounds from now on
    const pin = this.s.pin;
    this.s.pin = '';
    try {
      const r = await api<{ cashier: { id: string; name: string } }>('POST', '/api/v1/session', { pin });
      this.s.cashier = r.cashier;
      this.s.pinError = undefined;
      this.startSession();
    } catch (err) {
      const e = err instanceof ApiError ? err : undefined;
      this.s.pinError =
        e?.code === 'PIN_LOCKED'
          ? this.t.t('pinLocked', { s: /(\d+) s/.exec(e.message)?.[1] ?? '' })
          : this.t.t('pinWrong');
    }
    this.render();
  }

  async signOut(): Promise<void> {
    this.events.stop();
    try {
      await api('DELETE', '/api/v1/session');
    } catch {
      // signed out either way
    }
    this.s.cashier = undefined;
    this.s.connected = false;
    this.render();
  }

  toggleLang(): void {
    this.t.toggle();
    this.render();
  }

  showTab(tab: 'items' | 'keypad'): void {
    this.s.leftTab = tab;
    this.s.keypad = '';
    this.render();
  }

  private cartChanged(): void {
    this.s.checkoutKey = undefined;
    this.s.message = undefined;
    this.render();
    const c = this.s.cart;
    const lines = c.lines.map((l) => ({ name: l.name, qty: l.qty, amount: l.qty * l.unitPrice }));
    void api('PUT', '/api/v1/cart', { lines, total: c.total }).catch(() => {});
  }

  addItem(item: CatalogItem): void {
    this.s.cart.add({
      sku: item.sku,
      name: item.names?.[this.t.lang] ?? item.name,
      unitPrice: item.unitPrice,
    });
    this.cartChanged();
  }

  keypadKey(key: string): void {
    const next = this.s.keypad + key;
    if (key === 'C') this.s.keypad = '';
    else if (this.s.screen === 'pay' && this.s.tender === 'code') {
      // A payment code typed by hand: digits only.
      if (/^\d{1,30}$/.test(next)) this.s.keypad = next;
    } else if (parseYuan(next) !== undefined) this.s.keypad = next;
    this.render();
  }

  addCustom(): void {
    const amount = parseYuan(this.s.keypad);
    if (amount === undefined || amount <= 0) return;
    this.s.cart.add({ name: this.t.t('customItem'), unitPrice: amount });
    this.s.keypad = '';
    this.cartChanged();
  }

  changeQty(index: number, delta: number): void {
    this.s.cart.changeQty(index, delta);
    this.cartChanged();
  }

  setDiscount(kind: 'none' | 'p10' | 'p20' | 'a500'): void {
    this.s.cart.discount =
      kind === 'p10'
        ? { percentBp: 1000 }
        : kind === 'p20'
          ? { percentBp: 2000 }
          : kind === 'a500'
            ? { amount: 500 }
            : undefined;
    this.cartChanged();
  }

  async checkout(): Promise<void> {
    if (this.s.cart.lines.length === 0) return;
    this.s.checkoutKey ??= newIdempotencyKey();
    try {
      const created = await api<{ saleId: string }>('POST', '/api/v1/sales', this.s.cart.toSale(), {
        idempotencyKey: this.s.checkoutKey,
      });
      if (this.s.member) {
        await api('POST', `/api/v1/sales/${created.saleId}/member`, {
          memberId: this.s.member.memberId,
        }).catch((e) => this.fail(e));
      }
      if (this.s.pendingCoupon) await this.applyCoupon(this.s.pendingCoupon, created.saleId);
      this.s.sale = await fetchSale(created.saleId);
      await this.status.loadStatus(); // the tenders on offer follow the cloud link as it is now
      this.s.keypad = '';
      this.s.tender = 'cash';
      this.s.tenderNote = undefined;
      this.s.message = undefined;
      this.s.screen = 'pay';
      if (this.s.sale.status !== 'open') this.settled();
    } catch (err) {
      this.fail(err);
      return;
    }
    this.render();
  }

  private async applyCoupon(code: string, saleId = this.s.sale?.saleId): Promise<void> {
    this.s.pendingCoupon = undefined;
    if (!saleId) return;
    try {
      await api('POST', `/api/v1/sales/${saleId}/coupon`, { code });
      this.s.message = this.t.t('couponApplied');
      if (this.s.sale?.saleId === saleId) this.s.sale = await fetchSale(saleId);
    } catch (err) {
      this.fail(err);
    }
  }

  chooseTender(tender: Tender): void {
    if (this.s.pending) return;
    this.s.tender = tender;
    this.s.keypad = '';
    this.s.tenderNote = undefined;
    this.render();
  }

  /** The sale is paid (or voided): show the result and put it in the recent list. */
  private settled(): void {
    const sale = this.s.sale!;
    this.s.screen = sale.status === 'completed' ? 'done' : 'sell';
    this.recent.record(sale);
    if (sale.status !== 'completed') {
      this.s.sale = undefined;
      this.s.cart.clear();
    } else void this.status.loadPrintJobs();
  }

  async payCash(amount?: number): Promise<void> {
    const sale = this.s.sale;
    const value = amount ?? parseYuan(this.s.keypad);
    if (!sale || value === undefined || value <= 0) return;
    try {
      await api(
        'POST',
        `/api/v1/sales/${sale.saleId}/payments`,
        { method: 'cash', amount: value },
        {
          idempotencyKey: newIdempotencyKey(),
        },
      );
      this.s.keypad = '';
      this.s.sale = await fetchSale(sale.saleId);
      if (this.s.sale.status !== 'open') this.settled();
    } catch (err) {
      this.fail(err);
      return;
    }
    this.render();
  }

  private markUnavailable(tender: 'code' | 'qr' | 'card' | 'member', err: unknown): boolean {
    if (err instanceof ApiError && (err.notAvailable || err.code === 'OFFLINE_LIMIT')) {
      this.s.tenders[tender] = 'no';
      this.s.tender = 'cash';
      this.s.tenderNote = `${this.t.t(tender)}: ${this.t.t('notAvailable')} (${err.code})`;
      this.render();
      return true;
    }
    return false;
  }

  /** Asks the daemon for a code, QR or member payment; its outcome arrives as events. */
  private async startPending(
    tender: 'code' | 'qr' | 'member',
    body: Record<string, unknown>,
    note: 'waitingPayment' | 'showQr',
  ): Promise<void> {
    const sale = this.s.sale;
    if (!sale) return;
    try {
      const r = await api<{ paymentId: string }>('POST', `/api/v1/sales/${sale.saleId}/payments`, {
        method: tender,
        ...body,
      });
      this.s.pending = { paymentId: r.paymentId, method: tender };
      this.s.tenderNote = this.t.t(note);
      await this.replayEarlyOutcome(r.paymentId);
    } catch (err) {
      if (!this.markUnavailable(tender, err)) this.fail(err);
    }
    this.render();
  }

  private startCode(authCode: string): Promise<void> {
    return this.startPending('code', { authCode }, 'waitingPayment');
  }

  private async replayEarlyOutcome(paymentId: string): Promise<void> {
    const early = this.earlyOutcomes.get(paymentId);
    this.earlyOutcomes.clear();
    if (early) await this.onPayment(early);
  }

  /** Stored value of the member scanned for this sale: charged like a payment code. */
  async payMember(): Promise<void> {
    const member = this.s.member;
    if (!member || this.s.pending) return;
    await this.startPending('member', { memberCode: member.code }, 'waitingPayment');
  }

  async payCode(): Promise<void> {
    const code = this.s.keypad;
    this.s.keypad = '';
    if (/^\d{10,30}$/.test(code)) await this.startCode(code);
  }

  async payQr(channel: 'wechat' | 'alipay'): Promise<void> {
    await this.startPending('qr', { channel }, 'showQr');
  }

  async cancelQr(): Promise<void> {
    const pending = this.s.pending;
    if (!pending) return;
    try {
      await api('POST', `/api/v1/payments/${pending.paymentId}/cancel`);
      this.s.pending = undefined;
      await this.refreshSale();
    } catch (err) {
      this.fail(err);
    }
  }

  async payCard(): Promise<void> {
    const sale = this.s.sale;
    if (!sale) return;
    try {
      await api(
        'POST',
        `/api/v1/sales/${sale.saleId}/payments`,
        { method: 'card', amount: sale.due },
        {
          idempotencyKey: newIdempotencyKey(),
        },
      );
      await this.refreshSale();
    } catch (err) {
      if (!this.markUnavailable('card', err)) this.fail(err);
    }
  }

  async cancelSale(): Promise<void> {
    const sale = this.s.sale;
    if (!sale) return;
    try {
      this.s.sale = await api<SaleView>('POST', `/api/v1/sales/${sale.saleId}/void`, {
        reason: 'cashier cancelled',
      });
      this.settled();
      this.s.screen = 'sell';
    } catch (err) {
      this.fail(err);
      return;
    }
    this.render();
  }

  nextSale(): void {
    this.s.sale = undefined;
    this.s.pending = undefined;
    this.s.tenderNote = undefined;
    this.s.cart.clear();
    this.s.member = undefined;
    this.s.checkoutKey = undefined;
    this.s.screen = 'sell';
    this.s.message = undefined;
    this.render();
    void api('PUT', '/api/v1/cart', { lines: [], total: 0 }).catch(() => {});
  }

  closeAdmin(): void {
    this.s.keypad = '';
    this.recent.closeRecent();
  }
}

const app = new CashierApp();
(window as unknown as { posd: CashierApp }).posd = app;
void app.boot();
