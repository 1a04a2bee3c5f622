import { ApiError, api } from './api.js';
import { byId, h, replace } from './dom.js';
import { EventClient, type Frame } from './event-client.js';
import { I18n } from './i18n.js';
import { blockContextMenu } from './kiosk-guard.js';
import { formatMoney } from './money.js';

interface Sale {
  saleId: string;
  status: string;
  total: number;
  paid: number;
  due: number;
  change: number;
  subtotal?: number;
  orderDiscount?: number;
  lineDiscountTotal?: number;
  /** `net`: the line after its share of every discount (what the customer pays for it). */
  lines?: Array<{ name: string; qty: number; net: number }>;
  payments?: Array<{ method: string; status: string }>;
}

type Screen =
  | { kind: 'idle' }
  | { kind: 'cart'; lines: Array<{ name: string; qty: number; amount: number }>; total: number }
  | { kind: 'due'; sale: Sale; qr?: { paymentId: string; ready: boolean; channel: string } }
  | { kind: 'thanks'; sale: Sale };

const THANKS_FOR_MS = 8_000;
/** An issued coupon stays up long enough for the customer to scan or photograph it. */
const COUPON_FOR_MS = 45_000;

interface IssuedCoupon {
  code: string;
  kind: string;
  value: number;
  minSpend?: number;
  validUntil: string;
}

/** The customer screen: amount due, payment QR, paid/change, thank-you, idle branding. Events only. */
class CustomerScreen {
  private readonly t = new I18n(window.localStorage);
  private readonly root = byId('app');
  private screen: Screen = { kind: 'idle' };
  private idleTimer: number | undefined;
  /** The business config's merchant name, greeted on the idle screen. */
  private merchant: string | undefined;
  private coupon: IssuedCoupon | undefined;
  private couponTimer: number | undefined;
  private readonly events = new EventClient({
    onEvent: (f) => void this.onEvent(f),
    onResync: () => this.show({ kind: 'idle' }),
    onConnection: (up) => {
      document.body.dataset.ready = up ? 'live' : 'connecting';
      if (up) void this.loadMerchant();
    },
  });

  start(): void {
    this.render();
    this.events.start();
  }

  private async loadMerchant(): Promise<void> {
    try {
      const st = await api<{ merchantName?: string }>('GET', '/api/v1/status');
      this.merchant = st.merchantName;
      this.render();
    } catch {
      // not signed in yet: the idle screen greets without a name
    }
  }

  private show(screen: Screen): void {
    window.clearTimeout(this.idleTimer);
    this.screen = screen;
    if (screen.kind === 'thanks')
      this.idleTimer = window.setTimeout(() => this.show({ kind: 'idle' }), THANKS_FOR_MS);
    this.render();
  }

