import type { Actions } from './cashier-actions.js';
import { type CashierState, hasPrinter } from './cashier-state.js';
import { button, h } from './dom.js';
import type { I18n } from './i18n.js';
import { formatMoney } from './money.js';

export function donePane(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const sale = s.sale!;
  return h(
    'section',
    { class: 'done', 'data-testid': 'done', 'data-sale-id': sale.saleId },
    h('h1', {}, t.t('completed')),
    h(
      'div',
      { class: 'figure' },
      t.t('total'),
      ' ',
      h('span', { 'data-testid': 'done-total' }, formatMoney(sale.total)),
    ),
    changeOrBalance(s, t),
    h('div', {}, t.t('receiptNo'), ' ', h('span', { 'data-testid': 'done-receipt' }, sale.receiptNo ?? '')),
    hasPrinter(s) ? printStatus(s, t, sale.saleId) : null,
    h(
      'div',
      { class: 'quick' },
      hasPrinter(s)
        ? button('big', 'reprint-receipt', () => a.recent.reprintSale(sale.saleId), t.t('reprintReceipt'))
        : null,
      button('big primary', 'next-sale', () => a.cart.nextSale(), t.t('newSale')),
    ),
  );
}

/** The receipt's print job as the daemon reports it (`print.job` events). */
function printStatus(s: CashierState, t: I18n, saleId: string): HTMLElement {
  const job = s.prints.get(saleId);
  const text =
    job?.status === 'printed'
      ? t.t('receiptPrinted')
      : job?.status === 'printing'
        ? t.t('receiptPrinting')
        : job
          ? t.t('receiptQueued')
          : '';
  return h(
    'div',
    { class: 'note', 'data-testid': 'receipt-print', 'data-status': job?.status ?? 'none' },
    text,
  );
}

/**
 * Cash paid: the change. Paid from a member's stored value: what is left on the card. Otherwise
 * (code, QR, card) there is no change to hand over, so none is shown.
 */
function changeOrBalance(s: CashierState, t: I18n): HTMLElement | null {
  const sale = s.sale!;
  const paid = sale.payments.filter((p) => p.status === 'succeeded');
  const methods = new Set(paid.map((p) => p.method));
  // Stored value is a code payment on the `member` channel.
  if (paid.some((p) => p.channel === 'member') && s.member?.balance !== undefined)
    return h(
      'div',
      { class: 'figure big-change' },
      t.t('memberBalance'),
      ' ',
      h('span', { 'data-testid': 'done-member-balance' }, formatMoney(s.member.balance)),
    );
  if (!methods.has('cash') && sale.change === 0) return null;
  return h(
    'div',
    { class: 'figure big-change' },
    t.t('change'),
    ' ',
    h('span', { 'data-testid': 'done-change' }, formatMoney(sale.change)),
  );
}
