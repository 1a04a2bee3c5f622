import { sanitizeText } from '../../core/safe-text.js';
import { ByteWriter } from './byte-writer.js';
import type { Gb18030Codec } from './gb18030.js';
import { type QrEcLevel, qrMatrix } from './qr-matrix.js';
import { type Raster, rasterFromQr } from './raster.js';
import { displayWidth, hasNonAscii, truncateToWidth, wrapToWidth } from './text-width.js';

export type PaperWidth = 58 | 80;
export type Align = 'left' | 'center' | 'right';

/** Character columns at font A (12 dots) and printable dots, per paper width. */
export const PAPER: Record<PaperWidth, { columns: number; dots: number }> = {
  58: { columns: 32, dots: 384 },
  80: { columns: 48, dots: 576 },
};

export interface EncoderOptions {
  paperWidth: PaperWidth;
  codec: Gb18030Codec;
  /** `native`: the printer draws QR itself (`GS ( k`); `raster`: we send the dots (`GS v 0`). */
  qr?: 'native' | 'raster';
}

export interface TextStyle {
  bold?: boolean;
  /** Character magnification, 1 or 2 each (`GS !`); a double-width character takes twice the columns. */
  width?: 1 | 2;
  height?: 1 | 2;
}

export interface QrOptions {
  /** Module size in dots (1..16). */
  moduleSize?: number;
  ec?: QrEcLevel;
}

export type Barcode = 'EAN13' | 'CODE128';

const ESC = 0x1b;
const GS = 0x1d;
const FS = 0x1c;
const LF = 0x0a;
const QR_EC_BYTE: Record<QrEcLevel, number> = { L: 48, M: 49, Q: 50, H: 51 };
/** Tall rasters are sent in bands: small printers have small receive buffers. */
const RASTER_BAND_ROWS = 256;
const QR_MAX_BYTES = 2953;

/**
 * ESC/POS for Chinese receipt printers (Epson-compatible, GB18030 in Chinese mode). One encoder
 * builds one job: it starts with `ESC @` and switches Chinese mode on (`FS &`) before the first
 * non-ASCII text, so a printer power-cycled between jobs still prints right. It tracks the
 * printer's modes and only sends a command when a mode changes.
 */
export class EscPosEncoder {
  readonly columns: number;
  readonly dots: number;
  private readonly out = new ByteWriter(2048);
  private readonly codec: Gb18030Codec;
  private readonly qrMode: 'native' | 'raster';
  private chinese = false;
  private curAlign: Align = 'left';
  private curBold = false;
  private curSize = 0;

  constructor(options: EncoderOptions) {
    this.columns = PAPER[options.paperWidth].columns;
    this.dots = PAPER[options.paperWidth].dots;
    this.codec = options.codec;
    this.qrMode = options.qr ?? 'native';
    this.initialize();
  }

  /** `ESC @`: reset all modes (the printer forgets Chinese mode too). */
  initialize(): this {
    this.out.bytes(ESC, 0x40);
    this.chinese = false;
    this.curAlign = 'left';
    this.curBold = false;
    this.curSize = 0;
    return this;
  }

  align(a: Align): this {
    if (a !== this.curAlign) {
      this.out.bytes(ESC, 0x61, a === 'left' ? 0 : a === 'center' ? 1 : 2);
      this.curAlign = a;
    }
    return this;
  }

  style(s: TextStyle): this {
    const bold = s.bold ?? false;
    if (bold !== this.curBold) {
      this.out.bytes(ESC, 0x45, bold ? 1 : 0);
      this.curBold = bold;
    }
    const size = (((s.width ?? 1) - 1) << 4) | ((s.height ?? 1) - 1);
    if (size !== this.curSize) {
      this.out.bytes(GS, 0x21, size);
      this.curSize = size;
    }
    return this;
  }

  /** Columns available at the current character width. */
  get lineColumns(): number {
    return this.curSize & 0x10 ? Math.floor(this.columns / 2) : this.columns;
  }

  /**
   * Text, no line feed; GB18030, Chinese mode switched on first if needed. Text never becomes a
   * command: control characters print as `?`, a newline as a space (see `sanitizeText`).
   */
  text(raw: string): this {
    const t = sanitizeText(raw);
    if (!this.chinese && hasNonAscii(t)) {
      this.out.bytes(FS, 0x26);
      this.chinese = true;
    }
    this.codec.encodeInto(t, this.out);
    return this;
  }

  /** A paragraph: each of its `\n`-separated lines wrapped by display width, each ended with LF. */
  line(t = ''): this {
    for (const paragraphLine of sanitizeText(t, true).split(/\r?\n/)) {
      if (paragraphLine === '') {
        this.out.byte(LF);
        continue;
      }
      for (const part of wrapToWidth(paragraphLine, this.lineColumns)) {
        this.text(part);
        this.out.byte(LF);
      }
    }
    return this;
  }

