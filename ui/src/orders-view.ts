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
  return printed.length > 0 ? `${status} · ${t.t('ticketsPrinted', { k: printed.join('、') })}` : status;
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

export function ordersPane(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const back = backButton(t, a);
  if (s.ordersAvailable === 'no') return notAvailablePane(t.t('orders'), t, back);
  return h(
    'section',
    { class: 'recent' },
    h('h2', {}, t.t('orders')),
    pickupField(s, t, a),
    s.orders.length === 0 ? h('div', { class: 'empty' }, t.t('noOrders')) : null,
    ...s.orders.map((o) =>
      h(
        'div',
        {
          class: 'order-row',
          'data-testid': 'order-row',
          'data-order-id': o.orderId,
          'data-status': o.status,
          ...(o.payState ? { 'data-pay-state': o.payState } : {}),
        },
        h('span', { 'data-testid': `order-status-${o.orderId}` }, `${o.order.source} · ${orderStatus(o, t)}`),
        h(
          'span',
          { class: 'order-lines' },
          o.order.lines.map((l) => `${l.name}×${l.qty}`).join('，'),
          o.order.note ? h('span', { class: 'order-note' }, ` · ${t.t('orderNote')}：${o.order.note}`) : null,
          pickupOf(o.order.pickupCode ?? o.order.pickup)
            ? h(
                'span',
                { 'data-testid': `pickup-${o.orderId}` },
                ` · ${t.t('pickupCode')} ${pickupOf(o.order.pickupCode ?? o.order.pickup)}`,
              )
            : null,
          o.status === 'received' && o.autoAcceptAt
            ? h(
                'span',
                { class: 'order-note', 'data-testid': 'auto-accept' },
                ` · ${t.t('autoAcceptIn', { s: Math.max(0, Math.ceil((Date.parse(o.autoAcceptAt) - Date.now()) / 1000)) })}`,
              )
            : null,
        ),
        h('span', {}, formatMoney(o.order.total)),
        h(
          'span',
          { class: 'quick' },
          o.payState === 'to-pay' || o.payState === 'paying'
            ? button(
                'chip primary',
                `pay-order-${o.orderId}`,
                () => a.orders.payOrder(o.orderId),
                t.t('takePayment'),
              )
            : null,
          o.payState === 'to-pay'
            ? button(
                'chip danger',
                `cancel-order-${o.orderId}`,
                () => a.orders.cancelOrder(o.orderId),
                t.t('cancelOrder'),
              )
            : null,
          o.status === 'received' && !o.payState
            ? button(
                'chip primary',
                `accept-${o.orderId}`,
                () => a.orders.acceptOrder(o.orderId),
                t.t('accept'),
              )
            : null,
          o.status === 'received' && !o.payState
            ? button(
                'chip danger',
                `reject-${o.orderId}`,
                () => a.orders.rejectOrder(o.orderId),
                `${t.t('reject')}（${t.t('soldOut')}）`,
              )
            : null,
          o.status === 'accepted'
            ? button('chip', `reprint-${o.orderId}`, () => a.orders.reprintOrder(o.orderId), t.t('reprint'))
            : null,
        ),
      ),
    ),
    back,
  );
}
