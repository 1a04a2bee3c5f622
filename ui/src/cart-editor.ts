import { ApiError, api, newIdempotencyKey } from './api.js';
import type { CartActions } from './cashier-actions.js';
import { type CashierContext, fetchSale } from './cashier-context.js';
import type { CatalogItem, SaleView } from './cashier-state.js';
import { formatMoney, parseYuan } from './money.js';
import { moneyTaken, type PaymentFlow } from './payment-flow.js';
import type { ShiftFlow } from './shift-flow.js';
import type { TerminalStatus } from './terminal-status.js';

/**
 * The cart before it is a sale: items, amounts, quantities, a discount, and the member and coupon
 * scanned for it. Each change goes to the customer screen; checkout turns the cart into a sale.
 */
export class CartEditor implements CartActions {
  constructor(
    private readonly c: CashierContext,
    private readonly status: TerminalStatus,
    private readonly payment: PaymentFlow,
    private readonly shift: ShiftFlow,
  ) {}

  showTab(tab: 'items' | 'keypad' | 'codes'): void {
    const s = this.c.s;
    s.leftTab = tab;
    s.keypad = '';
    this.c.render();
  }

  addItem(item: CatalogItem): void {
    const cart = this.c.s.cart;
    cart.add({
      sku: item.sku,
      name: item.names?.[this.c.t.lang] ?? item.name,
      unitPrice: item.unitPrice,
    });
    this.c.s.lastLine = cart.lines.findIndex((l) => l.sku === item.sku);
    this.changed();
  }

  addCustom(): void {
    const s = this.c.s;
    const amount = parseYuan(s.keypad);
    if (amount === undefined || amount <= 0) return;
    s.cart.add({ name: s.customName.trim() || this.c.t.t('customItem'), unitPrice: amount });
    s.lastLine = s.cart.lines.length - 1;
    s.keypad = '';
    s.customName = '';
    this.changed();
  }

  nameCustom(name: string): void {
    this.c.s.customName = name.slice(0, 40);
  }

  /** 清空: an empty cart at once; one with lines asks first, and the second tap empties it. */
  clearCart(confirm = false): void {
    const s = this.c.s;
    if (s.cart.lines.length > 0 && !confirm) {
      s.confirmClear = true;
      this.c.render();
      return;
    }
    s.confirmClear = false;
    s.lastLine = undefined;
    s.cart.clear();
    s.member = undefined;
    s.pendingCoupon = undefined;
    this.changed();
  }

  changeQty(index: number, delta: number): void {
    this.c.s.cart.changeQty(index, delta);
    this.c.s.lastLine = Math.min(index, this.c.s.cart.lines.length - 1);
    this.changed();
  }

  keepCart(): void {
    this.c.s.confirmClear = false;
    this.c.render();
  }

  setDiscount(kind: 'none' | 'p10' | 'p20' | 'a500'): void {
    this.c.s.cart.discount =
      kind === 'p10'
        ? { percentBp: 1000 }
        : kind === 'p20'
          ? { percentBp: 2000 }
          : kind === 'a500'
            ? { amount: 500 }
            : undefined;
    this.changed();
  }

  /** A product's code from the scanner: into the cart on the sell screen. */
  onItemScanned(code: string): void {
    const s = this.c.s;
    const item = s.catalog.find((i) => i.sku === code || i.barcodes?.includes(code));
    if (item && s.screen === 'sell') this.addItem(item);
    else if (!item) this.c.say(this.c.t.t('unknownItem', { c: code }));
  }

  /** A coupon from the scanner: on the open sale, or kept for the checkout. */
  async onCouponScanned(code: string): Promise<void> {
    const s = this.c.s;
    if (s.sale?.status === 'open') await this.applyCoupon(code);
    else {
      s.pendingCoupon = code;
      this.c.say(this.c.t.t('couponNoted'));
    }
    this.c.render();
  }

