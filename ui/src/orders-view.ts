import { backButton, notAvailablePane } from './back-office-view.js';
import type { Actions } from './cashier-actions.js';
import type { CashierState, OrderView } from './cashier-state.js';
import { button, h } from './dom.js';
import type { I18n } from './i18n.js';
import { formatMoney } from './money.js';

/** The platform's pickup code: a string, a number, or `{code}` / `{number}`. */
function pickupOf(p: unknown): string | undefined {
  if (typeof p === 'string' || typeof p === 'number') return String(p);
  if (p && typeof p === 'object') {
    const v = (p as Record<string, unknown>).code ?? (p as Record<string, unknown>).number;
    if (typeof v === 'string' || typeof v === 'number') return String(v);
  }
  return undefined;
}

const PAY_STATE = {
  'to-pay': 'toPay',
  paying: 'orderPaying',
  paid: 'orderPaid',
  cancelled: 'orderCancelled',
} as const;

function orderStatus(o: OrderView, t: I18n): string {
  const status = o.payState
    ? t.t(PAY_STATE[o.payState])
    : o.status === 'received'
      ? t.t('received')
      : o.status === 'accepted'
        ? t.t('accepted')
        : t.t('rejected');
  const printed = (o.printed ?? []).map((k) =>
    k === 'kitchen' ? t.t('kitchenTicket') : t.t('customerTicket'),
  );
  return printed.length > 0 ? `${status} · ${t.t('ticketsPrinted', { k: t.list(printed) })}` : status;
}

/** Type a pickup code, Enter or the button: its order on the pay screen. */
function pickupField(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const hadFocus = document.activeElement?.getAttribute('data-testid') === 'pickup-code-input';
  const input = h('input', {
    type: 'text',
    'data-testid': 'pickup-code-input',
    placeholder: t.t('pickupCode'),
    autocomplete: 'off',
    maxlength: 32,
    value: s.pickupDraft ?? '',
    oninput: () => {
      s.pickupDraft = input.value;
    },
  });
  const go = () => {
    const code = input.value.trim();
    if (code) a.orders.payByPickupCode(code);
  };
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') go();
  });
  // A re-render (countdown, a new order) keeps the cashier typing.
  if (hadFocus) queueMicrotask(() => input.focus());
  return h(
    'div',
    { class: 'pickup-lookup' },
    input,
    button('chip primary', 'pickup-code-go', go, t.t('takePayment')),
  );
}

/** The delivery platforms by their names in the language shown; others as the cloud names them. */
const SOURCES: Record<string, { 'zh-CN': string; en: string }> = {
  meituan: { 'zh-CN': '美团', en: 'Meituan' },
  eleme: { 'zh-CN': '饿了么', en: 'Ele.me' },
  'mini-program': { 'zh-CN': '小程序', en: 'Mini program' },
  web: { 'zh-CN': '网店', en: 'Web shop' },
};

export function sourceName(source: string, t: I18n): string {
  return SOURCES[source]?.[t.lang] ?? source;
}

function secondsLeft(at: string): number {
  return Math.max(0, Math.ceil((Date.parse(at) - Date.now()) / 1000));
}

/** An order's buttons; 拒单 and 取消订单 ask once before they act. */
function orderActions(o: OrderView, s: CashierState, t: I18n, a: Actions): HTMLElement {
  const id = o.orderId;
  if (s.confirmOrder?.orderId === id) {
    const reject = s.confirmOrder.action === 'reject';
    return h(
      'div',
      { class: 'order-actions confirm', 'data-testid': `confirm-${id}` },
      h('span', { class: 'ask' }, reject ? t.t('rejectAsk') : t.t('cancelOrderAsk')),
      button(
        'chip danger',
        reject ? `reject-confirm-${id}` : `cancel-order-confirm-${id}`,
        () => (reject ? a.orders.rejectOrder(id) : a.orders.cancelOrder(id)),
        reject ? t.t('rejectSoldOut') : t.t('cancelOrder'),
      ),
      button('chip', `confirm-no-${id}`, () => a.orders.askOrder(undefined), t.t('keepOrder')),
    );
  }
  return h(
    'div',
    { class: 'order-actions' },
    o.payState === 'to-pay' || o.payState === 'paying'
      ? button('chip primary', `pay-order-${id}`, () => a.orders.payOrder(id), t.t('takePayment'))
      : null,
    o.payState === 'to-pay'
      ? button('chip danger', `cancel-order-${id}`, () => a.orders.askOrder(id, 'cancel'), t.t('cancelOrder'))
      : null,
    o.status === 'received' && !o.payState
      ? button('chip primary', `accept-${id}`, () => a.orders.acceptOrder(id), t.t('accept'))
      : null,
    o.status === 'received' && !o.payState
      ? button('chip danger', `reject-${id}`, () => a.orders.askOrder(id, 'reject'), t.t('reject'))
      : null,
    o.status === 'accepted'
      ? button('chip', `reprint-${id}`, () => a.orders.reprintOrder(id), t.t('reprint'))
      : null,
  );
}

/**
 * One order as a card: the platform, its state, the pickup code and the auto-accept countdown in
 * full (they never wrap away or get cut), the total; the items and the note below; the buttons right.
 */
function orderRow(o: OrderView, s: CashierState, t: I18n, a: Actions): HTMLElement {
  const pickup = pickupOf(o.order.pickupCode ?? o.order.pickup);
  return h(
    'div',
    {
      class: 'order-row',
      'data-testid': 'order-row',
      'data-order-id': o.orderId,
      'data-status': o.status,
      ...(o.payState ? { 'data-pay-state': o.payState } : {}),
    },
    h(
      'div',
      { class: 'order-info' },
      h(
        'span',
        { class: 'order-head', 'data-testid': `order-status-${o.orderId}` },
        h('b', { 'data-testid': `order-source-${o.orderId}` }, sourceName(o.order.source, t)),
        ` · ${orderStatus(o, t)}`,
      ),
      pickup
        ? h(
            'span',
            { class: 'pickup-code', 'data-testid': `pickup-${o.orderId}` },
            `${t.t('pickupCode')} ${pickup}`,
          )
        : null,
      o.status === 'received' && o.autoAcceptAt
        ? h(
            'span',
            { class: 'countdown', 'data-testid': 'auto-accept' },
            t.t('autoAcceptIn', { s: secondsLeft(o.autoAcceptAt) }),
          )
        : null,
      h('span', { class: 'order-total' }, formatMoney(o.order.total)),
      h(
        'span',
        { class: 'order-lines' },
        t.list(o.order.lines.map((l) => `${l.name}×${l.qty}`)),
        o.order.note
          ? h('span', { class: 'order-note' }, ` · ${t.t('orderNoteIs', { n: o.order.note })}`)
          : null,
      ),
    ),
    orderActions(o, s, t, a),
  );
}

export function ordersPane(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const back = backButton(t, a);
  if (s.ordersAvailable === 'no') return notAvailablePane(t.t('orders'), t, back);
  return h(
    'section',
    { class: 'recent orders' },
    // 返回 at the top: a long inbox never pushes it off screen.
    h('div', { class: 'pane-head' }, h('h2', {}, t.t('orders')), pickupField(s, t, a), back),
    s.orders.length === 0 ? h('div', { class: 'empty' }, t.t('noOrders')) : null,
    h('div', { class: 'order-list' }, ...s.orders.map((o) => orderRow(o, s, t, a))),
  );
}
