import { decodeGb18030 } from './gb18030.js';

/** One ESC/POS command as the printer would act on it. */
export type EscPosCommand =
  | { op: 'init' }
  | { op: 'text'; text: string; bytes: Uint8Array }
  | { op: 'lf' }
  | { op: 'cr' }
  | { op: 'align'; align: 'left' | 'center' | 'right' }
  | { op: 'bold'; on: boolean }
  | { op: 'size'; width: number; height: number }
  | { op: 'print-mode'; n: number }
  | { op: 'chinese'; on: boolean }
  | { op: 'feed'; lines: number }
  | { op: 'cut'; partial: boolean; feed: number }
  | { op: 'drawer'; pin: number; onMs: number; offMs: number }
  | { op: 'qr-model'; model: number }
  | { op: 'qr-size'; size: number }
  | { op: 'qr-ec'; level: 'L' | 'M' | 'Q' | 'H' }
  | { op: 'qr-store'; data: Uint8Array; declaredLength: number }
  | { op: 'qr-print' }
  | { op: 'raster'; widthBytes: number; height: number; mode: number; data: Uint8Array }
  | { op: 'barcode'; system: number; data: string }
  | { op: 'barcode-setting'; what: 'hri' | 'height' | 'width'; n: number }
  | { op: 'status-query'; n: number }
  | { op: 'asb'; mask: number }
  | { op: 'transmit-status'; n: number }
  | { op: 'clear-buffers' }
  | { op: 'other'; bytes: Uint8Array }
  | { op: 'junk'; bytes: Uint8Array };

const ESC = 0x1b;
const GS = 0x1d;
const FS = 0x1c;
const DLE = 0x10;
const EC_LEVELS = ['L', 'M', 'Q', 'H'] as const;
/** The longest partial command kept waiting for its rest (a full-width raster logo is far smaller). */
const MAX_PENDING = 1024 * 1024;
/** ESC commands with one parameter byte that we recognise but do not model. */
const ESC_ONE_PARAM = new Set([0x21, 0x2d, 0x33, 0x4a, 0x4d, 0x52, 0x74, 0x47, 0x56, 0x7b, 0x20, 0x63]);
const GS_ONE_PARAM = new Set([0x42, 0x66, 0x62]);

/** `null`: the command is not complete yet; otherwise the command and its length. */
type Step = { cmd: EscPosCommand; len: number } | null;

/**
 * A streaming ESC/POS decoder: feed it bytes in any chunks, it returns the commands completed so
 * far and keeps a partial command for the next chunk. Bytes it cannot make sense of come out as
 * `junk` (counted, never silently dropped). Text is GB18030 while Chinese mode is on, else ASCII.
 */
export class EscPosDecoder {
  private pending = new Uint8Array(0);
  private chinese = false;
  junkBytes = 0;

  push(chunk: Uint8Array): EscPosCommand[] {
    const buf = this.pending.length ? concat(this.pending, chunk) : chunk;
    const out: EscPosCommand[] = [];
    let i = 0;
    while (i < buf.length) {
      const step = this.step(buf, i);
      if (!step) break;
      if (step.cmd.op === 'junk') this.junkBytes += step.len;
      if (step.cmd.op === 'init') this.chinese = false;
      if (step.cmd.op === 'chinese') this.chinese = step.cmd.on;
      out.push(step.cmd);
      i += step.len;
    }
    this.pending = buf.slice(i);
    if (this.pending.length > MAX_PENDING) {
      // A command announcing more than any receipt needs (or never ending): junk, not held for ever.
      out.push({ op: 'junk', bytes: this.pending.subarray(0, 64) });
      this.junkBytes += this.pending.length;
      this.pending = new Uint8Array(0);
    }
    return out;
  }

  /** Bytes held back waiting for the rest of a command. */
  get pendingBytes(): number {
    return this.pending.length;
  }

