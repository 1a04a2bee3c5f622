import type { EscPosCommand } from '../printer/escpos-decoder.js';
import { type QrEcLevel, qrMatrix } from '../printer/qr-matrix.js';
import { emptyRaster, getDot, type Raster, rasterFromQr } from '../printer/raster.js';
import { CELL_HEIGHT, NARROW_CELL, type PrinterFont, WIDE_CELL } from './printer-font.js';

interface Glyph {
  ch: string;
  code: number;
  wide: boolean;
  w: number;
  h: number;
  bold: boolean;
}

export interface PrintedCell {
  char: string;
  x: number;
  y: number;
  /** Scale: 2 for double width / height. */
  w: number;
  h: number;
  wide: boolean;
  bold: boolean;
}

export interface RenderedReceipt {
  raster: Raster;
  /** The text of each printed line, as a person would read it off the paper. */
  lines: string[];
  /** Where each printed character went, in dots (tests look at the glyphs themselves). */
  cells: PrintedCell[];
  /** Payloads of the QR codes drawn (native and raster are both pixels in `raster`). */
  qr: string[];
  barcodes: string[];
  drawerKicks: number;
  cut: boolean;
}

const LINE_SPACING = 6;

/**
 * Draws what an 8 dots/mm printer would put on paper, from decoded ESC/POS commands: text in the
 * printer's cells (CJK 24×24, ASCII 12×24; bold, double width and height, alignment), QR codes and
 * raster images dot for dot.
 */
export class ReceiptRenderer {
  /** The paper so far: `height` rows of `widthBytes`, grown as it feeds. */
  private paper = new Uint8Array(0);
  private height = 0;
  private readonly widthBytes: number;
  private line: Glyph[] = [];
  private lineText = '';
  private readonly lines: string[] = [];
  private readonly cells: PrintedCell[] = [];
  private readonly qr: string[] = [];
  private readonly barcodes: string[] = [];
  private align: 'left' | 'center' | 'right' = 'left';
  private bold = false;
  private w = 1;
  private h = 1;
  private qrSize = 3;
  private qrEc: QrEcLevel = 'L';
  private qrData: Uint8Array | undefined;
  private drawerKicks = 0;
  private cut = false;
  private touched = false;
  /** `FS &`: bytes from 0x80 are GB18030 characters in 24-dot cells; else code page, 12 dots. */
  private chinese = false;

  constructor(
    readonly width: number,
    private readonly font: PrinterFont,
  ) {
    this.widthBytes = Math.ceil(width / 8);
  }

  get isEmpty(): boolean {
    return !this.touched;
  }

  apply(cmd: EscPosCommand): void {
    switch (cmd.op) {
      case 'init':
        this.align = 'left';
        this.bold = false;
        this.w = 1;
        this.h = 1;
        this.chinese = false;
        return;
      case 'chinese':
        this.chinese = cmd.on;
        return;
      case 'print-mode':
        // ESC ! n: bit 3 emphasized, bit 4 double height, bit 5 double width.
        this.bold = (cmd.n & 0x08) !== 0;
        this.h = cmd.n & 0x10 ? 2 : 1;
        this.w = cmd.n & 0x20 ? 2 : 1;
        return;
      case 'text':
        this.touched = true;
        for (const ch of cmd.text) this.addChar(ch);
        return;
      case 'lf':
        this.touched = true;
        this.flushLine(true);
        return;
      case 'align':
        this.align = cmd.align;
        return;
      case 'bold':
        this.bold = cmd.on;
        return;
      case 'size':
        this.w = cmd.width;
        this.h = cmd.height;
        return;
      case 'feed':
        this.flushLine(false);
        this.blank(cmd.lines * (CELL_HEIGHT + LINE_SPACING));
        return;
      case 'qr-size':
        this.qrSize = cmd.size;
        return;
      case 'qr-ec':
        this.qrEc = cmd.level;
        return;
      case 'qr-store':
        this.qrData = cmd.data;
        return;
      case 'qr-print':
        if (this.qrData) {
          this.touched = true;
          this.flushLine(false);
          this.qr.push(Buffer.from(this.qrData).toString('utf8'));
          this.place(rasterFromQr(qrMatrix(this.qrData, this.qrEc), this.qrSize, 4));
        }
        return;
      case 'raster':
        this.touched = true;
        this.flushLine(false);
        this.place({
          width: cmd.widthBytes * 8,
          height: cmd.height,
          widthBytes: cmd.widthBytes,
          data: cmd.data,
        });
        return;
      case 'barcode':
        this.touched = true;
        this.flushLine(false);
        this.barcodes.push(cmd.data);
        this.drawBarcode(cmd.data);
        return;
      case 'drawer':
        this.drawerKicks += 1;
        return;
      case 'cut':
        this.flushLine(false);
        this.cut = true;
        return;
      default:
        return;
    }
  }

