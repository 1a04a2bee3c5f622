import type { Actions } from './cashier-actions.js';
import { button, h } from './dom.js';
import type { I18n } from './i18n.js';

export function backButton(t: I18n, a: Actions): HTMLElement {
  return button('big', 'admin-back', () => a.app.closeAdmin(), t.t('back'));
}

/** The screen of a route the daemon does not have. */
export function notAvailablePane(title: string, t: I18n, back: HTMLElement): HTMLElement {
  return h(
    'section',
    { class: 'recent' },
    h('h2', {}, title),
    h('div', { class: 'empty' }, t.t('notAvailable')),
    back,
  );
}
