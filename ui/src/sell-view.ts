import type { Actions } from './cashier-actions.js';
import type { CashierState, CatalogItem } from './cashier-state.js';
import { button, h } from './dom.js';
import type { I18n } from './i18n.js';
import { keypad } from './keypad-view.js';
import { formatMoney } from './money.js';

function itemName(item: CatalogItem, t: I18n): string {
  return item.names?.[t.lang] ?? item.name;
}

/** The item grid, or the keypad for an amount of no item. */
export function entryPane(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const tabs = h(
    'div',
    { class: 'tabs' },
    button(
      s.leftTab === 'items' ? 'tab on' : 'tab',
      'tab-items',
      () => a.cart.showTab('items'),
      t.t('items'),
    ),
    button(
      s.leftTab === 'keypad' ? 'tab on' : 'tab',
      'tab-keypad',
      () => a.cart.showTab('keypad'),
      t.t('keypad'),
    ),
  );
  const body =
    s.leftTab === 'items'
      ? h(
          'div',
          { class: 'grid' },
          ...s.catalog.map((item) =>
            button(
              'item',
              `item-${item.sku}`,
              () => a.cart.addItem(item),
              h('span', { class: 'name' }, itemName(item, t)),
              h('span', { class: 'price' }, formatMoney(item.unitPrice)),
            ),
          ),
        )
      : h(
          'div',
          { class: 'amount-entry' },
          h('div', { class: 'display', 'data-testid': 'keypad-display' }, s.keypad ? `¥${s.keypad}` : '¥0'),
          keypad(
            (k) => a.app.keypadKey(k),
            button('key primary wide', 'key-add', () => a.cart.addCustom(), t.t('addAmount')),
          ),
        );
  return h('section', { class: 'left' }, tabs, body);
}

export function cartPane(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const c = s.cart;
  const discounts = [
    ['p10', 'discount10'],
    ['p20', 'discount20'],
    ['a500', 'discount5yuan'],
    ['none', 'noDiscount'],
  ] as const;
  return h(
    'section',
    { class: 'right' },
    h('h2', {}, t.t('cart')),
    h(
      'div',
      { class: 'lines' },
      c.lines.length === 0 ? h('div', { class: 'empty' }, t.t('emptyCart')) : null,
      ...c.lines.map((l, i) =>
        h(
          'div',
          { class: 'line', 'data-testid': 'cart-line' },
          h('span', { class: 'name' }, l.name),
          button('qty-btn', `line-minus-${i}`, () => a.cart.changeQty(i, -1), '−'),
          h('span', { class: 'qty' }, l.qty),
          button('qty-btn', `line-plus-${i}`, () => a.cart.changeQty(i, 1), '+'),
          h('span', { class: 'amount' }, formatMoney(l.qty * l.unitPrice)),
        ),
      ),
    ),
    h(
      'div',
      { class: 'discounts' },
      ...discounts.map(([kind, label]) =>
        button('chip', `discount-${kind}`, () => a.cart.setDiscount(kind), t.t(label)),
      ),
    ),
    h(
      'div',
      { class: 'totals' },
      c.discountAmount > 0
        ? h('div', {}, `${t.t('discount')} `, h('span', {}, `-${formatMoney(c.discountAmount)}`))
        : null,
      s.member ? h('div', {}, `${t.t('member')} `, h('span', {}, s.member.name)) : null,
      h(
        'div',
        { class: 'total' },
        `${t.t('total')} `,
        h('span', { 'data-testid': 'cart-total' }, formatMoney(c.total)),
      ),
    ),
    h(
      'button',
      {
        class: 'big primary',
        'data-testid': 'pay-button',
        disabled: c.lines.length === 0,
        onclick: () => a.cart.checkout(),
      },
      t.t('pay'),
    ),
  );
}
