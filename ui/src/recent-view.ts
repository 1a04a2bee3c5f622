import type { Actions } from './cashier-actions.js';
import { type CashierState, hasPrinter } from './cashier-state.js';
import { button, h } from './dom.js';
import type { I18n } from './i18n.js';
import { formatMoney } from './money.js';

function statusLabel(status: string, t: I18n): string {
  if (status === 'completed') return t.t('completed');
  if (status === 'voided') return t.t('voided');
  return status;
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

export function recentPane(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const rows = [...s.recent.values()].reverse();
  return h(
    'section',
    { class: 'recent' },
    h('h2', {}, t.t('recent')),
    receiptImagePane(s, t, a),
    rows.length === 0 ? h('div', { class: 'empty' }, t.t('noRecent')) : null,
    ...rows.map((r) =>
      h(
        'div',
        {
          class: 'recent-row',
          'data-testid': 'recent-row',
          'data-sale-id': r.saleId,
          'data-status': r.status,
        },
        h('span', {}, r.receiptNo ?? '—'),
        h('span', {}, formatMoney(r.total)),
        h(
          'span',
          {},
          statusLabel(r.status, t),
          r.refunded > 0 ? ` · ${t.t('refunded')} ${formatMoney(r.refunded)}` : '',
        ),
        r.status === 'completed'
          ? h(
              'span',
              { class: 'quick' },
              s.prints.has(r.saleId)
                ? button(
                    'chip',
                    `view-receipt-${r.saleId}`,
                    () => a.recent.viewReceipt(r.saleId),
                    t.t('viewReceipt'),
                  )
                : null,
              hasPrinter(s)
                ? button('chip', `reprint-${r.saleId}`, () => a.recent.reprintSale(r.saleId), t.t('reprint'))
                : null,
              r.refunded >= r.total
                ? null
                : button('chip', `refund-${r.saleId}`, () => a.refund.startRefund(r.saleId), t.t('refund')),
              r.refunded === 0
                ? button('chip', `void-${r.saleId}`, () => a.recent.voidSale(r.saleId), t.t('void'))
                : null,
            )
          : null,
      ),
    ),
    button('big', 'recent-close', () => a.recent.closeRecent(), t.t('back')),
  );
}
