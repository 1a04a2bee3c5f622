import { Adapter } from '@node-escpos/adapter';
import { Printer as EscposPrinter } from '@node-escpos/core';
import { CharacterSet, PrinterTypes, ThermalPrinter } from 'node-thermal-printer';
import type { ReceiptBlock, ReceiptDocument, ReceiptTextStyle } from '../src/core/receipt.js';
import { saleReceipt } from '../src/core/receipt-templates.js';
import { Gb18030Codec } from '../src/drivers/printer/gb18030.js';
import { encodeReceipt } from '../src/drivers/printer/receipt-encoder.js';
import { sampleSale, ZH } from '../tests/unit/printer/helpers/sample-receipts.js';
import { fmt, nowMs } from './stats.js';

/**
 * Encode time of a typical receipt: 30 Chinese item lines (qty, price, two line discounts),
 * merchant header, receipt meta, totals, two tenders, a QR of a URL, cut, drawer kick; 80 mm paper.
 * The three encoders get the same ReceiptDocument (our template's output), each through its own
 * API: text with alignment, bold and size; two-column rows; dividers; native QR; feed; cut; drawer.
 * Timed per receipt, in rounds that alternate the libraries so none gets a quieter moment.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PER_ROUND = Number(process.env.BENCH_RECEIPTS ?? 4000);
/** A library whose round takes longer than this stops early (node-thermal-printer is ~ms a receipt). */
const ROUND_BUDGET_MS = Number(process.env.BENCH_ROUND_MS ?? 1500);
const COLUMNS = 48;

const codec = new Gb18030Codec();
const sale = sampleSale(30);
const document = saleReceipt(sale, ZH);

/** A node-escpos adapter that keeps the bytes in memory, as the tests of that library do. */
class MemoryAdapter extends Adapter<[]> {
  last: Buffer = Buffer.alloc(0);
  open(callback?: (error: Error | null) => void): this {
    callback?.(null);
    return this;
  }
  write(data: Buffer | string, callback?: (error: Error | null) => void): this {
    this.last = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    callback?.(null);
    return this;
  }
  close(callback?: (error: Error | null) => void): this {
    callback?.(null);
    return this;
  }
  read(): void {}
}

const ESCPOS_ALIGN = { left: 'lt', center: 'ct', right: 'rt' } as const;
const SIZES = { normal: [1, 1], wide: [2, 1], tall: [1, 2], double: [2, 2] } as const;
const QR_SIZE = { small: 4, medium: 6, large: 8 } as const;

const escposAdapter = new MemoryAdapter();
const escpos = new EscposPrinter(escposAdapter, { encoding: 'GB18030', width: COLUMNS });

/** The document through @node-escpos/core, its bytes taken by the in-memory adapter on flush. */
function encodeEscpos(doc: ReceiptDocument): Buffer {
  const p = escpos;
  const apply = (s: ReceiptTextStyle | undefined) => {
    const [w, h] = SIZES[s?.size ?? 'normal'];
    p.align(ESCPOS_ALIGN[s?.align ?? 'left'])
      .style(s?.bold ? 'b' : 'normal')
      .size(w, h);
  };
  p.hardware('init').raw(Buffer.from([0x1c, 0x26])); // FS &: it never switches Chinese mode on itself
  for (const b of doc.blocks) escposBlock(p, b, apply);
  // flush() hands the buffer to the adapter synchronously (inside its promise executor).
  void p.flush();
  return escposAdapter.last;
}

function escposBlock(
  p: EscposPrinter<[]>,
  b: ReceiptBlock,
  apply: (s: ReceiptTextStyle | undefined) => void,
): void {
  switch (b.type) {
    case 'text':
      apply(b.style);
      p.text(b.text);
      break;
    case 'row':
      apply(b.style);
      p.tableCustom([
        { text: b.left, align: 'left', width: 0.65 },
        { text: b.right, align: 'right', width: 0.35 },
      ]);
      break;
    case 'divider':
      apply(undefined);
      p.drawLine(b.char ?? '-');
      break;
    case 'qr':
      apply({ align: 'center' });
      p.qrcode(b.data, undefined, 'm', QR_SIZE[b.size ?? 'medium']);
      break;
    case 'feed':
      p.feed(b.lines);
      break;
    case 'cut':
      p.cut(true, 3);
      break;
    case 'drawer':
      p.cashdraw(2);
      break;
    default:
      break;
  }
}

const thermal = new ThermalPrinter({
  type: PrinterTypes.EPSON,
  interface: '/dev/null', // never opened: the job is taken with getBuffer(), nothing is executed
  width: COLUMNS,
  characterSet: CharacterSet.CHINA,
});

