import type { Actions } from './cashier-actions.js';
import type { CashierState, Tender } from './cashier-state.js';
import { button, h } from './dom.js';
import type { I18n } from './i18n.js';
import { keypad } from './keypad-view.js';
import { formatMoney, quickAmounts } from './money.js';

function tenderButton(s: CashierState, t: I18n, a: Actions, tender: Tender): HTMLElement {
  const off = tender !== 'cash' && s.tenders[tender] === 'no';
  return h(
    'button',
    {
      class: `tab ${s.tender === tender ? 'on' : ''} ${off ? 'off' : ''}`,
      'data-testid': `tender-${tender}`,
      'data-available': off ? 'no' : 'yes',
      disabled: off,
      onclick: () => a.payment.chooseTender(tender),
    },
    t.t(tender),
    off ? h('small', {}, ` (${t.t('notAvailable')})`) : null,
  );
}

export function payPane(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const sale = s.sale!;
  let body: HTMLElement;
  if (s.tender === 'cash') {
    body = h(
      'div',
      { class: 'amount-entry' },
      h(
        'div',
        { class: 'display', 'data-testid': 'tendered-display' },
        `${t.t('tendered')} ¥${s.keypad || '0'}`,
      ),
      h(
        'div',
        { class: 'quick' },
        button('chip tall', 'quick-exact', () => a.payment.fillCash(sale.due), t.t('exact')),
        ...quickAmounts(sale.due).map((v) =>
          button('chip tall', `quick-${v}`, () => a.payment.fillCash(v), formatMoney(v)),
        ),
      ),
      keypad(
        (k) => a.app.keypadKey(k),
        button('key primary wide', 'cash-confirm', () => a.payment.payCash(), t.t('confirmCash')),
      ),
    );
  } else if (s.tender === 'code') {
    body = h(
      'div',
      { class: 'amount-entry' },
      h(
        'div',
        { class: 'display', 'data-testid': 'code-display' },
        // A typed code shows as typed (in groups of four), so the cashier can check it.
        s.pending
          ? t.t('waitingPayment')
          : s.keypad
            ? s.keypad.replace(/(\d{4})(?=\d)/g, '$1 ')
            : t.t('scanCode'),
      ),
      s.pending
        ? null
        : keypad(
            (k) => a.app.keypadKey(k),
            button('key primary wide', 'code-confirm', () => a.payment.payCode(), t.t('codeConfirm')),
          ),
    );
  } else if (s.tender === 'qr') {
    body = h(
      'div',
      { class: 'amount-entry' },
      s.pending
        ? h(
            'div',
            {},
            h('div', { class: 'display', 'data-testid': 'qr-display' }, t.t('showQr')),
            button('big', 'qr-cancel', () => a.payment.cancelQr(), t.t('back')),
          )
        : h(
            'div',
            { class: 'quick' },
            button('big', 'qr-wechat', () => a.payment.payQr('wechat'), t.t('wechat')),
            button('big', 'qr-alipay', () => a.payment.payQr('alipay'), t.t('alipay')),
          ),
    );
  } else if (s.tender === 'member' && s.member) {
    const m = s.member;
    body = h(
      'div',
      { class: 'amount-entry' },
      h(
        'div',
        { class: 'display', 'data-testid': 'member-display' },
        s.pending
          ? t.t('waitingPayment')
          : `${m.name} · ${t.t('balance')} ${m.balance === undefined ? '—' : formatMoney(m.balance)}`,
      ),
      s.pending
        ? null
        : button(
            'big primary',
            'member-confirm',
            () => a.payment.payMember(),
            `${t.t('member')} ${formatMoney(sale.due)}`,
          ),
    );
  } else {
    body = h(
      'div',
      { class: 'amount-entry' },
      button(
        'big primary',
        'card-confirm',
        () => a.payment.payCard(),
        `${t.t('card')} ${formatMoney(sale.due)}`,
      ),
    );
  }
  return h(
    'section',
    { class: 'pay', 'data-sale-id': sale.saleId },
    h(
      'div',
      { class: 'pay-summary' },
      sale.coupon
        ? h(
            'div',
            { class: 'coupon-line', 'data-testid': 'sale-coupon' },
            `${t.t('coupon')} ${sale.coupon.code}`,
            h('span', {}, `-${formatMoney(sale.orderDiscount)}`),
          )
        : null,
      // An online order's sale has no cart to go back to.
      s.cart.lines.length > 0
        ? button('chip tall', 'pay-back', () => a.payment.backToCart(), t.t('backToCart'))
        : null,
      h(
        'div',
        { class: 'pay-lines', 'data-testid': 'pay-lines' },
        ...sale.lines.map((l) =>
          h(
            'div',
            { class: 'pay-line' },
            h('span', { class: 'name' }, l.name),
            h('span', {}, `×${l.qty}`),
            h('span', { class: 'amount' }, formatMoney(l.net)),
          ),
        ),
      ),
      h('div', {}, t.t('total'), h('span', { 'data-testid': 'sale-total' }, formatMoney(sale.total))),
      h('div', {}, t.t('paid'), h('span', { 'data-testid': 'sale-paid' }, formatMoney(sale.paid))),
      h(
        'div',
        { class: 'due' },
        t.t('due'),
        h('span', { 'data-testid': 'due-amount' }, formatMoney(sale.due)),
      ),
      h('div', { class: 'note', 'data-testid': 'tender-note' }, s.tenderNote ?? ''),
      button('big danger', 'cancel-sale', () => a.payment.cancelSale(), t.t('cancelSale')),
    ),
    h(
      'div',
      { class: 'tender' },
      h(
        'div',
        { class: 'tabs' },
        ...(['cash', 'code', 'qr', 'card'] as const).map((x) => tenderButton(s, t, a, x)),
        // Stored value pays with the member's code (scanned or typed); a phone number is not enough.
        s.member?.code ? tenderButton(s, t, a, 'member') : null,
      ),
      body,
    ),
  );
}
