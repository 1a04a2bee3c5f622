import { type CashierState, hasPrinter, type OrderView, type ShiftReport } from './cashier-state.js';
import { h } from './dom.js';
import type { I18n } from './i18n.js';
import { keypad } from './keypad-view.js';
import { formatMoney } from './money.js';

/** What the shift and order screens' buttons do. */
export interface AdminActions {
  keypadKey(key: string): void;
  openShift(): void;
  closeShift(): void;
  acceptOrder(orderId: string): void;
  rejectOrder(orderId: string): void;
  reprintOrder(orderId: string): void;
  printShift(): void;
  closeAdmin(): void;
}

function cashEntry(s: CashierState, a: AdminActions, label: string, confirm: HTMLElement): HTMLElement {
  return h(
    'div',
    { class: 'amount-entry' },
    h('div', { class: 'display', 'data-testid': 'admin-display' }, `${label} ¥${s.keypad || '0'}`),
    keypad((k) => a.keypadKey(k), confirm),
  );
}

function backButton(t: I18n, a: AdminActions): HTMLElement {
  return h(
    'button',
    { class: 'big', 'data-testid': 'admin-back', onclick: () => a.closeAdmin() },
    t.t('back'),
  );
}

/** The screen of a route the daemon does not have. */
function notAvailablePane(title: string, t: I18n, back: HTMLElement): HTMLElement {
  return h(
    'section',
    { class: 'recent' },
    h('h2', {}, title),
    h('div', { class: 'empty' }, t.t('notAvailable')),
    back,
  );
}

const CHANNELS = ['cash', 'card', 'wechat', 'alipay', 'unionpay', 'member'] as const;

/** A tender channel of the report (`cash`, `wechat`, …) in the cashier's language. */
function tenderName(channel: string, t: I18n): string {
  const known = CHANNELS.find((c) => c === channel);
  return known ? t.t(known) : channel;
}

function report(r: ShiftReport, t: I18n): HTMLElement {
  const rows: Array<[string, string]> = [
    [t.t('salesCount', { n: r.totals.sales.count }), formatMoney(r.totals.sales.amount)],
    [t.t('refundsCount', { n: r.totals.refunds.count }), formatMoney(r.totals.refunds.amount)],
    [t.t('voidsCount', { n: r.totals.voids.count }), formatMoney(r.totals.voids.amount)],
    ...Object.entries(r.totals.byTender).map(([k, v]): [string, string] => [
      tenderName(k, t),
      formatMoney(v),
    ]),
    [t.t('openingCash'), formatMoney(r.openingCash)],
    [t.t('expectedCash'), formatMoney(r.totals.expectedCash)],
  ];
  if (r.countedCash !== undefined) rows.push([t.t('countedCash'), formatMoney(r.countedCash)]);
  return h(
    'div',
    { class: 'report', 'data-testid': 'shift-report', 'data-kind': r.kind },
    h('h3', {}, r.kind === 'X' ? t.t('xReport') : t.t('zReport')),
    ...rows.map(([k, v]) => h('div', { class: 'row' }, h('span', {}, k), h('span', {}, v))),
    r.difference !== undefined
      ? h(
          'div',
          { class: 'row total' },
          h('span', {}, t.t('difference')),
          h('span', { 'data-testid': 'shift-difference' }, formatMoney(r.difference)),
        )
      : null,
    r.totals.pendingPayments > 0
      ? h('div', { class: 'note' }, t.t('pendingPayments', { n: r.totals.pendingPayments }))
      : null,
  );
}

