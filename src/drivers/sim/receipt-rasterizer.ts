import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../log.js';
import type { PrinterFont } from './printer-font.js';
import type { RasterInput, RasterizedReceipt } from './rasterize.js';
import type { RenderReply, RenderRequest } from './render-thread.js';

export type { RasterInput, RasterizedReceipt } from './rasterize.js';

interface Pending {
  resolve: (r: RasterizedReceipt) => void;
  reject: (e: Error) => void;
}

const THREAD_URL = new URL('./render-thread.js', import.meta.url);

/**
 * Renders receipts to PNG on a worker thread, so a burst of receipts never holds up the event loop
 * that takes sales. One thread, requests in order; started on first use. Where the compiled thread
 * file is absent (the TypeScript sources run by the test runner) it renders on the calling thread.
 */
export class ReceiptRasterizer {
  private worker: Worker | undefined;
  private inlineFont: PrinterFont | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private fontReported = false;
  private closed = false;

  constructor(private readonly o: { log: Logger; threaded?: boolean }) {}

  /** Whether rendering happens on a worker thread. */
  get threaded(): boolean {
    return (this.o.threaded ?? true) && existsSync(fileURLToPath(THREAD_URL));
  }

  render(input: RasterInput, widthDots: number): Promise<RasterizedReceipt> {
    if (this.closed) return Promise.reject(new Error('receipt renderer closed'));
    if (!this.threaded) return Promise.resolve().then(() => this.renderInline(input, widthDots));
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref(); // a render in flight keeps the process alive (print-test --png)
      worker.postMessage({ id, input, widthDots } satisfies RenderRequest);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new Error('receipt renderer closed'));
    if (worker) await worker.terminate();
  }

  /** On the calling thread: the renderer and its font loaded only then (off the daemon's start). */
  private async renderInline(input: RasterInput, widthDots: number): Promise<RasterizedReceipt> {
    const [{ loadPrinterFont }, { rasterizeReceipt }] = await Promise.all([
      import('./printer-font.js'),
      import('./rasterize.js'),
    ]);
    if (!this.inlineFont) {
      const loaded = loadPrinterFont();
      this.reportFont(loaded.font.name, loaded.warning);
      this.inlineFont = loaded.font;
    }
    return rasterizeReceipt(input, widthDots, this.inlineFont);
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(THREAD_URL);
    worker.unref();
    worker.on('message', (msg: RenderReply) => {
      if (msg.kind === 'font') return this.reportFont(msg.name, msg.warning);
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (this.pending.size === 0) worker.unref();
      if (!p) return;
      if (msg.kind === 'failed') return p.reject(new Error(msg.error));
      const png = msg.result.png as Uint8Array;
      p.resolve({ ...msg.result, png: Buffer.from(png.buffer, png.byteOffset, png.byteLength) });
    });
    worker.on('error', (err) => {
      this.o.log.error({ err: err.message }, 'receipt renderer thread failed; restarting on next receipt');
      this.failAll(err);
    });
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new Error('receipt renderer thread exited'));
    });
    this.worker = worker;
    return worker;
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private reportFont(name: string, warning: string | undefined): void {
    if (this.fontReported) return;
    this.fontReported = true;
    if (warning) this.o.log.warn({ font: name }, `receipt images: ${warning}; CJK text is drawn as boxes`);
    else this.o.log.info({ font: name }, 'receipt images: printer font loaded');
  }
}
