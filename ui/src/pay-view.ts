import type { Actions } from './cashier-actions.js';
import type { CashierState, Tender } from './cashier-state.js';
import { h } from './dom.js';
import type { I18n } from './i18n.js';
import { keypad } from './keypad-view.js';
import { formatMoney } from './money.js';

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
        h(
          'button',
          { class: 'chip', 'data-testid': 'quick-exact', onclick: () => a.payment.payCash(sale.due) },
          t.t('exact'),
        ),
        ...[5000, 10000].map((v) =>
          h(
            'button',
            { class: 'chip', 'data-testid': `quick-${v}`, onclick: () => a.payment.payCash(v) },
            formatMoney(v),
          ),
        ),
      ),
      keypad(
        (k) => a.app.keypadKey(k),
        h(
          'button',
          { class: 'key primary wide', 'data-testid': 'cash-confirm', onclick: () => a.payment.payCash() },
          t.t('confirmCash'),
        ),
      ),
    );
  } else if (s.tender === 'code') {
    body = h(
      'div',
      { class: 'amount-entry' },
      h(
        'div',
        { class: 'display', 'data-testid': 'code-display' },
        s.pending ? t.t('waitingPayment') : t.t('scanCode'),
      ),
      s.pending
        ? null
        : keypad(
            (k) => a.app.keypadKey(k),
            h(
              'button',
              {
                class: 'key primary wide',
                'data-testid': 'code-confirm',
                onclick: () => a.payment.payCode(),
              },
              'OK',
            ),
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
            h(
              'button',
              { class: 'big', 'data-testid': 'qr-cancel', onclick: () => a.payment.cancelQr() },
              t.t('back'),
            ),
          )
        : h(
            'div',
            { class: 'quick' },
            h(
              'button',
              { class: 'big', 'data-testid': 'qr-wechat', onclick: () => a.payment.payQr('wechat') },
              '微信 WeChat',
            ),
            h(
              'button',
              { class: 'big', 'data-testid': 'qr-alipay', onclick: () => a.payment.payQr('alipay') },
              '支付宝 Alipay',
            ),
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
        : h(
            'button',
            { class: 'big primary', 'data-testid': 'member-confirm', onclick: () => a.payment.payMember() },
            `${t.t('member')} ${formatMoney(sale.due)}`,
          ),
    );
  } else {
    body = h(
      'div',
      { class: 'amount-entry' },
      h(
        'button',
        { class: 'big primary', 'data-testid': 'card-confirm', onclick: () => a.payment.payCard() },
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
      h('div', {}, t.t('total'), h('span', { 'data-testid': 'sale-total' }, formatMoney(sale.total))),
      h('div', {}, t.t('paid'), h('span', { 'data-testid': 'sale-paid' }, formatMoney(sale.paid))),
      h(
        'div',
        { class: 'due' },
        t.t('due'),
        h('span', { 'data-testid': 'due-amount' }, formatMoney(sale.due)),
      ),
      h('div', { class: 'note', 'data-testid': 'tender-note' }, s.tenderNote ?? ''),
      h(
        'button',
        { class: 'big danger', 'data-testid': 'cancel-sale', onclick: () => a.payment.cancelSale() },
        t.t('cancelSale'),
      ),
    ),
    h(
      'div',
      { class: 'tender' },
      h(
        'div',
        { class: 'tabs' },
        ...(['cash', 'code', 'qr', 'card'] as const).map((x) => tenderButton(s, t, a, x)),
        s.member ? tenderButton(s, t, a, 'member') : null,
      ),
      body,
    ),
  );
}
