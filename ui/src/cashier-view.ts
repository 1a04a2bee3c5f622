import { type AdminActions, ordersPane, shiftPane } from './cashier-admin-view.js';
import {
  type CashierState,
  type CatalogItem,
  type DeviceView,
  hasPrinter,
  type Tender,
} from './cashier-state.js';
import { h } from './dom.js';
import type { I18n } from './i18n.js';
import { keypad } from './keypad-view.js';
import { formatMoney } from './money.js';

/** What the buttons do; the controller implements it. */
export interface Actions extends AdminActions {
  pinKey(key: string): void;
  signIn(): void;
  signOut(): void;
  toggleLang(): void;
  showTab(tab: 'items' | 'keypad'): void;
  addItem(item: CatalogItem): void;
  keypadKey(key: string): void;
  addCustom(): void;
  changeQty(index: number, delta: number): void;
  setDiscount(kind: 'none' | 'p10' | 'p20' | 'a500'): void;
  checkout(): void;
  chooseTender(tender: Tender): void;
  payCash(amount?: number): void;
  payCode(): void;
  payQr(channel: 'wechat' | 'alipay'): void;
  cancelQr(): void;
  payCard(): void;
  payMember(): void;
  cancelSale(): void;
  nextSale(): void;
  showRecent(): void;
  showShift(): void;
  showOrders(): void;
  closeRecent(): void;
  startRefund(saleId: string): void;
  voidSale(saleId: string): void;
  refundQty(lineNo: number, delta: number): void;
  confirmRefund(): void;
  reprintSale(saleId: string): void;
  dismissMessage(): void;
}

type Level = 'ok' | 'warn' | 'bad';

/** A device's chip: its name when all is well, else what is wrong ("打印机缺纸", "扫码枪未连接"). */
function deviceChip(kind: 'printer' | 'scanner' | 'display', d: DeviceView, t: I18n): HTMLElement {
  const name = t.t(kind);
  let level: Level = 'ok';
  let label = name;
  if (d.paper === 'out') [level, label] = ['bad', t.t('devPaperOut', { d: name })];
  else if (d.cover === 'open') [level, label] = ['bad', t.t('devCoverOpen', { d: name })];
  else if (d.state === 'offline') [level, label] = ['bad', t.t('devOffline', { d: name })];
  else if (d.state === 'error') [level, label] = ['bad', t.t('devError', { d: name })];
  else if (d.paper === 'near-end') [level, label] = ['warn', t.t('devPaperLow', { d: name })];
  return h(
    'span',
    {
      class: `device ${level}`,
      'data-testid': `device-${kind}`,
      'data-state': d.state,
      'data-level': level,
      'data-paper': d.paper,
      'data-cover': d.cover,
    },
    label,
  );
}

/** Only the devices the terminal is configured with; hidden when it has none (or no route). */
function deviceBar(s: CashierState, t: I18n): HTMLElement | null {
  const chips = (['printer', 'scanner', 'display'] as const)
    .filter((k) => s.devices?.[k] && s.devices[k].state !== 'disabled')
    .map((k) => deviceChip(k, s.devices![k]!, t));
  return chips.length > 0 ? h('span', { class: 'devices', 'data-testid': 'device-bar' }, ...chips) : null;
}

/** New online orders waiting for the cashier: a banner on every screen but the inbox itself. */
function orderBanner(s: CashierState, t: I18n, a: Actions): HTMLElement | null {
  const waiting = s.orders.filter((o) => o.status === 'received').length;
  if (waiting === 0 || s.screen === 'orders') return null;
  return h(
    'div',
    { class: 'order-banner', 'data-testid': 'order-banner', role: 'alert' },
    h('span', {}, t.t('newOrders', { n: waiting })),
    s.screen === 'pay'
      ? null
      : h(
          'button',
          { class: 'chip primary', 'data-testid': 'order-banner-open', onclick: () => a.showOrders() },
          t.t('viewOrders'),
        ),
  );
}

export function signInView(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'C', '0', 'OK'];
  return h(
    'div',
    { class: 'signin', id: 'signin' },
    h('h1', {}, t.t('signInTitle')),
    h('div', { class: 'pin-dots', 'data-testid': 'pin-dots' }, '●'.repeat(s.pin.length) || '\u00a0'),
    h('div', { class: 'pin-error', 'data-testid': 'pin-error' }, s.pinError ?? ''),
    h(
      'div',
      { class: 'keypad pin-pad' },
      ...keys.map((k) =>
        h(
          'button',
          {
            class: k === 'OK' ? 'key primary' : 'key',
            'data-testid': k === 'OK' ? 'pin-ok' : k === 'C' ? 'pin-clear' : `pin-key-${k}`,
            onclick: () => (k === 'OK' ? a.signIn() : a.pinKey(k)),
          },
          k === 'OK' ? t.t('signIn') : k === 'C' ? t.t('clear') : k,
        ),
      ),
    ),
    h('button', { class: 'link', 'data-testid': 'lang-toggle', onclick: () => a.toggleLang() }, t.t('lang')),
  );
}

