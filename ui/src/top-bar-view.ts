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

/**
 * The sync badge: what the ledger has not handed to the cloud yet, from the daemon's events. With
 * the daemon out of reach nothing is known, and the badge says so instead of a stale 已同步.
 */
function syncBadge(s: CashierState, t: I18n): HTMLElement {
  const unsynced = s.ledger?.outboxDepth ?? 0;
  const offline = s.cloud !== 'online';
  const [level, text] = !s.connected
    ? (['bad', t.t('daemonDown')] as const)
    : ([
        offline || unsynced > 0 ? 'warn' : 'ok',
        `${offline ? `${t.t('offline')} · ` : ''}${unsynced > 0 ? t.t('unsynced', { n: unsynced }) : t.t('synced')}`,
      ] as const);
  return h('span', { class: `badge ${level}`, 'data-testid': 'offline-badge', 'data-level': level }, text);
}

/**
 * A screen-changing button of the bar. While a sale is being paid it cannot leave the pay screen:
 * it shows as blocked and a tap says why, instead of doing nothing.
 */
function barButton(
  s: CashierState,
  a: Actions,
  testId: string,
  go: () => void,
  ...label: Array<HTMLElement | string | null>
): HTMLElement {
  const blocked = s.screen === 'pay';
  return h(
    'button',
    {
      class: blocked ? 'bar-btn blocked' : 'bar-btn',
      'data-testid': testId,
      'data-blocked': blocked ? 'true' : undefined,
      onclick: () => (blocked ? a.app.blockedTap() : go()),
    },
    ...label,
  );
}

export function topBar(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const newOrders = s.orders.filter((o) => o.status === 'received').length;
  return h(
    'header',
    { class: 'topbar' },
    h('span', { class: 'title' }, t.t('appTitle')),
    h('span', { 'data-testid': 'cashier-name' }, s.cashier?.name ?? ''),
    deviceBar(s, t),
    syncBadge(s, t),
    s.connected ? null : h('span', { class: 'badge warn', 'data-testid': 'conn-state' }, t.t('reconnecting')),
    h('span', { class: 'spacer' }),
    barButton(
      s,
      a,
      'orders-button',
      () => a.orders.showOrders(),
      t.t('orders'),
      newOrders > 0 ? h('span', { class: 'count', 'data-testid': 'orders-count' }, newOrders) : null,
    ),
    barButton(s, a, 'shift-button', () => a.shift.showShift(), t.t('shift')),
    barButton(s, a, 'recent-button', () => a.recent.showRecent(), t.t('recent')),
    button('bar-btn', 'lang-toggle', () => a.app.toggleLang(), t.t('lang')),
    button('bar-btn', 'sign-out', () => a.app.signOut(), t.t('signOut')),
  );
}
