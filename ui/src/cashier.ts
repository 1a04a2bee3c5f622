import { ApiError, api } from './api.js';
import { Beeper } from './beep.js';
import { CartEditor } from './cart-editor.js';
import type { Actions, AppActions } from './cashier-actions.js';
import { type CashierContext, fetchSale } from './cashier-context.js';
import { type CashierState, type CatalogItem, initialState } from './cashier-state.js';
import { mainView } from './cashier-view.js';
import { CodeEntry } from './code-entry.js';
import { byId, replace } from './dom.js';
import { errorSentence } from './error-text.js';
import { EventClient, type Frame } from './event-client.js';
import { I18n } from './i18n.js';
import { blockContextMenu } from './kiosk-guard.js';
import { parseYuan } from './money.js';
import { OrderInbox } from './order-inbox.js';
import { PaymentFlow } from './payment-flow.js';
import { RecentSales } from './recent-sales.js';
import { RefundFlow } from './refund-flow.js';
import { ShiftFlow } from './shift-flow.js';
import { signInView } from './sign-in-view.js';
import { TapGuard } from './tap-guard.js';
import { TerminalStatus } from './terminal-status.js';
import { UpdateFlow } from './update-banner.js';

const SESSION_ASK_TIMEOUT_MS = 3_000;
const SESSION_RETRY_MS = 1_000;

/**
 * The cashier screen: one state object, re-rendered whole on each change; the daemon decides. This
 * shell signs in, keeps the toast, reloads and routes the daemon's events; each job (cart, payment,
 * recent sales, refund, shift, orders, terminal status) has its own module.
 */
class CashierApp implements CashierContext, AppActions {
  readonly s: CashierState = initialState();
  readonly t = new I18n(window.localStorage);
  private readonly root = byId('app');
  private readonly taps = new TapGuard();
  private readonly events = new EventClient({
    onEvent: (f, replayed) => this.onEvent(f, replayed),
    onResync: () => void this.reload(),
    onConnection: (up) => {
      this.s.connected = up;
      // Back in touch: the badge asks once; events keep it true from then on.
      if (up) void this.status.loadStatus().catch(() => undefined);
      this.render();
    },
  });
  /** Every event applied, for the tests' "nothing twice" check (types and seqs only). */
  readonly applied: Array<{ bootId: string | undefined; seq: number; type: string; replayed: boolean }> = [];
  private messageTimer: number | undefined;
  /** The new-order sound (WebAudio); `beeper.count` tells the tests how often it sounded. */
  readonly beeper = new Beeper();
  private readonly shift = new ShiftFlow(this);
  private readonly status = new TerminalStatus(this);
  private readonly recent = new RecentSales(this);
  private readonly refund = new RefundFlow(this, this.recent);
  private readonly payment = new PaymentFlow(this, this.status);
  private readonly orders = new OrderInbox(
    this,
    this.beeper,
    () => this.payment.begin(),
    (next) => this.shift.ensureOpen(next),
  );
  private readonly cart = new CartEditor(this, this.status, this.payment, this.shift);
  private readonly codes = new CodeEntry(this, this.cart);
  private readonly update = new UpdateFlow(this);
  private readonly actions: Actions = {
    app: this,
    cart: this.cart,
    payment: this.payment,
    recent: this.recent,
    refund: this.refund,
    shift: this.shift,
    orders: this.orders,
    codes: this.codes,
    update: this.update,
  };

  async boot(): Promise<void> {
    document.documentElement.lang = this.t.lang;
    document.addEventListener('keydown', (ev) => this.onKey(ev));
    await this.resumeSession();
  }

