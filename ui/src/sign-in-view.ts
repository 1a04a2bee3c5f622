import type { Actions } from './cashier-actions.js';
import type { CashierState } from './cashier-state.js';
import { button, h } from './dom.js';
import type { I18n } from './i18n.js';

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
        button(
          k === 'OK' ? 'key primary' : 'key',
          k === 'OK' ? 'pin-ok' : k === 'C' ? 'pin-clear' : `pin-key-${k}`,
          () => (k === 'OK' ? a.app.signIn() : a.app.pinKey(k)),
          k === 'OK' ? t.t('signIn') : k === 'C' ? t.t('clear') : k,
        ),
      ),
    ),
    button('link', 'lang-toggle', () => a.app.toggleLang(), t.t('lang')),
  );
}