/** The document through node-thermal-printer; clear() per receipt, bytes from getBuffer(). */
function encodeThermal(doc: ReceiptDocument): Buffer {
  const p = thermal;
  p.clear();
  const apply = (s: ReceiptTextStyle | undefined) => {
    const a = s?.align ?? 'left';
    if (a === 'center') p.alignCenter();
    else if (a === 'right') p.alignRight();
    else p.alignLeft();
    p.bold(s?.bold ?? false);
    const size = s?.size ?? 'normal';
    if (size === 'double') p.setTextQuadArea();
    else if (size === 'tall') p.setTextDoubleHeight();
    else if (size === 'wide') p.setTextDoubleWidth();
    else p.setTextNormal();
  };
  for (const b of doc.blocks) {
    switch (b.type) {
      case 'text':
        apply(b.style);
        p.println(b.text);
        break;
      case 'row':
        apply(b.style);
        p.leftRight(b.left, b.right);
        break;
      case 'divider':
        apply(undefined);
        p.drawLine(b.char ?? '-');
        break;
      case 'qr':
        apply({ align: 'center' });
        p.printQR(b.data, { cellSize: QR_SIZE[b.size ?? 'medium'], correction: 'M', model: 2 });
        break;
      case 'feed':
        for (let i = 0; i < b.lines; i++) p.newLine();
        break;
      case 'cut':
        p.partialCut();
        break;
      case 'drawer':
        p.openCashDrawer();
        break;
      default:
        break;
    }
  }
  return p.getBuffer();
}

interface Contender {
  name: string;
  run: () => Uint8Array;
  samples: number[];
  bytes: number;
}

const contenders: Contender[] = [
  {
    name: 'posd: template + encode',
    run: () => encodeReceipt(saleReceipt(sale, ZH), { paperWidth: 80, codec }),
    samples: [],
    bytes: 0,
  },
  {
    name: 'posd: encode (same document)',
    run: () => encodeReceipt(document, { paperWidth: 80, codec }),
    samples: [],
    bytes: 0,
  },
  { name: '@node-escpos/core 0.6.0', run: () => encodeEscpos(document), samples: [], bytes: 0 },
  { name: 'node-thermal-printer 4.6.1', run: () => encodeThermal(document), samples: [], bytes: 0 },
];

function round(c: Contender, count: number, keep: boolean): void {
  const start = nowMs();
  for (let i = 0; i < count; i++) {
    const t0 = nowMs();
    const out = c.run();
    const t1 = nowMs();
    if (keep) c.samples.push((t1 - t0) * 1000);
    c.bytes = out.length;
    if (t1 - start > ROUND_BUDGET_MS) break;
  }
}

function stats(samples: number[]): { n: number; mean: number; p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  const mean = sorted.reduce((s, v) => s + v, 0) / Math.max(1, sorted.length);
  return { n: sorted.length, mean, p50: at(50), p99: at(99) };
}

export async function benchReceiptEncode(): Promise<void> {
  // Warm-up: every path JIT-compiled and the GB18030 cache filled before anything is kept.
  for (const c of contenders) round(c, Math.min(PER_ROUND, 2000), false);
  for (let r = 0; r < ROUNDS; r++) for (const c of contenders) round(c, PER_ROUND, true);
  const s = contenders.map((c) => ({ c, s: stats(c.samples) }));
  console.log(
    `receipt-encode (${sale.lines.length} item lines, zh-CN, 80 mm, native QR; ${ROUNDS} rounds × ≤${PER_ROUND} receipts, µs per receipt)`,
  );
  for (const { c, s: st } of s) {
    console.log(
      `  ${c.name.padEnd(30)} mean ${fmt(st.mean, 1).padStart(8)}  p50 ${fmt(st.p50, 1).padStart(8)}  p99 ${fmt(st.p99, 1).padStart(8)}  (n=${st.n}, ${c.bytes} bytes)`,
    );
  }
  const [full, ours, escposS, thermalS] = s.map((x) => x.s) as [
    ReturnType<typeof stats>,
    ReturnType<typeof stats>,
    ReturnType<typeof stats>,
    ReturnType<typeof stats>,
  ];
  const ratio = (a: number, b: number) => fmt(a / b, 3);
  console.log(
    `  ratio ours/@node-escpos/core    encode ${ratio(ours.mean, escposS.mean)} (p50 ${ratio(ours.p50, escposS.p50)}), template+encode ${ratio(full.mean, escposS.mean)}`,
  );
  console.log(
    `  ratio ours/node-thermal-printer encode ${ratio(ours.mean, thermalS.mean)} (p50 ${ratio(ours.p50, thermalS.p50)}), template+encode ${ratio(full.mean, thermalS.mean)}`,
  );
  console.log(
    `  goal ≤ 40 µs per receipt and faster than both: template+encode p50 ${fmt(full.p50, 1)} µs, mean ${fmt(full.mean, 1)} µs`,
  );
}