  /**
   * Left text and right text (an amount) on one line, padded by display width. A left text that
   * does not fit wraps (or is truncated) so the right text always stays whole on the last line.
   */
  row(rawLeft: string, rawRight: string, overflow: 'wrap' | 'truncate' = 'wrap'): this {
    const left = sanitizeText(rawLeft);
    const right = sanitizeText(rawRight);
    const cols = this.lineColumns;
    const rw = displayWidth(right);
    const room = Math.max(1, cols - rw - 1);
    let parts: string[];
    if (displayWidth(left) <= room) parts = [left];
    else if (overflow === 'truncate') parts = [truncateToWidth(left, room)];
    else {
      // Full-width lines first, then the rest beside the amount.
      const full = wrapToWidth(left, cols);
      const last = full.pop() ?? '';
      parts = [...full, ...wrapToWidth(last, room)];
    }
    const lastLeft = parts.pop() ?? '';
    for (const p of parts) this.line(p);
    this.text(lastLeft);
    this.out.fill(0x20, cols - displayWidth(lastLeft) - rw);
    this.text(right);
    this.out.byte(LF);
    return this;
  }

  /** A full line of one printable ASCII character (default '-'; anything else is '-'). */
  divider(ch = '-'): this {
    const c = ch.charCodeAt(0);
    this.out.fill(c > 0x20 && c < 0x7f ? c : 0x2d, this.lineColumns);
    this.out.byte(LF);
    return this;
  }

  /** `ESC d n`: feed n lines. */
  feed(lines = 1): this {
    this.out.bytes(ESC, 0x64, Math.max(0, Math.min(255, lines)));
    return this;
  }

  /**
   * QR code. Payload bytes are UTF-8 (what phone wallets decode); `GS ( k` lengths count those
   * BYTES: pL pH = byte length + 3. Falls back to a raster when the printer has no native QR.
   */
  qr(data: string, options: QrOptions = {}): this {
    const bytes = Buffer.from(data, 'utf8');
    // The largest QR (version 40, level L) holds 2953 bytes; more would also overflow pL pH.
    if (bytes.length > QR_MAX_BYTES) throw new RangeError(`QR data over ${QR_MAX_BYTES} bytes`);
    const ec = options.ec ?? 'M';
    const size = Math.max(1, Math.min(16, options.moduleSize ?? (this.dots >= 576 ? 6 : 5)));
    if (this.qrMode === 'raster') return this.raster(rasterFromQr(qrMatrix(bytes, ec), size));
    const n = bytes.length + 3;
    this.out.bytes(GS, 0x28, 0x6b, 4, 0, 0x31, 0x41, 0x32, 0); // model 2
    this.out.bytes(GS, 0x28, 0x6b, 3, 0, 0x31, 0x43, size); // module size
    this.out.bytes(GS, 0x28, 0x6b, 3, 0, 0x31, 0x45, QR_EC_BYTE[ec]); // error correction
    this.out.bytes(GS, 0x28, 0x6b, n & 0xff, n >> 8, 0x31, 0x50, 0x30); // store
    this.out.array(bytes);
    this.out.bytes(GS, 0x28, 0x6b, 3, 0, 0x31, 0x51, 0x30); // print
    this.out.byte(LF);
    return this;
  }

  /** `GS k` function B, HRI below, 80 dots high. EAN13 takes 12 digits (the printer adds the check). */
  barcode(kind: Barcode, data: string): this {
    this.out.bytes(GS, 0x48, 2, GS, 0x68, 80, GS, 0x77, 2);
    if (kind === 'EAN13') {
      if (!/^\d{12,13}$/.test(data)) throw new RangeError('EAN13 takes 12 or 13 digits');
      const digits = data.slice(0, 12);
      this.out.bytes(GS, 0x6b, 67, 12);
      for (let i = 0; i < 12; i++) this.out.byte(digits.charCodeAt(i));
    } else {
      if (!/^[\x20-\x7e]{1,253}$/.test(data)) throw new RangeError('CODE128 takes printable ASCII');
      // "{B": code set B, so any printable ASCII prints as given.
      this.out.bytes(GS, 0x6b, 73, data.length + 2, 0x7b, 0x42);
      for (let i = 0; i < data.length; i++) this.out.byte(data.charCodeAt(i));
    }
    this.out.byte(LF);
    return this;
  }

  /** `GS v 0` raster image, in bands; ESC a alignment applies. */
  raster(r: Raster): this {
    for (let y0 = 0; y0 < r.height; y0 += RASTER_BAND_ROWS) {
      const rows = Math.min(RASTER_BAND_ROWS, r.height - y0);
      this.out.bytes(GS, 0x76, 0x30, 0, r.widthBytes & 0xff, r.widthBytes >> 8, rows & 0xff, rows >> 8);
      this.out.array(r.data.subarray(y0 * r.widthBytes, (y0 + rows) * r.widthBytes));
    }
    return this;
  }

  /** Feed to the cutter and cut (`GS V 66 n`, function B): partial by default, as most shops want. */
  cut(partial = true, feedLines = 3): this {
    this.out.bytes(GS, 0x56, partial ? 0x42 : 0x41, feedLines);
    return this;
  }

  /** Cash drawer kick, all five bytes `ESC p m t1 t2`: pin 2 (m=0), on 50 ms, off 500 ms. */
  drawer(pin: 2 | 5 = 2): this {
    this.out.bytes(ESC, 0x70, pin === 2 ? 0 : 1, 25, 250);
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.out.array(bytes);
    return this;
  }

  /** The job's bytes. */
  encode(): Uint8Array {
    return this.out.toBytes();
  }
}
