import { parentPort } from 'node:worker_threads';
import { loadPrinterFont } from './printer-font.js';
import { type RasterInput, type RasterizedReceipt, rasterizeReceipt } from './rasterize.js';

/** The receipt renderer's thread: one font (and glyph cache) for its life, one request at a time. */
export interface RenderRequest {
  id: number;
  input: RasterInput;
  widthDots: number;
}

export type RenderReply =
  | { kind: 'font'; name: string; cjk: boolean; warning?: string }
  | { kind: 'done'; id: number; result: RasterizedReceipt }
  | { kind: 'failed'; id: number; error: string };

const port = parentPort;
if (port) {
  const loaded = loadPrinterFont();
  port.postMessage({
    kind: 'font',
    name: loaded.font.name,
    cjk: loaded.font.cjk,
    ...(loaded.warning ? { warning: loaded.warning } : {}),
  } satisfies RenderReply);
  port.on('message', (req: RenderRequest) => {
    try {
      const result = rasterizeReceipt(req.input, req.widthDots, loaded.font);
      port.postMessage({ kind: 'done', id: req.id, result } satisfies RenderReply);
    } catch (err) {
      port.postMessage({
        kind: 'failed',
        id: req.id,
        error: err instanceof Error ? err.message : String(err),
      } satisfies RenderReply);
    }
  });
}
