import iconv from 'iconv-lite';
import { type DecoderEvent, junk, type ScanDecoder } from './decoder.js';
import {
  isModifierUsage,
  keypadDigit,
  MOD_ALT,
  MOD_CTRL,
  MOD_GUI,
  MOD_SHIFT,
  USAGE_ENTER,
  USAGE_ERROR_ROLL_OVER,
  USAGE_KEYPAD_ENTER,
  USAGE_TAB,
  usageToChar,
  usageToControl,
} from './hid-usage.js';

/** The key a scanner types after each code; `none`: a pause longer than the timeout ends it. */
export type WedgeSuffix = 'enter' | 'tab' | 'none';

export interface KeyboardWedgeOptions {
  suffix?: WedgeSuffix;
  /** A code is only the keys typed within this many ms of each other. */
  interKeyTimeoutMs?: number;
  /** Longer runs are junk (a stuck key, a keyboard rather than a scanner). */
  maxLength?: number;
}

export const BOOT_REPORT_SIZE = 8;
/** U+10FFFF is 1114111: a longer Alt code types no character (and must not grow without bound). */
const MAX_ALT_DIGITS = 7;

/**
 * Decodes USB HID boot-keyboard reports (byte 0 modifiers, byte 1 reserved, bytes 2–7 the usage
 * ids of the keys down) from a scanner in keyboard-wedge mode.
 *
 * - A key is pressed when its usage appears in a report and was not in the previous one (key
 *   rollover: a key held over several reports is one press).
 * - Alt held + keypad digits + Alt released types the character with that code (scanners use it for
 *   non-ASCII): below 128 the ASCII/control character; 128–255 Windows-1252 when the digits start
 *   with 0 (Alt+0196 = Ä), else code page 437 (Alt+142 = Ä); above 255 the Unicode code point.
 * - A run of keys ends with the suffix key, or (suffix `none`) with a pause longer than the
 *   inter-key timeout. A run touched by a malformed report, an unmapped key, a roll-over error or
 *   a pause (when a suffix is expected) is junk, never a code: the decoder only emits what a clean
 *   run of keystrokes typed.
 * - After a pause, keys held in the last report are forgotten: a lost release report must not eat
 *   the first character of the next scan.
 */
export class KeyboardWedgeDecoder implements ScanDecoder {
  private readonly suffix: WedgeSuffix;
  private readonly timeoutMs: number;
  private readonly maxLength: number;
  private held = new Set<number>();
  private altDown = false;
  private altDigits = '';
  private text = '';
  private taint: string | undefined;
  private runBytes = 0;
  private lastAt: number | undefined;

  constructor(options: KeyboardWedgeOptions = {}) {
    this.suffix = options.suffix ?? 'enter';
    this.timeoutMs = options.interKeyTimeoutMs ?? 100;
    this.maxLength = options.maxLength ?? 1024;
  }

  push(report: Uint8Array, atMs: number): DecoderEvent[] {
    const out: DecoderEvent[] = [];
    if (this.lastAt !== undefined && atMs - this.lastAt > this.timeoutMs) this.endByPause(out);
    this.lastAt = atMs;
    const problem = checkBootReport(report);
    if (problem) {
      out.push(junk(problem, report.length));
      this.taint ??= problem;
      return out;
    }
    const mod = report[0]!;
    const keys: number[] = [];
    for (let i = 2; i < BOOT_REPORT_SIZE; i++) {
      const u = report[i]!;
      if (u !== 0 && !isModifierUsage(u)) keys.push(u);
    }
    const altDown = (mod & MOD_ALT) !== 0;
    if (this.altDown && !altDown) this.finishAltCode();
    this.altDown = altDown;
    let ended = false;
    for (const key of keys) {
      if (this.held.has(key)) continue;
      if (ended) {
        // Keys after the suffix in the same report start the next run.
        ended = false;
      }
      if (this.press(key, mod, report.length, out)) ended = true;
    }
    this.held = new Set(keys);
    if (!ended) {
      if (this.pending()) this.runBytes += report.length;
      else this.runBytes = 0;
    }
    return out;
  }

  expire(atMs: number): DecoderEvent[] {
    const out: DecoderEvent[] = [];
    if (this.lastAt !== undefined && atMs - this.lastAt > this.timeoutMs && this.pending()) {
      this.endByPause(out);
    }
    return out;
  }

  deadline(): number | undefined {
    return this.lastAt !== undefined && this.pending() ? this.lastAt + this.timeoutMs + 1 : undefined;
  }

  reset(): DecoderEvent[] {
    const out: DecoderEvent[] = [];
    if (this.pending()) out.push(junk('device closed during a scan', this.runBytes));
    this.clearRun();
    this.held = new Set();
    this.altDown = false;
    this.lastAt = undefined;
    return out;
  }

