import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { glyphDot } from './bitmap-font.js';

/** Dot rows of a character cell: CJK 24×24, ASCII 12×24, as the printer's font A and its CJK font. */
export const CELL_HEIGHT = 24;
export const WIDE_CELL = 24;
export const NARROW_CELL = 12;

/** A character as dots: `width × CELL_HEIGHT`, row-major, 1 = dot; `points` the dots as x, y pairs. */
export interface GlyphCell {
  width: number;
  dots: Uint8Array;
  points: Uint8Array;
}

export interface PrinterFont {
  /** What draws the text: a font family, or the built-in fallback. */
  readonly name: string;
  /** False for the fallback: CJK characters are boxes. */
  readonly cjk: boolean;
  glyph(code: number, wide: boolean): GlyphCell;
  /** Whether `code` has a real glyph (not the box a printer shows for a character it lacks). */
  has(code: number): boolean;
}

/**
 * The fonts tried, in order, each with its monospaced face (ASCII exactly half the CJK width):
 * WenQuanYi Zen Hei covers the GB18030-2000 set printers carry (GBK and CJK Ext A); Micro Hei,
 * installed for the browser tests, lacks Ext A. See docs/decisions/0003-receipt-font.md.
 */
export const PRINTER_FONT_FILES: ReadonlyArray<{ path: string; face: number }> = [
  { path: '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', face: 1 },
  { path: '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', face: 1 },
];

/** The part of @julusian/freetype2 (FreeType, prebuilt) used here. */
interface FtGlyph {
  bitmap: { width: number; height: number; pitch: number; buffer: Buffer; pixelMode: number } | null;
  bitmapLeft: number | null;
  bitmapTop: number | null;
}
interface FtFace {
  properties(): { familyName: string };
  setPixelSizes(width: number, height: number): void;
  getCharIndex(code: number): number | null;
  loadChar(code: number, flags: { render: boolean; loadTarget: number }): FtGlyph;
}
interface FreeType {
  NewFace(path: string, faceIndex?: number): FtFace;
  RenderMode: { MONO: number };
}

interface Face {
  ft: FtFace;
  /** Dot row of the baseline in the cell: CJK ink centred in its 24 rows. */
  baseline: number;
}

const MONO_PIXEL_MODE = 1;

function blankCell(width: number): GlyphCell {
  return { width, dots: new Uint8Array(width * CELL_HEIGHT), points: new Uint8Array(0) };
}

/** Lists the cell's dots once, so drawing visits only the ink. */
function withPoints(cell: GlyphCell): GlyphCell {
  const points: number[] = [];
  for (let y = 0; y < CELL_HEIGHT; y++) {
    for (let x = 0; x < cell.width; x++) if (cell.dots[y * cell.width + x]) points.push(x, y);
  }
  return { ...cell, points: Uint8Array.from(points) };
}

/** What a printer prints for a character its font lacks: an outlined box. */
export function boxCell(width: number): GlyphCell {
  const cell = blankCell(width);
  for (let y = 2; y < CELL_HEIGHT - 2; y++) {
    for (let x = 2; x < width - 2; x++) {
      if (x === 2 || x === width - 3 || y === 2 || y === CELL_HEIGHT - 3) cell.dots[y * width + x] = 1;
    }
  }
  return withPoints(cell);
}

class CachedFont {
  private readonly cache = new Map<number, GlyphCell>();

  protected cached(code: number, wide: boolean, make: () => GlyphCell): GlyphCell {
    const key = code * 2 + (wide ? 1 : 0);
    let cell = this.cache.get(key);
    if (!cell) {
      cell = withPoints(make());
      this.cache.set(key, cell);
    }
    return cell;
  }
}

/** Glyphs rasterised by FreeType in monochrome at 24 px, the way a printer's bitmap font looks. */
class FreeTypeFont extends CachedFont implements PrinterFont {
  readonly cjk = true;
  readonly name: string;

  constructor(
    private readonly faces: Face[],
    private readonly renderMode: number,
  ) {
    super();
    this.name = faces.map((f) => f.ft.properties().familyName).join(', ');
  }

