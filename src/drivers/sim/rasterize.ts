import { decodeEscPos, type EscPosCommand } from '../printer/escpos-decoder.js';
import type { PrinterFont } from './printer-font.js';
import { rasterToPng1 } from './receipt-png.js';
import { ReceiptRenderer, type RenderedReceipt } from './receipt-renderer.js';

/** What to draw: the printer's commands as it decoded them, or the bytes of a job. */
export type RasterInput = { commands: EscPosCommand[] } | { bytes: Uint8Array };

/** The drawn receipt without its per-character positions (a burden to pass between threads). */
export interface RasterizedReceipt extends Omit<RenderedReceipt, 'raster' | 'cells'> {
  png: Buffer;
  width: number;
  height: number;
  /** Characters drawn as the box because no installed font has them. */
  missingGlyphs: string[];
}

/** Draws one receipt (everything in `input`, cuts included) as a black-on-white PNG. */
export function rasterizeReceipt(
  input: RasterInput,
  widthDots: number,
  font: PrinterFont,
): RasterizedReceipt {
  const commands = 'commands' in input ? input.commands : decodeEscPos(input.bytes);
  const renderer = new ReceiptRenderer(widthDots, font);
  const missing = new Set<string>();
  for (const cmd of commands) {
    if (cmd.op === 'text') {
      for (const ch of cmd.text) if (!font.has(ch.codePointAt(0) ?? 0)) missing.add(ch);
    }
    renderer.apply(cmd);
  }
  const { raster, cells: _cells, ...rest } = renderer.finish();
  return {
    ...rest,
    png: rasterToPng1(raster),
    width: raster.width,
    height: raster.height,
    missingGlyphs: [...missing],
  };
}
