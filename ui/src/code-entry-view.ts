import type { Actions } from './cashier-actions.js';
import type { CashierState } from './cashier-state.js';
import { button, h } from './dom.js';
import type { I18n } from './i18n.js';
import { keypad } from './keypad-view.js';

const KINDS = [
  ['coupon', 'couponCode'],
  ['member', 'memberCode'],
  ['phone', 'memberPhone'],
] as const;

/**
 * 会员/券: a coupon code, a member code or a member's mobile number typed by hand, beside the
 * scanner. The field takes the physical keyboard (letters too); the keypad types digits.
 */
export function codeEntryPane(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const hadFocus = document.activeElement?.getAttribute('data-testid') === 'code-input';
  const placeholder = KINDS.find(([k]) => k === s.codeKind)?.[1] ?? 'couponCode';
  const input = h('input', {
    type: 'text',
    class: 'field',
    'data-testid': 'code-input',
    placeholder: t.t(placeholder),
    autocomplete: 'off',
    inputmode: s.codeKind === 'phone' ? 'numeric' : 'text',
    maxlength: 64,
    value: s.codeDraft,
    oninput: () => a.codes.typed(input.value),
  });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') a.codes.submit();
  });
  if (hadFocus) queueMicrotask(() => input.focus());
  return h(
    'div',
    { class: 'amount-entry code-entry' },
    h(
      'div',
      { class: 'tabs' },
      ...KINDS.map(([kind, label]) =>
        h(
          'button',
          {
            class: s.codeKind === kind ? 'chip on' : 'chip',
            'data-testid': `code-kind-${kind}`,
            'aria-pressed': s.codeKind === kind ? 'true' : 'false',
            onclick: () => a.codes.setKind(kind),
          },
          t.t(label),
        ),
      ),
    ),
    input,
    keypad(
      (k) => a.codes.key(k),
      button('key primary wide', 'code-submit', () => a.codes.submit(), t.t('codeSubmit')),
    ),
  );
}
