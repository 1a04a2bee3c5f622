import type { Actions } from './cashier-actions.js';
import type { CashierState, DeviceView } from './cashier-state.js';
import { button, h } from './dom.js';
import type { I18n } from './i18n.js';

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
export function orderBanner(s: CashierState, t: I18n, a: Actions): HTMLElement | null {
  const waiting = s.orders.filter((o) => o.status === 'received').length;
  if (waiting === 0 || s.screen === 'orders') return null;
  return h(
    'div',
    { class: 'order-banner', 'data-testid': 'order-banner', role: 'alert' },
    h('span', {}, t.t('newOrders', { n: waiting })),
    s.screen === 'pay'
      ? null
      : button('chip primary', 'order-banner-open', () => a.orders.showOrders(), t.t('viewOrders')),
  );
}

export function topBar(s: CashierState, t: I18n, a: Actions): HTMLElement {
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
    button(
      'bar-btn',
      'orders-button',
      () => a.orders.showOrders(),
      t.t('orders'),
      newOrders > 0 ? h('span', { class: 'count', 'data-testid': 'orders-count' }, newOrders) : null,
    ),
    button('bar-btn', 'shift-button', () => a.shift.showShift(), t.t('shift')),
    button('bar-btn', 'recent-button', () => a.recent.showRecent(), t.t('recent')),
    button('bar-btn', 'lang-toggle', () => a.app.toggleLang(), t.t('lang')),
    button('bar-btn', 'sign-out', () => a.app.signOut(), t.t('signOut')),
  );
}