  private step(b: Uint8Array, i: number): Step {
    const c = b[i]!;
    const need = (n: number) => i + n <= b.length;
    const at = (k: number) => b[i + k]!;
    switch (c) {
      case 0x0a:
        return { cmd: { op: 'lf' }, len: 1 };
      case 0x0d:
        return { cmd: { op: 'cr' }, len: 1 };
      case ESC:
        return this.esc(b, i, need, at);
      case GS:
        return this.gs(b, i, need, at);
      case FS:
        if (!need(2)) return null;
        if (at(1) === 0x26) return { cmd: { op: 'chinese', on: true }, len: 2 };
        if (at(1) === 0x2e) return { cmd: { op: 'chinese', on: false }, len: 2 };
        if (at(1) === 0x21)
          return need(3) ? { cmd: { op: 'other', bytes: b.slice(i, i + 3) }, len: 3 } : null;
        return { cmd: { op: 'junk', bytes: b.slice(i, i + 1) }, len: 1 };
      case DLE:
        if (!need(3)) return null;
        if (at(1) === 0x04) return { cmd: { op: 'status-query', n: at(2) }, len: 3 };
        if (at(1) === 0x05) return { cmd: { op: 'other', bytes: b.slice(i, i + 3) }, len: 3 };
        if (at(1) === 0x14) {
          // DLE DC4 fn: fn 8 (clear buffers) has 7 parameter bytes, the others 2.
          if (at(2) === 0x08) return need(10) ? { cmd: { op: 'clear-buffers' }, len: 10 } : null;
          return need(5) ? { cmd: { op: 'other', bytes: b.slice(i, i + 5) }, len: 5 } : null;
        }
        return { cmd: { op: 'junk', bytes: b.slice(i, i + 1) }, len: 1 };
      default:
        if (c < 0x20) return { cmd: { op: 'junk', bytes: b.slice(i, i + 1) }, len: 1 };
        return this.textRun(b, i);
    }
  }

  private textRun(b: Uint8Array, start: number): Step {
    let i = start;
    while (i < b.length) {
      const c = b[i]!;
      if (c < 0x20) break;
      if (c < 0x80 || !this.chinese) {
        i += 1;
        continue;
      }
      // GB18030: two bytes, or four when the second is a digit.
      if (i + 1 >= b.length) break;
      const four = b[i + 1]! >= 0x30 && b[i + 1]! <= 0x39;
      if (four && i + 3 >= b.length) break;
      i += four ? 4 : 2;
    }
    if (i === start) return null; // only a partial character so far
    const bytes = b.slice(start, i);
    const text = this.chinese ? decodeGb18030(bytes) : String.fromCharCode(...bytes);
    return { cmd: { op: 'text', text, bytes }, len: i - start };
  }

  private esc(b: Uint8Array, i: number, need: (n: number) => boolean, at: (k: number) => number): Step {
    if (!need(2)) return null;
    const f = at(1);
    if (f === 0x40) return { cmd: { op: 'init' }, len: 2 };
    if (f === 0x70) {
      if (!need(5)) return null;
      return { cmd: { op: 'drawer', pin: at(2) & 1 ? 5 : 2, onMs: at(3) * 2, offMs: at(4) * 2 }, len: 5 };
    }
    if (!need(3)) return null;
    const n = at(2);
    switch (f) {
      case 0x61:
        return {
          cmd: { op: 'align', align: n % 48 === 1 ? 'center' : n % 48 === 2 ? 'right' : 'left' },
          len: 3,
        };
      case 0x45:
        return { cmd: { op: 'bold', on: (n & 1) === 1 }, len: 3 };
      case 0x64:
        return { cmd: { op: 'feed', lines: n }, len: 3 };
      case 0x21:
        return { cmd: { op: 'print-mode', n }, len: 3 };
    }
    if (ESC_ONE_PARAM.has(f)) return { cmd: { op: 'other', bytes: b.slice(i, i + 3) }, len: 3 };
    return { cmd: { op: 'junk', bytes: b.slice(i, i + 1) }, len: 1 };
  }

