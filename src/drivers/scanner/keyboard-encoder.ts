import iconv from 'iconv-lite';
import { MOD_SHIFT, USAGE_ENTER, USAGE_TAB, usageToChar } from './hid-usage.js';
import type { WedgeSuffix } from './keyboard-wedge.js';

const ALT = 0x04; // left Alt
const SHIFT = MOD_SHIFT & 0x0f; // left Shift
const KEYPAD_DIGIT = [0x62, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61];

/** Character → key of a US layout (the main block, not the keypad). */
const KEY_OF = new Map<string, { usage: number; shift: boolean }>();
for (const shift of [false, true]) {
  for (let u = 0x04; u <= 0x38; u++) {
    const c = usageToChar(u, shift);
    if (c !== undefined && !KEY_OF.has(c) && u !== 0x32) KEY_OF.set(c, { usage: u, shift });
  }
}

function report(mod: number, usage = 0): Uint8Array {
  return Uint8Array.of(mod, 0, usage, 0, 0, 0, 0, 0);
}

/** The digits to type with Alt held for a character no key types. */
function altDigits(c: string): string {
  const cp = c.codePointAt(0)!;
  if (cp < 128) return `0${cp}`;
  const b = iconv.encode(c, 'win1252');
  if (b.length === 1 && b[0]! >= 128 && iconv.decode(b, 'win1252') === c) return `0${b[0]}`;
  if (cp > 255) return String(cp);
  throw new Error(`no Alt code for U+${cp.toString(16)}`);
}

/**
 * The boot-keyboard reports a keyboard-wedge scanner sends for `text`: each key pressed and
 * released (two reports), Shift in the modifier byte of the press, characters no key types as
 * Alt + keypad digits, then the suffix. For simulators, tests and benchmarks.
 */
export function typeAsKeyboard(text: string, suffix: WedgeSuffix = 'enter'): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of text) {
    const key = KEY_OF.get(c);
    if (key) {
      out.push(report(key.shift ? SHIFT : 0, key.usage), report(0));
      continue;
    }
    out.push(report(ALT));
    for (const d of altDigits(c)) out.push(report(ALT, KEYPAD_DIGIT[Number(d)]), report(ALT));
    out.push(report(0));
  }
  if (suffix === 'enter') out.push(report(0, USAGE_ENTER), report(0));
  if (suffix === 'tab') out.push(report(0, USAGE_TAB), report(0));
  return out;
}
