import type { Actions } from './cashier-actions.js';
import type { CashierState, CatalogItem } from './cashier-state.js';
import { codeEntryPane } from './code-entry-view.js';
import { button, h } from './dom.js';
import type { I18n } from './i18n.js';
import { keypad } from './keypad-view.js';
import { formatMoney } from './money.js';

function itemName(item: CatalogItem, t: I18n): string {
  return item.names?.[t.lang] ?? item.name;
}

function tab(s: CashierState, a: Actions, which: CashierState['leftTab'], label: string): HTMLElement {
  return button(s.leftTab === which ? 'tab on' : 'tab', `tab-${which}`, () => a.cart.showTab(which), label);
}

/** A custom item: its amount on the keypad and, if the cashier likes, its name. */
function amountEntry(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const hadFocus = document.activeElement?.getAttribute('data-testid') === 'custom-name';
  const name = h('input', {
    type: 'text',
    class: 'field',
    'data-testid': 'custom-name',
    placeholder: t.t('customNamePlaceholder'),
    autocomplete: 'off',
    maxlength: 40,
    value: s.customName,
    oninput: () => a.cart.nameCustom(name.value),
  });
  name.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') a.cart.addCustom();
  });
  if (hadFocus) queueMicrotask(() => name.focus());
  return h(
    'div',
    { class: 'amount-entry' },
    h('div', { class: 'display', 'data-testid': 'keypad-display' }, s.keypad ? `¥${s.keypad}` : '¥0'),
    name,
    keypad(
      (k) => a.app.keypadKey(k),
      button('key primary wide', 'key-add', () => a.cart.addCustom(), t.t('addAmount')),
    ),
  );
}

/** The item grid, the keypad for an amount of no item, or codes typed by hand (会员/券). */
export function entryPane(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const tabs = h(
    'div',
    { class: 'tabs' },
    tab(s, a, 'items', t.t('items')),
    tab(s, a, 'keypad', t.t('keypad')),
    tab(s, a, 'codes', t.t('codesTab')),
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
      : s.leftTab === 'keypad'
        ? amountEntry(s, t, a)
        : codeEntryPane(s, t, a);
  return h('section', { class: 'left' }, tabs, body);
}

const DISCOUNTS = [
  ['p10', 'discount10'],
  ['p20', 'discount20'],
  ['a500', 'discount5yuan'],
  ['none', 'noDiscount'],
] as const;

/** Which chip the cart's discount is (the one marked). */
function discountKind(s: CashierState): (typeof DISCOUNTS)[number][0] | undefined {
  const d = s.cart.discount;
  if (!d) return 'none';
  if ('amount' in d) return d.amount === 500 ? 'a500' : undefined;
  return d.percentBp === 1000 ? 'p10' : d.percentBp === 2000 ? 'p20' : undefined;
}

/** The discount chips (the chosen one marked) and 清空, which asks first when the cart has lines. */
function cartHead(s: CashierState, t: I18n, a: Actions): HTMLElement {
  if (s.confirmClear)
    return h(
      'div',
      { class: 'cart-head ask', 'data-testid': 'clear-ask' },
      h('span', {}, t.t('clearAsk', { n: s.cart.lines.length })),
      button('chip danger', 'clear-confirm', () => a.cart.clearCart(true), t.t('clearCart')),
      button('chip', 'clear-keep', () => a.cart.keepCart(), t.t('keepCart')),
    );
  const on = discountKind(s);
  return h(
    'div',
    { class: 'cart-head' },
    ...DISCOUNTS.map(([kind, label]) =>
      h(
        'button',
        {
          class: on === kind ? 'chip on' : 'chip',
          'data-testid': `discount-${kind}`,
          'aria-pressed': on === kind ? 'true' : 'false',
          onclick: () => a.cart.setDiscount(kind),
        },
        t.t(label),
      ),
    ),
    h('span', { class: 'gap' }),
    button('chip', 'clear-cart', () => a.cart.clearCart(), t.t('clearCart')),
  );
}

/** The coupon and member put on this cart, shown as lines of their own. */
function extras(s: CashierState, t: I18n): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (s.pendingCoupon)
    out.push(
      h(
        'div',
        { class: 'line extra', 'data-testid': 'cart-coupon' },
        h('span', { class: 'name' }, `${t.t('coupon')} ${s.pendingCoupon}`),
        h('span', { class: 'amount' }, t.t('couponAtCheckout')),
      ),
    );
  if (s.member)
    out.push(
      h(
        'div',
        { class: 'line extra', 'data-testid': 'cart-member' },
        h('span', { class: 'name' }, `${t.t('member')} ${s.member.name}`),
        h(
          'span',
          { class: 'amount' },
          s.member.balance === undefined ? '' : `${t.t('balance')} ${formatMoney(s.member.balance)}`,
        ),
      ),
    );
  return out;
}

export function cartPane(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const c = s.cart;
  const lines = h(
    'div',
    { class: 'lines', 'data-testid': 'cart-lines' },
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
    ...extras(s, t),
  );
  // The line just added or changed is the one the cashier looks for: keep it in view.
  const last = s.lastLine ?? c.lines.length - 1;
  queueMicrotask(() =>
    lines.querySelectorAll('[data-testid="cart-line"]')[last]?.scrollIntoView({ block: 'nearest' }),
  );
  return h(
    'section',
    { class: 'right' },
    cartHead(s, t, a),
    lines,
    h(
      'div',
      { class: 'cart-foot' },
      h(
        'div',
        { class: 'totals' },
        c.discountAmount > 0
          ? h(
              'div',
              { class: 'small' },
              `${t.t('discount')} `,
              h('span', {}, `-${formatMoney(c.discountAmount)}`),
            )
          : null,
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
    ),
  );
}
