import type { Actions } from './cashier-actions.js';
import { type CashierState, hasPrinter, type SaleView } from './cashier-state.js';
import { button, h } from './dom.js';
import type { I18n, StringKey } from './i18n.js';
import { formatMoney } from './money.js';
import { voidable } from './recent-sales.js';

const CHANNELS: readonly string[] = ['cash', 'card', 'wechat', 'alipay', 'unionpay', 'member'];

/** A payment channel (`cash`, `wechat`, …) in the cashier's language. */
export function channelName(channel: string, t: I18n): string {
  return CHANNELS.includes(channel) ? t.t(channel as StringKey) : channel;
}

/** "14:05" today, "12-03 14:05" another day: when the sale was made. */
function when(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return hm;
  return `${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')} ${hm}`;
}

function itemsSummary(sale: SaleView, t: I18n): string {
  return sale.lines.map((l) => (l.qty > 1 ? `${l.name}×${l.qty}` : l.name)).join(t.t('listSep'));
}

/** The money that stayed: "现金 ¥100.00 · 微信 ¥20.00" (cash as tendered, change shown apart). */
function tenders(sale: SaleView, t: I18n): string {
  return sale.payments
    .filter((p) => p.status === 'succeeded')
    .map((p) => `${channelName(p.channel, t)} ${formatMoney(p.amount - p.change)}`)
    .join(' · ');
}

function statusText(sale: SaleView, t: I18n): string {
  const refunded = sale.status === 'completed' ? sale.total - sale.refundable : 0;
  if (sale.status === 'voided') return t.t('voided');
  if (sale.status === 'open') return t.t('saleOpen');
  if (refunded >= sale.total && sale.total > 0) return `${t.t('refunded')} ${formatMoney(refunded)}`;
  if (refunded > 0) return `${t.t('completed')} · ${t.t('refunded')} ${formatMoney(refunded)}`;
  return t.t('completed');
}

/** The print job as the paper shows it: the local API draws it (the session cookie authorises it). */
function receiptImagePane(s: CashierState, t: I18n, a: Actions): HTMLElement | null {
  const shown = s.receiptImage;
  if (!shown) return null;
  return h(
    'figure',
    { class: 'receipt-image', 'data-testid': 'receipt-image-pane', 'data-sale-id': shown.saleId },
    h('figcaption', {}, t.t('receiptImage')),
    h('img', {
      'data-testid': 'receipt-image',
      alt: t.t('receiptImage'),
      src: `/api/v1/print-jobs/${encodeURIComponent(shown.jobId)}/image`,
    }),
    button('chip', 'receipt-image-close', () => a.recent.closeReceipt(), t.t('back')),
  );
}

/** Back, title and the receipt-number search: pinned at the top however long the list. */
function head(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const hadFocus = document.activeElement?.getAttribute('data-testid') === 'recent-search';
  const input = h('input', {
    type: 'search',
    inputmode: 'numeric',
    'data-testid': 'recent-search',
    placeholder: t.t('searchReceipt'),
    autocomplete: 'off',
    maxlength: 40,
    value: s.recentQuery,
    oninput: () => a.recent.setQuery(input.value),
  });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') a.recent.search();
  });
  if (hadFocus) queueMicrotask(() => input.focus());
  return h(
    'div',
    { class: 'recent-head' },
    button('big', 'recent-close', () => a.recent.closeRecent(), t.t('back')),
    h('h2', {}, t.t('recent')),
    input,
    button('chip tall primary', 'recent-search-go', () => a.recent.search(), t.t('search')),
    s.recentQuery || s.recentSearch
      ? button('chip tall', 'recent-search-clear', () => a.recent.clearSearch(), t.t('clear'))
      : null,
  );
}

function row(s: CashierState, t: I18n, a: Actions, r: SaleView): HTMLElement {
  const refunded = r.status === 'completed' ? r.total - r.refundable : 0;
  return h(
    'div',
    {
      class: 'recent-row',
      'data-testid': 'recent-row',
      'data-sale-id': r.saleId,
      'data-status': r.status,
      'data-receipt-no': r.receiptNo ?? '',
    },
    h(
      'div',
      { class: 'recent-who' },
      h('span', { class: 'time', 'data-testid': 'recent-time' }, when(r.completedAt ?? r.createdAt)),
      h('span', { class: 'receipt' }, r.receiptNo ?? '—'),
    ),
    h(
      'div',
      { class: 'recent-what' },
      h('span', { class: 'items', 'data-testid': 'recent-items' }, itemsSummary(r, t)),
      h('span', { class: 'tenders', 'data-testid': 'recent-tenders' }, tenders(r, t)),
    ),
    h(
      'div',
      { class: 'recent-money' },
      h('span', { class: 'amount' }, formatMoney(r.total)),
      h('span', { class: 'status', 'data-testid': 'recent-status' }, statusText(r, t)),
    ),
    h(
      'span',
      { class: 'quick' },
      r.status === 'completed' && s.prints.has(r.saleId)
        ? button(
            'chip tall',
            `view-receipt-${r.saleId}`,
            () => a.recent.viewReceipt(r.saleId),
            t.t('viewReceipt'),
          )
        : null,
      r.status === 'completed' && hasPrinter(s)
        ? button('chip tall', `reprint-${r.saleId}`, () => a.recent.reprintSale(r.saleId), t.t('reprint'))
        : null,
      r.status === 'completed' && refunded < r.total
        ? button('chip tall', `refund-${r.saleId}`, () => a.refund.startRefund(r.saleId), t.t('refund'))
        : null,
      r.status === 'completed' && voidable(r)
        ? button('chip tall danger', `void-${r.saleId}`, () => a.recent.voidSale(r.saleId), t.t('void'))
        : null,
    ),
  );
}

export function recentPane(s: CashierState, t: I18n, a: Actions): HTMLElement {
  return h(
    'section',
    { class: 'recent' },
    head(s, t, a),
    receiptImagePane(s, t, a),
    h(
      'div',
      { class: 'recent-list' },
      s.recent.length === 0
        ? h('div', { class: 'empty' }, s.recentSearch ? t.t('noMatch') : t.t('noRecent'))
        : null,
      ...s.recent.map((r) => row(s, t, a, r)),
      s.recentNext ? button('chip tall', 'recent-more', () => a.recent.more(), t.t('more')) : null,
    ),
  );
}