  has(code: number): boolean {
    return code < 0x20 || this.faces.some((f) => f.ft.getCharIndex(code));
  }

  glyph(code: number, wide: boolean): GlyphCell {
    return this.cached(code, wide, () => this.draw(code, wide ? WIDE_CELL : NARROW_CELL));
  }

  private draw(code: number, width: number): GlyphCell {
    if (code <= 0x20 || code === 0x3000) return blankCell(width);
    const face = this.faces.find((f) => f.ft.getCharIndex(code));
    if (!face) return boxCell(width);
    const g = face.ft.loadChar(code, { render: true, loadTarget: this.renderMode });
    const cell = blankCell(width);
    const b = g.bitmap;
    if (!b) return cell;
    const left = g.bitmapLeft ?? 0;
    const top = face.baseline - (g.bitmapTop ?? 0);
    for (let y = 0; y < b.height; y++) {
      const cy = top + y;
      if (cy < 0 || cy >= CELL_HEIGHT) continue;
      for (let x = 0; x < b.width; x++) {
        const cx = left + x;
        if (cx < 0 || cx >= width) continue;
        const on =
          b.pixelMode === MONO_PIXEL_MODE
            ? (b.buffer[y * b.pitch + (x >>> 3)]! >>> (7 - (x & 7))) & 1
            : Number(b.buffer[y * b.pitch + x]! >= 128);
        if (on) cell.dots[cy * width + cx] = 1;
      }
    }
    return cell;
  }
}

/** No font found: ASCII from the 5×7 LCD font, CJK as boxes (legible positions, not characters). */
class FallbackFont extends CachedFont implements PrinterFont {
  readonly name = 'built-in 5x7 (no CJK font)';
  readonly cjk = false;

  has(code: number): boolean {
    return code < 0x7f;
  }

  glyph(code: number, wide: boolean): GlyphCell {
    return this.cached(code, wide, () => {
      if (wide) return boxCell(WIDE_CELL);
      const cell = blankCell(NARROW_CELL);
      for (let cy = 0; cy < 7; cy++) {
        for (let cx = 0; cx < 5; cx++) {
          if (!glyphDot(code, cx, cy)) continue;
          for (let dy = 0; dy < 3; dy++) {
            for (let dx = 0; dx < 2; dx++) cell.dots[(2 + cy * 3 + dy) * NARROW_CELL + 1 + cx * 2 + dx] = 1;
          }
        }
      }
      return cell;
    });
  }
}

export interface LoadedFont {
  font: PrinterFont;
  /** Set when the fallback is used: why (to log once). */
  warning?: string;
}

/** The printer font: the first installed of `files` (others fill its gaps), or the fallback. */
export function loadPrinterFont(files = PRINTER_FONT_FILES): LoadedFont {
  let ft: FreeType;
  try {
    ft = createRequire(import.meta.url)('@julusian/freetype2') as FreeType;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { font: new FallbackFont(), warning: `FreeType binding unavailable (${why})` };
  }
  const faces: Face[] = [];
  for (const f of files) {
    if (!existsSync(f.path)) continue;
    try {
      const face = ft.NewFace(f.path, f.face);
      face.setPixelSizes(WIDE_CELL, CELL_HEIGHT);
      faces.push({ ft: face, baseline: baselineOf(face, ft.RenderMode.MONO) });
    } catch {
      // An unreadable font file is skipped like a missing one.
    }
  }
  if (faces.length === 0) {
    return {
      font: new FallbackFont(),
      warning: `no CJK font installed (${files.map((f) => f.path).join(', ')}): install fonts-wqy-zenhei`,
    };
  }
  return { font: new FreeTypeFont(faces, ft.RenderMode.MONO) };
}

/** Where the baseline goes so a full-height ideograph (国) sits centred in the 24-dot cell. */
function baselineOf(face: FtFace, mode: number): number {
  const g = face.loadChar(0x56fd, { render: true, loadTarget: mode });
  const height = g.bitmap?.height ?? 0;
  if (!g.bitmap || height === 0 || height > CELL_HEIGHT) return 20;
  return Math.floor((CELL_HEIGHT - height) / 2) + (g.bitmapTop ?? 0);
}
