import { button, h } from './dom.js';

const KEYS = ['7', '8', '9', '4', '5', '6', '1', '2', '3', '0', '.', 'C'];

/** The amount keypad (digits, point, clear) with the screen's own confirm key after them. */
export function keypad(onKey: (key: string) => void, confirm: HTMLElement): HTMLElement {
  return h(
    'div',
    { class: 'keypad' },
    ...KEYS.map((k) => button('key', `key-${k}`, () => onKey(k), k)),
    confirm,
  );
}
