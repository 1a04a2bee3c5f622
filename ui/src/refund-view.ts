import type { Actions } from './cashier-actions.js';
import type { CashierState } from './cashier-state.js';
import { button, h } from './dom.js';
import type { I18n } from './i18n.js';
import { formatMoney } from './money.js';
import { refundAmount } from './refund-amounts.js';
import { REFUND_REASONS } from './refund-flow.js';

/** Lines with what they cost and what refunding them gives back, the total, a reason, then refund. */
export function refundPane(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const sale = s.refundSale!;
  let total = 0;
  const rows = sale.lines.map((l) => {
    const done = s.refundDone.get(l.lineNo) ?? { qty: 0, amount: 0 };
    const qty = s.refundQty.get(l.lineNo) ?? 0;
    const amount = refundAmount(l, done, qty);
    total += amount;
    return h(
      'div',
      { class: 'line refund-line' },
      h(
        'span',
        { class: 'name' },
        `${l.name} ×${l.qty} · ${formatMoney(l.net)}`,
        done.qty > 0 ? h('small', {}, ` (${t.t('refunded')} ${done.qty})`) : null,
      ),
      button('qty-btn', `refund-minus-${l.lineNo}`, () => a.refund.refundQty(l.lineNo, -1), '−'),
      h('span', { class: 'qty', 'data-testid': `refund-qty-${l.lineNo}` }, `${qty}/${l.qty - done.qty}`),
      button('qty-btn', `refund-plus-${l.lineNo}`, () => a.refund.refundQty(l.lineNo, 1), '+'),
      h('span', { class: 'amount', 'data-testid': `refund-amount-${l.lineNo}` }, formatMoney(amount)),
    );
  });
  return h(
    'section',
    { class: 'recent' },
    h(
      'div',
      { class: 'recent-head' },
      button('big', 'refund-back', () => a.recent.showRecent(), t.t('back')),
      h('h2', {}, `${t.t('refund')} ${sale.receiptNo ?? ''}`),
    ),
    h('div', { class: 'recent-list' }, ...rows),
    h(
      'div',
      { class: 'refund-reasons' },
      h('span', {}, t.t('refundReason')),
      ...REFUND_REASONS.map((key) =>
        button(
          `chip tall ${s.refundReason === t.t(key) ? 'on' : ''}`,
          `refund-reason-${key}`,
          () => a.refund.setReason(key),
          t.t(key),
        ),
      ),
    ),
    h(
      'div',
      { class: 'refund-foot' },
      h(
        'span',
        { class: 'total' },
        `${t.t('refundTotal')} `,
        h('span', { 'data-testid': 'refund-total' }, formatMoney(total)),
      ),
      h(
        'button',
        {
          class: 'big danger',
          'data-testid': 'refund-confirm',
          disabled: total === 0 || !s.refundReason,
          onclick: () => a.refund.confirmRefund(),
        },
        `${t.t('refund')} ${formatMoney(total)}`,
      ),
    ),
  );
}
