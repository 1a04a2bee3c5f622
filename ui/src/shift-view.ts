import { backButton, notAvailablePane } from './back-office-view.js';
import type { Actions } from './cashier-actions.js';
import { type CashierState, hasPrinter, type ShiftReport } from './cashier-state.js';
import { button, h } from './dom.js';
import type { I18n } from './i18n.js';
import { keypad } from './keypad-view.js';
import { formatMoney } from './money.js';

/** The keypad's amount; nothing typed reads "请输入", never "¥0", so an untyped count is visible. */
function cashEntry(s: CashierState, t: I18n, a: Actions, label: string, confirm: HTMLElement): HTMLElement {
  return h(
    'div',
    { class: 'amount-entry' },
    h(
      'div',
      { class: 'display', 'data-testid': 'admin-display', 'data-typed': s.keypad === '' ? 'no' : 'yes' },
      `${label} ${s.keypad === '' ? t.t('notTyped') : `¥${s.keypad}`}`,
    ),
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

/** Before anything is recorded or printed: expected, counted, the difference, and a question. */
function closeConfirmPane(closing: { counted: number; expected: number }, t: I18n, a: Actions): HTMLElement {
  const difference = closing.counted - closing.expected;
  const row = (label: string, value: string, testId: string, cls = 'row') =>
    h('div', { class: cls }, h('span', {}, label), h('span', { 'data-testid': testId }, value));
  return h(
    'section',
    { class: 'recent close-confirm', 'data-testid': 'shift-close-confirm' },
    h('h2', {}, t.t('closeAsk')),
    h(
      'div',
      { class: 'report' },
      row(t.t('expectedCash'), formatMoney(closing.expected), 'close-expected'),
      row(t.t('countedCash'), formatMoney(closing.counted), 'close-counted'),
      row(t.t('difference'), formatMoney(difference), 'close-difference', 'row total'),
    ),
    h(
      'div',
      { class: `note ${difference === 0 ? '' : 'warn'}` },
      difference === 0
        ? t.t('closeBalanced')
        : t.t(difference < 0 ? 'closeShort' : 'closeOver', { a: formatMoney(Math.abs(difference)) }),
    ),
    closing.counted === 0
      ? h('div', { class: 'note warn', 'data-testid': 'close-zero' }, t.t('closeZero'))
      : null,
    h('div', { class: 'note' }, t.t('closeWhat')),
    h(
      'div',
      { class: 'quick' },
      button('big', 'shift-close-back', () => a.shift.cancelClose(), t.t('closeRecount')),
      button('big danger', 'shift-close-yes', () => a.shift.confirmClose(), t.t('closeYes')),
    ),
  );
}

export function shiftPane(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const back = backButton(t, a);
  if (s.shiftAvailable === 'no') return notAvailablePane(t.t('shift'), t, back);
  if (s.closing && s.shift?.status === 'open') return closeConfirmPane(s.closing, t, a);
  const open = s.shift?.status === 'open';
  const entry = open
    ? cashEntry(
        s,
        t,
        a,
        t.t('countedCash'),
        button('key danger wide', 'shift-close', () => a.shift.closeShift(), t.t('closeShift')),
      )
    : cashEntry(
        s,
        t,
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
      h('h2', {}, open || s.shift ? t.t('shift') : t.t('openShift')),
      s.openThenCheckout && !open
        ? h('div', { class: 'note warn', 'data-testid': 'float-needed' }, t.t('floatNeeded'))
        : null,
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