  /**
   * Who is signed in, asked until the daemon answers. Meanwhile (a kiosk up before the daemon, a
   * request that hangs) the PIN pad shows instead of a blank screen, and a cashier still signed in
   * gets the sale screen back once the answer comes.
   */
  private async resumeSession(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const session = await api<{ cashier: { id: string; name: string } | null }>(
          'GET',
          '/api/v1/session',
          undefined,
          { timeoutMs: SESSION_ASK_TIMEOUT_MS },
        );
        if (session.cashier && !this.s.cashier) {
          this.s.cashier = session.cashier;
          this.startSession();
        }
        break;
      } catch (err) {
        if (err instanceof ApiError && err.status !== 0) break; // answered: nobody signed in
        if (attempt === 0) this.render();
        await new Promise((resolve) => window.setTimeout(resolve, SESSION_RETRY_MS));
      }
    }
    this.render();
  }

  private startSession(): void {
    this.events.start();
    this.orders.startCountdown();
  }

  render(): void {
    this.taps.draw(() => {
      document.documentElement.lang = this.t.lang;
      replace(
        this.root,
        this.s.cashier ? mainView(this.s, this.t, this.actions) : signInView(this.s, this.t, this.actions),
      );
      document.body.dataset.ready = this.s.cashier ? (this.s.connected ? 'live' : 'connecting') : 'signin';
    });
  }

  say(message: string | undefined, code?: string): void {
    this.s.message = message;
    this.s.messageCode = code;
    window.clearTimeout(this.messageTimer);
    if (message) this.messageTimer = window.setTimeout(() => this.dismissMessage(), 8_000);
    this.render();
  }

  blockedTap(): void {
    this.say(this.t.t('finishSaleFirst'));
  }

  dismissMessage(): void {
    window.clearTimeout(this.messageTimer);
    this.s.message = undefined;
    this.s.messageCode = undefined;
    this.render();
  }

  /**
   * An error in the cashier's words (docs/ui.md, "Error messages"): never the daemon's English
   * message; the code is shown small, for support. `sentence` replaces the table's when the caller
   * knows better what happened (a void refused while a payment is being confirmed).
   */
  fail(err: unknown, sentence?: string): void {
    if (err instanceof ApiError && err.status === 401) {
      this.s.cashier = undefined;
      this.events.stop();
    }
    if (err instanceof ApiError) {
      const text = sentence ?? errorSentence(err.code, this.t.lang) ?? this.t.t('errorUnknown');
      this.say(text, err.code);
    } else this.say(sentence ?? (err instanceof Error ? err.message : this.t.t('errorUnknown')));
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
        this.update.load(),
      ]);
      this.s.catalog = catalog.items;
      if (this.s.sale) this.s.sale = await fetchSale(this.s.sale.saleId);
      await this.recent.reload();
      if (this.s.sale && this.s.screen === 'pay' && this.s.sale.status !== 'open') this.payment.settled();
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
        this.refund.onSaleUpdated(d);
        if (this.s.sale?.saleId === String(d.saleId)) void this.payment.refreshSale();
        break;
      }
      case 'payment.updated':
        if (this.s.sale?.saleId === d.saleId) void this.payment.onPayment(d);
        break;
      case 'scan':
        // A payment code is only taken live: a replayed one may be stale.
        if (!(replayed && d.kind === 'payment')) this.onScan(d);
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
      case 'status.updated':
        this.status.onStatus(d);
        break;
      case 'device.status':
        this.status.onDeviceStatus(d);
        break;
      case 'devices.updated':
        this.status.onDevicesUpdated();
        break;
      case 'update.changed':
        this.update.onChanged(d);
        break;
      default:
        break;
    }
  }

  /** A scan goes where its kind belongs: payment code, coupon, member card, or product. */
  private onScan(d: Record<string, unknown>): void {
    if (document.body.dataset.appOpen) return; // a store app in front takes the scans (apps-screen.ts)
    const code = String(d.code ?? '');
    if (d.kind === 'payment') void this.payment.onCodeScanned(code);
    else if (d.kind === 'coupon') void this.cart.onCouponScanned(code);
    else if (d.kind === 'member') void this.cart.onMemberScanned(code);
    else if (d.kind === 'order') this.orders.onOrderScanned(code);
    else this.cart.onItemScanned(code);
  }

  // --- actions ---------------------------------------------------------------------------------

  pinKey(key: string): void {
    this.s.pinError = undefined;
    if (key === 'C') this.s.pin = '';
    else if (key === '⌫') this.s.pin = this.s.pin.slice(0, -1);
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

  /**
   * A physical keyboard (or a scanner that types): digits, Backspace and Enter work the PIN pad and
   * the keypad of the screen shown, as its keys would. A text field being typed in keeps its keys.
   */
  private onKey(ev: KeyboardEvent): void {
    const target = ev.target as HTMLElement | null;
    if (
      ev.ctrlKey ||
      ev.altKey ||
      ev.metaKey ||
      target?.tagName === 'INPUT' ||
      target?.tagName === 'TEXTAREA'
    )
      return;
    const s = this.s;
    const key = ev.key;
    if (!s.cashier) {
      if (/^\d$/.test(key)) this.pinKey(key);
      else if (key === 'Backspace') this.pinKey('⌫');
      else if (key === 'Escape') this.pinKey('C');
      else if (key === 'Enter') void this.signIn();
      else return;
    } else {
      const pad = this.keypadTarget();
      if (!pad) return;
      if (/^[\d.]$/.test(key)) this.keypadKey(key);
      else if (key === 'Backspace') this.keypadKey('⌫');
      else if (key === 'Escape') this.keypadKey('C');
      else if (key === 'Enter') pad();
      else return;
    }
    ev.preventDefault();
  }

  /** What Enter does on the keypad shown now; undefined when no keypad is shown. */
  private keypadTarget(): (() => void) | undefined {
    const s = this.s;
    if (s.screen === 'sell' && s.leftTab === 'keypad') return () => this.cart.addCustom();
    if (s.screen === 'sell' && s.leftTab === 'codes') return () => void this.codes.submit();
    if (s.screen === 'pay' && !s.pending && s.tender === 'cash') return () => void this.payment.payCash();
    if (s.screen === 'pay' && !s.pending && s.tender === 'code') return () => void this.payment.payCode();
    return undefined;
  }

  keypadKey(key: string): void {
    if (this.s.screen === 'sell' && this.s.leftTab === 'codes') {
      this.codes.key(key);
      return;
    }
    const next = this.s.keypad + key;
    if (key === 'C') this.s.keypad = '';
    else if (key === '⌫') this.s.keypad = this.s.keypad.slice(0, -1);
    else if (this.s.screen === 'pay' && this.s.tender === 'code') {
      // A payment code typed by hand: digits only.
      if (/^\d{1,30}$/.test(next)) this.s.keypad = next;
    } else if (parseYuan(next) !== undefined) this.s.keypad = next;
    this.render();
  }

  closeAdmin(): void {
    this.s.keypad = '';
    this.s.closing = undefined;
    this.s.openThenCheckout = false;
    this.recent.closeRecent();
  }

  async answerDialog(yes: boolean): Promise<void> {
    const dialog = this.s.dialog;
    this.s.dialog = undefined;
    this.render();
    if (yes && dialog?.onYes) await dialog.onYes();
  }
}

blockContextMenu();
const app = new CashierApp();
(window as unknown as { posd: CashierApp }).posd = app;
void app.boot();
