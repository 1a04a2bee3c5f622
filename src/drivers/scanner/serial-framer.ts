import { bytesToText, type DecoderEvent, isAllowedControl, junk, type ScanDecoder } from './decoder.js';

/** `suffix`: each code ends with CR, LF or CRLF; `timeout`: a pause in the bytes ends it. */
export type SerialFraming = 'suffix' | 'timeout';

export interface SerialFramerOptions {
  framing?: SerialFraming;
  /** `timeout` framing: the pause that ends a code; `suffix`: a partial older than this is junk. */
  interByteTimeoutMs?: number;
  maxLength?: number;
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * Frames the byte stream of a serial scanner into codes. A frame holding control characters
 * (other than EOT, GS and RS, which GS1 and ISO 15434 codes carry), an empty frame, an over-long
 * frame or a partial frame cut off by a pause is junk.
 */
export class SerialFramer implements ScanDecoder {
  private readonly framing: SerialFraming;
  private readonly timeoutMs: number;
  private readonly maxLength: number;
  private buf: number[] = [];
  private taint: string | undefined;
  /** Bytes past maxLength: not kept, but counted with the junk. */
  private overflow = 0;
  private afterCr = false;
  private lastAt: number | undefined;

  constructor(options: SerialFramerOptions = {}) {
    this.framing = options.framing ?? 'suffix';
    this.timeoutMs = options.interByteTimeoutMs ?? (this.framing === 'timeout' ? 50 : 200);
    this.maxLength = options.maxLength ?? 4096;
  }

  push(chunk: Uint8Array, atMs: number): DecoderEvent[] {
    const out = this.expire(atMs);
    if (chunk.length === 0) return out;
    if (this.lastAt !== undefined && atMs - this.lastAt > this.timeoutMs) this.afterCr = false;
    this.lastAt = atMs;
    for (const b of chunk) {
      if (this.framing === 'suffix' && (b === CR || b === LF)) {
        if (b === LF && this.afterCr) {
          this.afterCr = false; // the LF of a CRLF
          continue;
        }
        this.afterCr = b === CR;
        this.endFrame(out, 1);
        continue;
      }
      this.afterCr = false;
      this.add(b);
    }
    return out;
  }

  expire(atMs: number): DecoderEvent[] {
    if (this.lastAt === undefined || atMs - this.lastAt <= this.timeoutMs || !this.pending()) return [];
    const out: DecoderEvent[] = [];
    if (this.framing === 'timeout') this.endFrame(out, 0);
    else {
      out.push(
        junk(`partial code without CR/LF within ${this.timeoutMs} ms`, this.buf.length + this.overflow),
      );
      this.clear();
    }
    return out;
  }

  deadline(): number | undefined {
    return this.lastAt !== undefined && this.pending() ? this.lastAt + this.timeoutMs + 1 : undefined;
  }

  reset(): DecoderEvent[] {
    const out = this.pending() ? [junk('device closed during a code', this.buf.length + this.overflow)] : [];
    this.clear();
    this.afterCr = false;
    this.lastAt = undefined;
    return out;
  }

  private pending(): boolean {
    return this.buf.length > 0 || this.taint !== undefined;
  }

  private add(b: number): void {
    if ((b < 0x20 && !isAllowedControl(b)) || b === 0x7f) this.taint ??= `control byte 0x${b.toString(16)}`;
    if (this.buf.length >= this.maxLength) {
      this.taint ??= `longer than ${this.maxLength} bytes`;
      this.overflow++;
      return;
    }
    this.buf.push(b);
  }

  private endFrame(out: DecoderEvent[], suffixBytes: number): void {
    const bytes = this.buf.length + this.overflow + suffixBytes;
    if (this.taint !== undefined) out.push(junk(`code discarded: ${this.taint}`, bytes));
    else if (this.buf.length === 0) out.push(junk('empty line', bytes));
    else out.push({ type: 'code', code: bytesToText(Uint8Array.from(this.buf)) });
    this.clear();
  }

  private clear(): void {
    this.buf = [];
    this.taint = undefined;
    this.overflow = 0;
  }
}