  /** A member card from the scanner: looked up, then put on the sale at checkout. */
  async onMemberScanned(code: string): Promise<void> {
    try {
      const found = await api<{ memberId: string; name: string; balance?: number }>(
        'POST',
        '/api/v1/members/lookup',
        { code },
      );
      this.c.s.member = { ...found, code };
      this.c.say(this.c.t.t('memberFound', { n: found.name, b: formatMoney(found.balance ?? 0) }));
    } catch (err) {
      const notFound = err instanceof ApiError && err.code === 'NOT_FOUND';
      this.c.fail(err, notFound ? this.c.t.t('memberNotFound') : undefined);
    }
    this.c.render();
  }

  /** The cart becomes a sale (one key per cart, so a retry never makes two), then the pay screen. */
  async checkout(): Promise<void> {
    const s = this.c.s;
    if (s.cart.lines.length === 0) return;
    try {
      // The first sale of a shift waits for its float (备用金) to be counted and typed.
      if (!(await this.shift.ensureOpen(() => void this.checkout()))) return;
    } catch (err) {
      this.c.fail(err);
      return;
    }
    // Back from the pay screen with nothing paid: the same open sale takes the changed cart.
    const reopened = s.sale?.status === 'open' && !moneyTaken(s.sale) ? s.sale : undefined;
    if (reopened) return this.repriceOpenSale(reopened.saleId);
    s.checkoutKey ??= newIdempotencyKey();
    try {
      const created = await api<{ saleId: string }>('POST', '/api/v1/sales', s.cart.toSale(), {
        idempotencyKey: s.checkoutKey,
      });
      if (s.member) {
        await api('POST', `/api/v1/sales/${created.saleId}/member`, {
          memberId: s.member.memberId,
        }).catch((e) => this.c.fail(e));
      }
      if (s.pendingCoupon) await this.applyCoupon(s.pendingCoupon, created.saleId);
      s.sale = await fetchSale(created.saleId);
      await this.status.loadStatus(); // the tenders on offer follow the cloud link as it is now
      this.payment.begin();
    } catch (err) {
      this.c.fail(err);
      return;
    }
    this.c.render();
  }

  private async repriceOpenSale(saleId: string): Promise<void> {
    const s = this.c.s;
    try {
      s.sale = await api<SaleView>(
        'PUT',
        `/api/v1/sales/${encodeURIComponent(saleId)}/lines`,
        s.cart.toSale(),
      );
      this.payment.begin();
    } catch (err) {
      this.c.fail(err);
      return;
    }
    this.c.render();
  }

  /** The done screen's "new sale": an empty cart, no member, the sell screen. */
  nextSale(): void {
    const s = this.c.s;
    s.sale = undefined;
    s.pending = undefined;
    s.tenderNote = undefined;
    s.member = undefined;
    s.screen = 'sell';
    s.lastLine = undefined;
    s.cart.clear();
    this.changed();
  }

  /** A new cart needs a new checkout key; the customer screen shows the cart as it is now. */
  private changed(): void {
    const s = this.c.s;
    s.checkoutKey = undefined;
    s.confirmClear = false;
    s.message = undefined;
    this.c.render();
    const cart = s.cart;
    // What the customer pays per line: after the discount, so the lines add up to the total shown.
    const net = cart.netAmounts();
    const lines = cart.lines.map((l, i) => ({ name: l.name, qty: l.qty, amount: net[i]! }));
    void api('PUT', '/api/v1/cart', { lines, total: cart.total }).catch(() => {});
  }

  private async applyCoupon(code: string, saleId = this.c.s.sale?.saleId): Promise<void> {
    const s = this.c.s;
    s.pendingCoupon = undefined;
    if (!saleId) return;
    try {
      await api('POST', `/api/v1/sales/${saleId}/coupon`, { code });
      s.message = this.c.t.t('couponApplied');
      if (s.sale?.saleId === saleId) s.sale = await fetchSale(saleId);
    } catch (err) {
      this.c.fail(err);
    }
  }
}