function topBar(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const unsynced = s.ledger?.outboxDepth ?? 0;
  const offline = s.cloud !== 'online';
  const newOrders = s.orders.filter((o) => o.status === 'received').length;
  return h(
    'header',
    { class: 'topbar' },
    h('span', { class: 'title' }, t.t('appTitle')),
    h('span', { 'data-testid': 'cashier-name' }, s.cashier?.name ?? ''),
    deviceBar(s, t),
    h(
      'span',
      { class: `badge ${offline || unsynced > 0 ? 'warn' : 'ok'}`, 'data-testid': 'offline-badge' },
      offline ? `${t.t('offline')} · ` : '',
      unsynced > 0 ? t.t('unsynced', { n: unsynced }) : t.t('synced'),
    ),
    s.connected ? null : h('span', { class: 'badge warn', 'data-testid': 'conn-state' }, t.t('reconnecting')),
    h('span', { class: 'spacer' }),
    h(
      'button',
      { class: 'bar-btn', 'data-testid': 'orders-button', onclick: () => a.showOrders() },
      t.t('orders'),
      newOrders > 0 ? h('span', { class: 'count', 'data-testid': 'orders-count' }, newOrders) : null,
    ),
    h(
      'button',
      { class: 'bar-btn', 'data-testid': 'shift-button', onclick: () => a.showShift() },
      t.t('shift'),
    ),
    h(
      'button',
      { class: 'bar-btn', 'data-testid': 'recent-button', onclick: () => a.showRecent() },
      t.t('recent'),
    ),
    h(
      'button',
      { class: 'bar-btn', 'data-testid': 'lang-toggle', onclick: () => a.toggleLang() },
      t.t('lang'),
    ),
    h('button', { class: 'bar-btn', 'data-testid': 'sign-out', onclick: () => a.signOut() }, t.t('signOut')),
  );
}

function itemName(item: CatalogItem, t: I18n): string {
  return item.names?.[t.lang] ?? item.name;
}

function leftPane(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const tabs = h(
    'div',
    { class: 'tabs' },
    h(
      'button',
      {
        class: s.leftTab === 'items' ? 'tab on' : 'tab',
        'data-testid': 'tab-items',
        onclick: () => a.showTab('items'),
      },
      t.t('items'),
    ),
    h(
      'button',
      {
        class: s.leftTab === 'keypad' ? 'tab on' : 'tab',
        'data-testid': 'tab-keypad',
        onclick: () => a.showTab('keypad'),
      },
      t.t('keypad'),
    ),
  );
  const body =
    s.leftTab === 'items'
      ? h(
          'div',
          { class: 'grid' },
          ...s.catalog.map((item) =>
            h(
              'button',
              { class: 'item', 'data-testid': `item-${item.sku}`, onclick: () => a.addItem(item) },
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
            (k) => a.keypadKey(k),
            h(
              'button',
              { class: 'key primary wide', 'data-testid': 'key-add', onclick: () => a.addCustom() },
              t.t('addAmount'),
            ),
          ),
        );
  return h('section', { class: 'left' }, tabs, body);
}

function cartPane(s: CashierState, t: I18n, a: Actions): HTMLElement {
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
          h(
            'button',
            { class: 'qty-btn', 'data-testid': `line-minus-${i}`, onclick: () => a.changeQty(i, -1) },
            '−',
          ),
          h('span', { class: 'qty' }, l.qty),
          h(
            'button',
            { class: 'qty-btn', 'data-testid': `line-plus-${i}`, onclick: () => a.changeQty(i, 1) },
            '+',
          ),
          h('span', { class: 'amount' }, formatMoney(l.qty * l.unitPrice)),
        ),
      ),
    ),
    h(
      'div',
      { class: 'discounts' },
      ...discounts.map(([kind, label]) =>
        h(
          'button',
          { class: 'chip', 'data-testid': `discount-${kind}`, onclick: () => a.setDiscount(kind) },
          t.t(label),
        ),
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
        onclick: () => a.checkout(),
      },
      t.t('pay'),
    ),
  );
}

function tenderButton(s: CashierState, t: I18n, a: Actions, tender: Tender): HTMLElement {
  const off = tender !== 'cash' && s.tenders[tender] === 'no';
  return h(
    'button',
    {
      class: `tab ${s.tender === tender ? 'on' : ''} ${off ? 'off' : ''}`,
      'data-testid': `tender-${tender}`,
      'data-available': off ? 'no' : 'yes',
      disabled: off,
      onclick: () => a.chooseTender(tender),
    },
    t.t(tender),
    off ? h('small', {}, ` (${t.t('notAvailable')})`) : null,
  );
}