  private gs(b: Uint8Array, i: number, need: (n: number) => boolean, at: (k: number) => number): Step {
    if (!need(3)) return null;
    const f = at(1);
    const n = at(2);
    switch (f) {
      case 0x21:
        return { cmd: { op: 'size', width: ((n >> 4) & 7) + 1, height: (n & 7) + 1 }, len: 3 };
      case 0x56:
        if (n === 0x41 || n === 0x42) {
          if (!need(4)) return null;
          return { cmd: { op: 'cut', partial: n === 0x42, feed: at(3) }, len: 4 };
        }
        return { cmd: { op: 'cut', partial: (n & 1) === 1, feed: 0 }, len: 3 };
      case 0x61:
        return { cmd: { op: 'asb', mask: n }, len: 3 };
      case 0x72:
        return { cmd: { op: 'transmit-status', n }, len: 3 };
      case 0x48:
        return { cmd: { op: 'barcode-setting', what: 'hri', n }, len: 3 };
      case 0x68:
        return { cmd: { op: 'barcode-setting', what: 'height', n }, len: 3 };
      case 0x77:
        return { cmd: { op: 'barcode-setting', what: 'width', n }, len: 3 };
      case 0x28:
        return this.gsParen(b, i, need, at);
      case 0x76: {
        if (n !== 0x30) break;
        if (!need(8)) return null;
        const widthBytes = at(4) | (at(5) << 8);
        const height = at(6) | (at(7) << 8);
        const total = 8 + widthBytes * height;
        if (!need(total)) return null;
        return {
          cmd: { op: 'raster', mode: at(3), widthBytes, height, data: b.slice(i + 8, i + total) },
          len: total,
        };
      }
      case 0x6b: {
        if (n <= 6) {
          const end = b.indexOf(0, i + 3);
          if (end < 0) return null;
          return {
            cmd: { op: 'barcode', system: n, data: String.fromCharCode(...b.slice(i + 3, end)) },
            len: end + 1 - i,
          };
        }
        if (!need(4)) return null;
        const len = at(3);
        if (!need(4 + len)) return null;
        return {
          cmd: { op: 'barcode', system: n, data: String.fromCharCode(...b.slice(i + 4, i + 4 + len)) },
          len: 4 + len,
        };
      }
      case 0x4c:
      case 0x57:
        return need(4) ? { cmd: { op: 'other', bytes: b.slice(i, i + 4) }, len: 4 } : null;
    }
    if (GS_ONE_PARAM.has(f)) return { cmd: { op: 'other', bytes: b.slice(i, i + 3) }, len: 3 };
    return { cmd: { op: 'junk', bytes: b.slice(i, i + 1) }, len: 1 };
  }

  /** `GS ( x pL pH ...`: the length is always in pL pH, so unknown functions are skipped whole. */
  private gsParen(b: Uint8Array, i: number, need: (n: number) => boolean, at: (k: number) => number): Step {
    if (!need(5)) return null;
    const len = at(3) | (at(4) << 8);
    const total = 5 + len;
    if (!need(total)) return null;
    const bytes = b.slice(i, i + total);
    if (at(2) !== 0x6b || len < 3 || at(5) !== 0x31) return { cmd: { op: 'other', bytes }, len: total };
    const fn = at(6);
    switch (fn) {
      case 0x41:
        return { cmd: { op: 'qr-model', model: at(7) - 0x30 }, len: total };
      case 0x43:
        return { cmd: { op: 'qr-size', size: at(7) }, len: total };
      case 0x45:
        return { cmd: { op: 'qr-ec', level: EC_LEVELS[(at(7) - 48) & 3]! }, len: total };
      case 0x50:
        return { cmd: { op: 'qr-store', data: b.slice(i + 8, i + total), declaredLength: len }, len: total };
      case 0x51:
        return { cmd: { op: 'qr-print' }, len: total };
    }
    return { cmd: { op: 'other', bytes }, len: total };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const r = new Uint8Array(a.length + b.length);
  r.set(a);
  r.set(b, a.length);
  return r;
}

/** Decodes a whole job at once. */
export function decodeEscPos(bytes: Uint8Array): EscPosCommand[] {
  return new EscPosDecoder().push(bytes);
}
