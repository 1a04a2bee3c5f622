import { backButton, notAvailablePane } from './back-office-view.js';
import type { Actions } from './cashier-actions.js';
import { type CashierState, hasPrinter, type ShiftReport } from './cashier-state.js';
import { button, h } from './dom.js';
import type { I18n } from './i18n.js';
import { keypad } from './keypad-view.js';
import { formatMoney } from './money.js';

function cashEntry(s: CashierState, a: Actions, label: string, confirm: HTMLElement): HTMLElement {
  return h(
    'div',
    { class: 'amount-entry' },
    h('div', { class: 'display', 'data-testid': 'admin-display' }, `${label} ¥${s.keypad || '0'}`),
    keypad((k) => a.app.keypadKey(k), confirm),
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

export function shiftPane(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const back = backButton(t, a);
  if (s.shiftAvailable === 'no') return notAvailablePane(t.t('shift'), t, back);
  const open = s.shift?.status === 'open';
  const entry = open
    ? cashEntry(
        s,
        a,
        t.t('countedCash'),
        button('key danger wide', 'shift-close', () => a.shift.closeShift(), t.t('closeShift')),
      )
    : cashEntry(
        s,
        a,
        t.t('openingCash'),
        button('key primary wide', 'shift-open', () => a.shift.openShift(), t.t('openShift')),
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
          ? button(
              'big',
              'shift-print',
              () => a.shift.printShift(),
              s.shift.kind === 'X' ? t.t('printX') : t.t('printZ'),
            )
          : null,
        back,
      ),
    ),
    h('div', { class: 'tender' }, entry),
  );
}
