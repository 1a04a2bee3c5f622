import type { Actions } from './cashier-actions.js';
import type { CashierState } from './cashier-state.js';
import { h } from './dom.js';
import type { I18n } from './i18n.js';

export function refundPane(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const sale = s.refundSale!;
  return h(
    'section',
    { class: 'recent' },
    h('h2', {}, `${t.t('refund')} ${sale.receiptNo ?? ''}`),
    ...sale.lines.map((l) =>
      h(
        'div',
        { class: 'line' },
        h('span', { class: 'name' }, l.name),
        h(
          'button',
          {
            class: 'qty-btn',
            'data-testid': `refund-minus-${l.lineNo}`,
            onclick: () => a.refund.refundQty(l.lineNo, -1),
          },
          '−',
        ),
        h(
          'span',
          { class: 'qty', 'data-testid': `refund-qty-${l.lineNo}` },
          `${s.refundQty.get(l.lineNo) ?? 0}/${l.qty}`,
        ),
        h(
          'button',
          {
            class: 'qty-btn',
            'data-testid': `refund-plus-${l.lineNo}`,
            onclick: () => a.refund.refundQty(l.lineNo, 1),
          },
          '+',
        ),
      ),
    ),
    h(
      'div',
      { class: 'quick' },
      h(
        'button',
        { class: 'big danger', 'data-testid': 'refund-confirm', onclick: () => a.refund.confirmRefund() },
        t.t('refund'),
      ),
      h(
        'button',
        { class: 'big', 'data-testid': 'refund-back', onclick: () => a.recent.showRecent() },
        t.t('back'),
      ),
    ),
  );
}