  private pending(): boolean {
    return this.text !== '' || this.altDigits !== '' || this.taint !== undefined;
  }

  /** Returns true when the key ended the run (the suffix). */
  private press(key: number, mod: number, reportBytes: number, out: DecoderEvent[]): boolean {
    if (this.altDown) {
      const digit = keypadDigit(key);
      if (digit === undefined) this.taint ??= `Alt + key 0x${hex(key)}`;
      else if (this.altDigits.length >= MAX_ALT_DIGITS) this.taint ??= 'Alt code too long';
      else this.altDigits += digit;
      return false;
    }
    if (this.isSuffix(key) && (mod & (MOD_CTRL | MOD_GUI)) === 0) {
      this.endRun(reportBytes, out);
      return true;
    }
    if (mod & MOD_GUI) {
      this.taint ??= `GUI + key 0x${hex(key)}`;
      return false;
    }
    let c: string | undefined;
    if (mod & MOD_CTRL) c = usageToControl(key);
    else if (key === USAGE_ENTER || key === USAGE_KEYPAD_ENTER) c = '\r';
    else if (key === USAGE_TAB) c = '\t';
    else c = usageToChar(key, (mod & MOD_SHIFT) !== 0);
    if (c === undefined) this.taint ??= `key 0x${hex(key)} types no character`;
    else this.append(c);
    return false;
  }

  private isSuffix(key: number): boolean {
    if (this.suffix === 'enter') return key === USAGE_ENTER || key === USAGE_KEYPAD_ENTER;
    if (this.suffix === 'tab') return key === USAGE_TAB;
    return false;
  }

  private append(c: string): void {
    if (this.text.length >= this.maxLength) {
      this.taint ??= `longer than ${this.maxLength} characters`;
      return;
    }
    this.text += c;
  }

  private finishAltCode(): void {
    if (this.altDigits === '') return;
    const c = altCodeChar(this.altDigits);
    this.altDigits = '';
    if (c === undefined) this.taint ??= 'invalid Alt code';
    else this.append(c);
  }

  private endRun(reportBytes: number, out: DecoderEvent[]): void {
    const bytes = this.runBytes + reportBytes;
    if (this.altDigits !== '') this.taint ??= 'suffix typed during an Alt code';
    if (this.taint !== undefined) out.push(junk(`scan discarded: ${this.taint}`, bytes));
    else if (this.text === '') out.push(junk('suffix without a code', bytes));
    else out.push({ type: 'code', code: this.text });
    this.clearRun();
  }

  private endByPause(out: DecoderEvent[]): void {
    if (this.altDown) this.finishAltCode();
    if (this.suffix === 'none' && this.taint === undefined && this.text !== '' && this.altDigits === '') {
      out.push({ type: 'code', code: this.text });
    } else if (this.pending()) {
      const why = this.taint ?? `no ${this.suffix} within ${this.timeoutMs} ms`;
      out.push(junk(`incomplete scan: ${why}`, this.runBytes));
    }
    this.clearRun();
    this.held = new Set();
    this.altDown = false;
  }

  private clearRun(): void {
    this.text = '';
    this.altDigits = '';
    this.taint = undefined;
    this.runBytes = 0;
  }
}

/** Why a report is not a boot keyboard report, or undefined when it is one. */
export function checkBootReport(report: Uint8Array): string | undefined {
  if (report.length !== BOOT_REPORT_SIZE) {
    return `report of ${report.length} bytes (a boot keyboard report has ${BOOT_REPORT_SIZE})`;
  }
  let rollOver = 0;
  const seen = new Set<number>();
  for (let i = 2; i < BOOT_REPORT_SIZE; i++) {
    const u = report[i]!;
    if (u === 0) continue;
    if (u === USAGE_ERROR_ROLL_OVER) {
      rollOver++;
      continue;
    }
    if (u < 0x04 || (u > 0xdd && u < 0xe0) || u > 0xe7) return `invalid key usage 0x${hex(u)}`;
    if (seen.has(u)) return `key 0x${hex(u)} reported twice`;
    seen.add(u);
  }
  if (rollOver === 6) return 'key roll-over error (too many keys down)';
  if (rollOver > 0) return 'invalid key usage 0x01';
  return undefined;
}

/** The character typed by Alt + these keypad digits, or undefined when there is none. */
export function altCodeChar(digits: string): string | undefined {
  const n = Number.parseInt(digits, 10);
  if (!Number.isSafeInteger(n) || n <= 0 || n > 0x10ffff) return undefined;
  if (n < 128) return String.fromCharCode(n);
  if (n < 256) {
    const c = iconv.decode(Buffer.from([n]), digits.startsWith('0') ? 'win1252' : 'cp437');
    return c === '\ufffd' ? undefined : c;
  }
  if (n >= 0xd800 && n <= 0xdfff) return undefined;
  return String.fromCodePoint(n);
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
