import type { Actions } from './cashier-actions.js';
import type { CashierState } from './cashier-state.js';
import { button, h } from './dom.js';
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
        button('qty-btn', `refund-minus-${l.lineNo}`, () => a.refund.refundQty(l.lineNo, -1), '−'),
        h(
          'span',
          { class: 'qty', 'data-testid': `refund-qty-${l.lineNo}` },
          `${s.refundQty.get(l.lineNo) ?? 0}/${l.qty}`,
        ),
        button('qty-btn', `refund-plus-${l.lineNo}`, () => a.refund.refundQty(l.lineNo, 1), '+'),
      ),
    ),
    h(
      'div',
      { class: 'quick' },
      button('big danger', 'refund-confirm', () => a.refund.confirmRefund(), t.t('refund')),
      button('big', 'refund-back', () => a.recent.showRecent(), t.t('back')),
    ),
  );
}
