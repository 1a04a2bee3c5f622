import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { EventBus } from '../src/bus.js';
import { saleReceipt } from '../src/core/receipt-templates.js';
import { decodeEscPos } from '../src/drivers/printer/escpos-decoder.js';
import { PAPER } from '../src/drivers/printer/escpos-encoder.js';
import { Gb18030Codec } from '../src/drivers/printer/gb18030.js';
import { rasterToPng } from '../src/drivers/printer/raster.js';
import { encodeReceipt } from '../src/drivers/printer/receipt-encoder.js';
import { loadPrinterFont } from '../src/drivers/sim/printer-font.js';
import { rasterToPng1 } from '../src/drivers/sim/receipt-png.js';
import { ReceiptRasterizer } from '../src/drivers/sim/receipt-rasterizer.js';
import { ReceiptRenderer } from '../src/drivers/sim/receipt-renderer.js';
import { createRootLogger } from '../src/log.js';
import { openDatabase } from '../src/offline/db.js';
import { Ledger } from '../src/offline/ledger.js';
import { SalesStore } from '../src/offline/sales-store.js';
import { ShiftStore } from '../src/offline/shift-store.js';
import { SaleService } from '../src/services/sale-service.js';
import { ShiftService } from '../src/services/shift-service.js';
import { sampleSale, ZH } from '../tests/unit/printer/helpers/sample-receipts.js';
import { fmt, nowMs, summarize } from './stats.js';

/*
 * Issue 16: how long a receipt image takes, and what a burst of them does to sales. Receipts: the
 * 30-line sale of `receipt-encode` (80 mm, logo-less, QR) and a one-line latte. Sales: the core
 * sale commit of `sale-commit`, one every 20 ms on the event loop, timed from when it was due (so
 * a blocked loop counts), alone and beside a burst of 50 receipt images drawn on the worker thread
 * or, for comparison, on the event loop itself.
 */

const DOTS = PAPER[80].dots;
const codec = new Gb18030Codec();
const big = encodeReceipt(saleReceipt(sampleSale(30), ZH), { paperWidth: 80, codec });
const small = encodeReceipt(
  saleReceipt({ ...sampleSale(1), lines: [{ name: '拿铁咖啡', qty: 1, unitPrice: 2800 }] }, ZH),
  { paperWidth: 80, codec },
);

function renderTimes(bytes: Uint8Array, n: number) {
  const { font } = loadPrinterFont();
  const draw: number[] = [];
  const png1: number[] = [];
  const png8: number[] = [];
  let size1 = 0;
  let size8 = 0;
  for (let i = 0; i < n + 20; i++) {
    const t0 = nowMs();
    const renderer = new ReceiptRenderer(DOTS, font);
    for (const cmd of decodeEscPos(bytes)) renderer.apply(cmd);
    const { raster } = renderer.finish();
    const t1 = nowMs();
    size1 = rasterToPng1(raster).length;
    const t2 = nowMs();
    if (i % 5 === 0) {
      size8 = rasterToPng(raster).length; // the old 8-bit pngjs path, sampled
      png8.push(nowMs() - t2);
    }
    if (i < 20) continue; // warm-up: font glyphs cached, code optimised
    draw.push(t1 - t0);
    png1.push(t2 - t1);
  }
  const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
  return { draw: summarize(draw), drawMean: mean(draw), png1: mean(png1), png8: mean(png8), size1, size8 };
}

function saleService() {
  const dir = mkdtempSync(join(tmpdir(), 'posd-bench-render-'));
  const log = createRootLogger('silent');
  const db = openDatabase({ file: join(dir, 'sales.db'), log });
  const ledger = new Ledger({ db, dir });
  const bus = new EventBus();
  const shifts = new ShiftService({ ledger, store: new ShiftStore(db), bus });
  return new SaleService({ ledger, store: new SalesStore(db), shifts, bus, deviceId: 'B1' });
}

const SALE = {
  lines: [{ sku: 'LATTE', name: '拿铁咖啡', qty: 1, unitPrice: 2800 }],
  tenders: [{ method: 'cash' as const, amount: 3000 }],
};

/** 100 sales, one due every 20 ms; latency from when each was due to its commit. */
async function paced(sales: SaleService, burst?: () => Promise<unknown>) {
  const latencies: number[] = [];
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const start = nowMs();
  const images = burst?.();
  for (let i = 0; i < 100; i++) {
    const due = start + i * 20;
    const wait = due - nowMs();
    await new Promise((r) => setTimeout(r, Math.max(0, wait)));
    sales.createSale(SALE);
    latencies.push(nowMs() - due);
  }
  await images;
  lag.disable();
  // The histogram holds the 5 ms sampling interval plus the lag.
  return {
    ...summarize(latencies),
    lagP99: Math.max(0, lag.percentile(99) / 1e6 - 5),
    lagMax: Math.max(0, lag.max / 1e6 - 5),
  };
}

export async function benchReceiptRender(): Promise<void> {
  console.log('\n## receipt-render (issue 16)');
  for (const [name, bytes] of [
    ['30-line sale', big],
    ['1-line sale', small],
  ] as const) {
    const r = renderTimes(bytes, 200);
    console.log(
      `${name}: decode + draw mean ${fmt(r.drawMean)} ms (p50 ${fmt(r.draw.p50)}, p99 ${fmt(r.draw.p99)}); ` +
        `PNG 1-bit ${fmt(r.png1)} ms (${r.size1} B), pngjs 8-bit ${fmt(r.png8)} ms (${r.size8} B)`,
    );
  }
  const log = createRootLogger('silent');
  const sales = saleService();
  for (let i = 0; i < 200; i++) sales.createSale(SALE); // warm-up
  const threaded = new ReceiptRasterizer({ log });
  const inline = new ReceiptRasterizer({ log, threaded: false });
  await threaded.render({ bytes: big }, DOTS); // thread started, font loaded
  await inline.render({ bytes: big }, DOTS);
  const burst = (r: ReceiptRasterizer) => () =>
    Promise.all(Array.from({ length: 50 }, () => r.render({ bytes: big }, DOTS)));
  const t0 = nowMs();
  await burst(threaded)();
  const burstMs = nowMs() - t0;
  console.log(`worker thread: 50 × 30-line receipts in ${fmt(burstMs, 0)} ms (${fmt(burstMs / 50)} ms each)`);
  for (const [name, b] of [
    ['sales alone', undefined],
    ['sales + 50 receipt images on the worker thread', burst(threaded)],
    ['sales + 50 receipt images on the event loop', burst(inline)],
  ] as const) {
    const s = await paced(sales, b);
    console.log(
      `${name}: sale latency p50 ${fmt(s.p50)} ms, p99 ${fmt(s.p99)} ms, max ${fmt(s.max)} ms; ` +
        `event-loop lag p99 ${fmt(s.lagP99)} ms, max ${fmt(s.lagMax)} ms`,
    );
  }
  await threaded.close();
  await inline.close();
}