function payPane(s: CashierState, t: I18n, a: Actions): HTMLElement {
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
          { class: 'chip', 'data-testid': 'quick-exact', onclick: () => a.payCash(sale.due) },
          t.t('exact'),
        ),
        ...[5000, 10000].map((v) =>
          h(
            'button',
            { class: 'chip', 'data-testid': `quick-${v}`, onclick: () => a.payCash(v) },
            formatMoney(v),
          ),
        ),
      ),
      keypad(
        (k) => a.keypadKey(k),
        h(
          'button',
          { class: 'key primary wide', 'data-testid': 'cash-confirm', onclick: () => a.payCash() },
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
            (k) => a.keypadKey(k),
            h(
              'button',
              { class: 'key primary wide', 'data-testid': 'code-confirm', onclick: () => a.payCode() },
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
              { class: 'big', 'data-testid': 'qr-cancel', onclick: () => a.cancelQr() },
              t.t('back'),
            ),
          )
        : h(
            'div',
            { class: 'quick' },
            h(
              'button',
              { class: 'big', 'data-testid': 'qr-wechat', onclick: () => a.payQr('wechat') },
              '微信 WeChat',
            ),
            h(
              'button',
              { class: 'big', 'data-testid': 'qr-alipay', onclick: () => a.payQr('alipay') },
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
            { class: 'big primary', 'data-testid': 'member-confirm', onclick: () => a.payMember() },
            `${t.t('member')} ${formatMoney(sale.due)}`,
          ),
    );
  } else {
    body = h(
      'div',
      { class: 'amount-entry' },
      h(
        'button',
        { class: 'big primary', 'data-testid': 'card-confirm', onclick: () => a.payCard() },
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
        { class: 'big danger', 'data-testid': 'cancel-sale', onclick: () => a.cancelSale() },
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

function donePane(s: CashierState, t: I18n, a: Actions): HTMLElement {
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
    h(
      'div',
      { class: 'figure big-change' },
      t.t('change'),
      ' ',
      h('span', { 'data-testid': 'done-change' }, formatMoney(sale.change)),
    ),
    h('div', {}, t.t('receiptNo'), ' ', h('span', { 'data-testid': 'done-receipt' }, sale.receiptNo ?? '')),
    hasPrinter(s) ? printStatus(s, t, sale.saleId) : null,
    h(
      'div',
      { class: 'quick' },
      hasPrinter(s)
        ? h(
            'button',
            { class: 'big', 'data-testid': 'reprint-receipt', onclick: () => a.reprintSale(sale.saleId) },
            t.t('reprintReceipt'),
          )
        : null,
      h(
        'button',
        { class: 'big primary', 'data-testid': 'next-sale', onclick: () => a.nextSale() },
        t.t('newSale'),
      ),
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

function statusLabel(status: string, t: I18n): string {
  if (status === 'completed') return t.t('completed');
  if (status === 'voided') return t.t('voided');
  return status;
}

function recentPane(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const rows = [...s.recent.values()].reverse();
  return h(
    'section',
    { class: 'recent' },
    h('h2', {}, t.t('recent')),
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
              hasPrinter(s)
                ? h(
                    'button',
                    {
                      class: 'chip',
                      'data-testid': `reprint-${r.saleId}`,
                      onclick: () => a.reprintSale(r.saleId),
                    },
                    t.t('reprint'),
                  )
                : null,
              r.refunded >= r.total
                ? null
                : h(
                    'button',
                    {
                      class: 'chip',
                      'data-testid': `refund-${r.saleId}`,
                      onclick: () => a.startRefund(r.saleId),
                    },
                    t.t('refund'),
                  ),
              r.refunded === 0
                ? h(
                    'button',
                    { class: 'chip', 'data-testid': `void-${r.saleId}`, onclick: () => a.voidSale(r.saleId) },
                    t.t('void'),
                  )
                : null,
            )
          : null,
      ),
    ),
    h('button', { class: 'big', 'data-testid': 'recent-close', onclick: () => a.closeRecent() }, t.t('back')),
  );
}

function refundPane(s: CashierState, t: I18n, a: Actions): HTMLElement {
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
            onclick: () => a.refundQty(l.lineNo, -1),
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
            onclick: () => a.refundQty(l.lineNo, 1),
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
        { class: 'big danger', 'data-testid': 'refund-confirm', onclick: () => a.confirmRefund() },
        t.t('refund'),
      ),
      h('button', { class: 'big', 'data-testid': 'refund-back', onclick: () => a.showRecent() }, t.t('back')),
    ),
  );
}

export function mainView(s: CashierState, t: I18n, a: Actions): HTMLElement {
  let content: HTMLElement[];
  switch (s.screen) {
    case 'pay':
      content = [payPane(s, t, a)];
      break;
    case 'done':
      content = [donePane(s, t, a)];
      break;
    case 'recent':
      content = [recentPane(s, t, a)];
      break;
    case 'refund':
      content = [refundPane(s, t, a)];
      break;
    case 'shift':
      content = [shiftPane(s, t, a)];
      break;
    case 'orders':
      content = [ordersPane(s, t, a)];
      break;
    default:
      content = [leftPane(s, t, a), cartPane(s, t, a)];
  }
  return h(
    'div',
    { class: 'cashier', 'data-screen': s.screen },
    topBar(s, t, a),
    orderBanner(s, t, a),
    h('main', {}, ...content),
    s.message
      ? h('div', { class: 'toast', 'data-testid': 'message', onclick: () => a.dismissMessage() }, s.message)
      : null,
  );
}
