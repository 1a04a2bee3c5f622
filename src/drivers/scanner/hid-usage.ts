/**
 * HID keyboard usage ids (HID Usage Tables, page 0x07) to characters as a US layout types them.
 * Scanners in keyboard-wedge mode emit usage ids for a US layout; decoding by usage id (not by
 * the host's keyboard layout) keeps payment codes exact.
 */

/** Unshifted and shifted characters of the printable keys. */
const KEYS: Record<number, readonly [string, string]> = {
  30: ['1', '!'],
  31: ['2', '@'],
  32: ['3', '#'],
  33: ['4', '$'],
  34: ['5', '%'],
  35: ['6', '^'],
  36: ['7', '&'],
  37: ['8', '*'],
  38: ['9', '('],
  39: ['0', ')'],
  44: [' ', ' '],
  45: ['-', '_'],
  46: ['=', '+'],
  47: ['[', '{'],
  48: [']', '}'],
  49: ['\\', '|'],
  50: ['#', '~'], // non-US # key, as a US layout maps it
  51: [';', ':'],
  52: ["'", '"'],
  53: ['`', '~'],
  54: [',', '<'],
  55: ['.', '>'],
  56: ['/', '?'],
  // Keypad: scanners use it for digits in some modes; NumLock state is the scanner's, not ours.
  84: ['/', '/'],
  85: ['*', '*'],
  86: ['-', '-'],
  87: ['+', '+'],
  89: ['1', '1'],
  90: ['2', '2'],
  91: ['3', '3'],
  92: ['4', '4'],
  93: ['5', '5'],
  94: ['6', '6'],
  95: ['7', '7'],
  96: ['8', '8'],
  97: ['9', '9'],
  98: ['0', '0'],
  99: ['.', '.'],
};

for (let u = 0x04; u <= 0x1d; u++) {
  const c = String.fromCharCode(0x61 + u - 0x04);
  KEYS[u] = [c, c.toUpperCase()];
}

export const USAGE_ENTER = 0x28;
export const USAGE_TAB = 0x2b;
export const USAGE_KEYPAD_ENTER = 0x58;
/** Reported in every key slot when more keys are down than the report can hold. */
export const USAGE_ERROR_ROLL_OVER = 0x01;
/** Highest usage id a keyboard reports in its key array (HID Usage Tables, Keyboard page). */
export const USAGE_MAX = 0xe7;

/** Modifier byte bits (boot keyboard report byte 0). */
export const MOD_CTRL = 0x01 | 0x10;
export const MOD_SHIFT = 0x02 | 0x20;
export const MOD_ALT = 0x04 | 0x40;
export const MOD_GUI = 0x08 | 0x80;

/** The character of a printable key, or undefined for keys that type nothing (F1, arrows…). */
export function usageToChar(usage: number, shift: boolean): string | undefined {
  const pair = KEYS[usage];
  return pair ? pair[shift ? 1 : 0] : undefined;
}

/** The digit of a keypad key (Alt + keypad digits types a character code), else undefined. */
export function keypadDigit(usage: number): string | undefined {
  if (usage === 0x62) return '0';
  if (usage >= 0x59 && usage <= 0x61) return String(usage - 0x58);
  return undefined;
}

/** Ctrl + key as a control character (Ctrl+] is GS, the GS1 separator some scanners type). */
export function usageToControl(usage: number): string | undefined {
  if (usage >= 0x04 && usage <= 0x1d) return String.fromCharCode(usage - 0x04 + 1);
  if (usage === 0x2f) return '\x1b';
  if (usage === 0x31) return '\x1c';
  if (usage === 0x30) return '\x1d';
  return undefined;
}

/** Modifier keys may also appear in the key array (0xE0–0xE7); the modifier byte carries them. */
export function isModifierUsage(usage: number): boolean {
  return usage >= 0xe0 && usage <= 0xe7;
}