  finish(): RenderedReceipt {
    this.flushLine(false);
    this.blank(LINE_SPACING * 2);
    const raster = emptyRaster(this.width, this.height);
    raster.data.set(this.paper.subarray(0, this.height * this.widthBytes));
    return {
      raster,
      lines: [...this.lines],
      cells: [...this.cells],
      qr: [...this.qr],
      barcodes: [...this.barcodes],
      drawerKicks: this.drawerKicks,
      cut: this.cut,
    };
  }

  private addChar(ch: string): void {
    const code = ch.codePointAt(0) ?? 0x3f;
    const glyph: Glyph = {
      ch,
      code,
      wide: code >= 0x80 && this.chinese,
      w: this.w,
      h: this.h,
      bold: this.bold,
    };
    // The printer wraps at the right margin by itself.
    if (this.lineWidth() + glyphWidth(glyph) > this.width) this.flushLine(true);
    this.line.push(glyph);
    this.lineText += ch;
  }

  private lineWidth(): number {
    let n = 0;
    for (const g of this.line) n += glyphWidth(g);
    return n;
  }

  private flushLine(lf: boolean): void {
    if (this.line.length === 0) {
      if (lf) {
        this.lines.push('');
        this.blank(CELL_HEIGHT + LINE_SPACING);
      }
      return;
    }
    const height = Math.max(...this.line.map((g) => CELL_HEIGHT * g.h));
    const top = this.height;
    this.blank(height + LINE_SPACING);
    let x = this.startX(this.lineWidth());
    for (const g of this.line) {
      const y = top + height - CELL_HEIGHT * g.h;
      this.drawGlyph(g, x, y);
      this.cells.push({ char: g.ch, x, y, w: g.w, h: g.h, wide: g.wide, bold: g.bold });
      x += glyphWidth(g);
    }
    this.lines.push(this.lineText);
    this.line = [];
    this.lineText = '';
  }

  private startX(contentWidth: number): number {
    if (this.align === 'center') return Math.max(0, Math.floor((this.width - contentWidth) / 2));
    if (this.align === 'right') return Math.max(0, this.width - contentWidth);
    return 0;
  }

  private drawGlyph(g: Glyph, x0: number, y0: number): void {
    const { points, width } = this.font.glyph(g.code, g.wide);
    for (let i = 0; i < points.length; i += 2) {
      const x = points[i]!;
      const y = points[i + 1]!;
      this.dot(x0, y0, x, y, g);
      // Emphasized: printed twice, one dot to the right.
      if (g.bold && x + 1 < width) this.dot(x0, y0, x + 1, y, g);
    }
  }

  private dot(x0: number, y0: number, x: number, y: number, g: Glyph): void {
    for (let sy = 0; sy < g.h; sy++) {
      for (let sx = 0; sx < g.w; sx++) this.set(x0 + x * g.w + sx, y0 + y * g.h + sy);
    }
  }

  private place(r: Raster): void {
    const top = this.height;
    this.blank(r.height);
    const x0 = this.startX(r.width);
    for (let y = 0; y < r.height; y++) {
      for (let x = 0; x < r.width; x++) if (getDot(r, x, y)) this.set(x0 + x, top + y);
    }
  }

  private drawBarcode(data: string): void {
    const height = 80;
    const top = this.height;
    this.blank(height + 4);
    const bits: number[] = [];
    for (const ch of data) for (let i = 7; i >= 0; i--) bits.push((ch.charCodeAt(0) >> i) & 1);
    const width = Math.min(this.width, bits.length * 2 + 20);
    const x0 = this.startX(width);
    for (let i = 0; i < width; i++) {
      const on = i < 4 || i >= width - 4 || bits[Math.floor((i - 10) / 2)] === 1;
      if (!on) continue;
      for (let y = 0; y < height; y++) this.set(x0 + i, top + y);
    }
    this.flushText(data);
  }

  private flushText(text: string): void {
    for (const ch of text) this.addChar(ch);
    this.flushLine(true);
  }

  private blank(rows: number): void {
    const need = (this.height + rows) * this.widthBytes;
    if (need > this.paper.length) {
      const grown = new Uint8Array(Math.max(need, this.paper.length * 2, this.widthBytes * 512));
      grown.set(this.paper);
      this.paper = grown;
    }
    this.height += rows;
  }

  private set(x: number, y: number): void {
    if (y < 0 || y >= this.height || x < 0 || x >= this.width) return;
    const i = y * this.widthBytes + (x >>> 3);
    this.paper[i] = this.paper[i]! | (0x80 >>> (x & 7));
  }
}

function glyphWidth(g: Glyph): number {
  return (g.wide ? WIDE_CELL : NARROW_CELL) * g.w;
}