export function shiftPane(s: CashierState, t: I18n, a: AdminActions): HTMLElement {
  const back = backButton(t, a);
  if (s.shiftAvailable === 'no') return notAvailablePane(t.t('shift'), t, back);
  const open = s.shift?.status === 'open';
  const entry = open
    ? cashEntry(
        s,
        a,
        t.t('countedCash'),
        h(
          'button',
          { class: 'key danger wide', 'data-testid': 'shift-close', onclick: () => a.closeShift() },
          t.t('closeShift'),
        ),
      )
    : cashEntry(
        s,
        a,
        t.t('openingCash'),
        h(
          'button',
          { class: 'key primary wide', 'data-testid': 'shift-open', onclick: () => a.openShift() },
          t.t('openShift'),
        ),
      );
  return h(
    'section',
    { class: 'pay' },
    h(
      'div',
      { class: 'pay-summary' },
      h('h2', {}, t.t('shift')),
      s.shift ? report(s.shift, t) : h('div', { class: 'empty' }, t.t('noShift')),
      h(
        'div',
        { class: 'quick' },
        s.shift && hasPrinter(s)
          ? h(
              'button',
              { class: 'big', 'data-testid': 'shift-print', onclick: () => a.printShift() },
              s.shift.kind === 'X' ? t.t('printX') : t.t('printZ'),
            )
          : null,
        back,
      ),
    ),
    h('div', { class: 'tender' }, entry),
  );
}

/** The platform's pickup code: a string, a number, or `{code}` / `{number}`. */
function pickupOf(p: unknown): string | undefined {
  if (typeof p === 'string' || typeof p === 'number') return String(p);
  if (p && typeof p === 'object') {
    const v = (p as Record<string, unknown>).code ?? (p as Record<string, unknown>).number;
    if (typeof v === 'string' || typeof v === 'number') return String(v);
  }
  return undefined;
}

function orderStatus(o: OrderView, t: I18n): string {
  const status =
    o.status === 'received' ? t.t('received') : o.status === 'accepted' ? t.t('accepted') : t.t('rejected');
  const printed = (o.printed ?? []).map((k) =>
    k === 'kitchen' ? t.t('kitchenTicket') : t.t('customerTicket'),
  );
  return printed.length > 0 ? `${status} · ${t.t('ticketsPrinted', { k: printed.join('、') })}` : status;
}

export function ordersPane(s: CashierState, t: I18n, a: AdminActions): HTMLElement {
  const back = backButton(t, a);
  if (s.ordersAvailable === 'no') return notAvailablePane(t.t('orders'), t, back);
  return h(
    'section',
    { class: 'recent' },
    h('h2', {}, t.t('orders')),
    s.orders.length === 0 ? h('div', { class: 'empty' }, t.t('noOrders')) : null,
    ...s.orders.map((o) =>
      h(
        'div',
        {
          class: 'order-row',
          'data-testid': 'order-row',
          'data-order-id': o.orderId,
          'data-status': o.status,
        },
        h('span', { 'data-testid': `order-status-${o.orderId}` }, `${o.order.source} · ${orderStatus(o, t)}`),
        h(
          'span',
          { class: 'order-lines' },
          o.order.lines.map((l) => `${l.name}×${l.qty}`).join('，'),
          o.order.note ? h('span', { class: 'order-note' }, ` · ${t.t('orderNote')}：${o.order.note}`) : null,
          pickupOf(o.order.pickup)
            ? h('span', {}, ` · ${t.t('pickupCode')} ${pickupOf(o.order.pickup)}`)
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
          o.status === 'received'
            ? h(
                'button',
                {
                  class: 'chip primary',
                  'data-testid': `accept-${o.orderId}`,
                  onclick: () => a.acceptOrder(o.orderId),
                },
                t.t('accept'),
              )
            : null,
          o.status === 'received'
            ? h(
                'button',
                {
                  class: 'chip danger',
                  'data-testid': `reject-${o.orderId}`,
                  onclick: () => a.rejectOrder(o.orderId),
                },
                `${t.t('reject')}（${t.t('soldOut')}）`,
              )
            : null,
          o.status === 'accepted'
            ? h(
                'button',
                {
                  class: 'chip',
                  'data-testid': `reprint-${o.orderId}`,
                  onclick: () => a.reprintOrder(o.orderId),
                },
                t.t('reprint'),
              )
            : null,
        ),
      ),
    ),
    back,
  );
}