  private async onEvent(f: Frame): Promise<void> {
    const d = f.data;
    try {
      if (f.type === 'cart.updated') {
        const lines = d.lines as Array<{ name: string; qty: number; amount: number }>;
        this.show(lines.length === 0 ? { kind: 'idle' } : { kind: 'cart', lines, total: Number(d.total) });
      } else if (f.type === 'sale.updated' && d.kind === 'sale') {
        const sale = await api<Sale>('GET', `/api/v1/sales/${encodeURIComponent(String(d.saleId))}`);
        if (sale.status === 'completed') this.show({ kind: 'thanks', sale });
        else if (sale.status === 'open') {
          const qr =
            this.screen.kind === 'due' && this.screen.sale.saleId === sale.saleId
              ? this.screen.qr
              : undefined;
          this.show({ kind: 'due', sale, ...(qr ? { qr } : {}) });
        } else this.show({ kind: 'idle' });
      } else if (f.type === 'config.applied') {
        await this.loadMerchant();
      } else if (f.type === 'coupon.issued') {
        window.clearTimeout(this.couponTimer);
        this.coupon = d as unknown as IssuedCoupon;
        this.couponTimer = window.setTimeout(() => {
          this.coupon = undefined;
          this.render();
        }, COUPON_FOR_MS);
        this.render();
      } else if (f.type === 'payment.updated' && d.method === 'qr' && this.screen.kind === 'due') {
        const open = d.status === 'pending';
        const { qr: _old, ...rest } = this.screen;
        this.show(
          open
            ? {
                ...rest,
                qr: { paymentId: String(d.paymentId), ready: Boolean(d.codeUrl), channel: String(d.channel) },
              }
            : rest,
        );
      }
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) this.show({ kind: 'idle' });
    }
  }

  private render(): void {
    const t = this.t;
    const s = this.screen;
    document.documentElement.lang = t.lang;
    let body: HTMLElement;
    if (s.kind === 'idle') {
      body = h(
        'div',
        { class: 'brand', 'data-testid': 'customer-idle' },
        h('div', { class: 'logo' }, '☕'),
        this.merchant ? h('h1', { 'data-testid': 'customer-merchant' }, this.merchant) : null,
        h(this.merchant ? 'div' : 'h1', { class: 'welcome' }, t.t('welcome')),
      );
    } else if (s.kind === 'cart') {
      body = h(
        'div',
        { class: 'cust-cart' },
        ...s.lines.map((l) =>
          h(
            'div',
            { class: 'line', 'data-testid': 'customer-line' },
            h('span', {}, `${l.name} × ${l.qty}`),
            h('span', { class: 'amount' }, formatMoney(l.amount)),
          ),
        ),
        h(
          'div',
          { class: 'total' },
          t.t('total'),
          ' ',
          h('span', { 'data-testid': 'customer-total' }, formatMoney(s.total)),
        ),
      );
    } else if (s.kind === 'due') {
      const discount = (s.sale.orderDiscount ?? 0) + (s.sale.lineDiscountTotal ?? 0);
      body = h(
        'div',
        { class: 'cust-due' },
        s.qr
          ? null
          : h(
              'div',
              { class: 'cust-cart' },
              ...(s.sale.lines ?? []).map((l) =>
                h(
                  'div',
                  { class: 'line', 'data-testid': 'customer-line' },
                  h('span', {}, `${l.name} × ${l.qty}`),
                  h('span', { class: 'amount' }, formatMoney(l.net)),
                ),
              ),
              discount > 0
                ? h(
                    'div',
                    { class: 'line saved', 'data-testid': 'customer-discount' },
                    h('span', {}, t.t('discount')),
                    h('span', {}, `-${formatMoney(discount)}`),
                  )
                : null,
            ),
        h('div', {}, t.t('amountDue')),
        h('div', { class: 'amount', 'data-testid': 'customer-due' }, formatMoney(s.sale.due)),
        s.qr
          ? h(
              'div',
              { class: 'qr', 'data-testid': 'customer-qr' },
              h('div', { 'data-testid': 'customer-qr-hint' }, scanHint(s.qr.channel, t)),
              s.qr.ready
                ? h('img', {
                    class: 'qr-img',
                    alt: 'QR',
                    'data-testid': 'customer-qr-img',
                    src: `/api/v1/payments/${encodeURIComponent(s.qr.paymentId)}/qr.svg`,
                  })
                : h('div', { class: 'qr-box' }, t.t('qrPending')),
            )
          : null,
      );
    } else {
      body = h(
        'div',
        { class: 'cust-thanks', 'data-testid': 'customer-thanks' },
        h('h1', {}, t.t('thankYou')),
        h(
          'div',
          {},
          t.t('paid'),
          ' ',
          h('span', { 'data-testid': 'customer-paid' }, formatMoney(s.sale.paid + s.sale.change)),
        ),
        // Change only when cash was handed over: a QR or code payment has none to show.
        s.sale.change > 0 ||
          (s.sale.payments ?? []).some((p) => p.method === 'cash' && p.status === 'succeeded')
          ? h(
              'div',
              {},
              t.t('change'),
              ' ',
              h('span', { 'data-testid': 'customer-change' }, formatMoney(s.sale.change)),
            )
          : null,
      );
    }
    const c = this.coupon;
    const coupon =
      c && (s.kind === 'thanks' || s.kind === 'idle')
        ? h(
            'div',
            { class: 'coupon', 'data-testid': 'customer-coupon', 'data-code': c.code },
            h(
              'div',
              {},
              c.kind === 'amount'
                ? t.t('couponGift', { min: formatMoney(c.minSpend ?? 0), value: formatMoney(c.value) })
                : c.code,
            ),
            h('img', {
              class: 'qr-img',
              alt: 'QR',
              'data-testid': 'customer-coupon-qr',
              src: `/api/v1/coupons/issued/${encodeURIComponent(c.code)}/qr.svg`,
            }),
            h('div', {}, t.t('couponValid', { date: c.validUntil.slice(0, 10) })),
          )
        : null;
    replace(this.root, h('div', { class: 'customer', 'data-screen': s.kind }, body, coupon));
  }
}

/** "请使用微信扫码支付": the channel by its name in the language shown. */
function scanHint(channel: string, t: I18n): string {
  const name = channel === 'wechat' || channel === 'alipay' || channel === 'unionpay' ? t.t(channel) : '';
  return name ? t.t('scanWith', { c: name }) : t.t('scanToPay');
}

blockContextMenu();
new CustomerScreen().start();
