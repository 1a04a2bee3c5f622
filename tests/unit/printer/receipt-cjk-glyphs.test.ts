import { describe, expect, it } from 'vitest';
import type { ReceiptDocument } from '../../../src/core/receipt.js';
import {
  kitchenTicket,
  refundReceipt,
  saleReceipt,
  shiftReport,
  type TemplateOptions,
} from '../../../src/core/receipt-templates.js';
import { decodeEscPos } from '../../../src/drivers/printer/escpos-decoder.js';
import { PAPER } from '../../../src/drivers/printer/escpos-encoder.js';
import { decodeGb18030, Gb18030Codec } from '../../../src/drivers/printer/gb18030.js';
import { getDot, type Raster } from '../../../src/drivers/printer/raster.js';
import { encodeReceipt } from '../../../src/drivers/printer/receipt-encoder.js';
import { boxCell, CELL_HEIGHT, loadPrinterFont } from '../../../src/drivers/sim/printer-font.js';
import { ReceiptRenderer } from '../../../src/drivers/sim/receipt-renderer.js';

/**
 * Issue 16: the simulated printer's paper shows the Chinese text, not boxes. Each CJK character is
 * cut out of the drawn receipt at the place the renderer put it: it must have ink, must not be the
 * box a printer prints for a missing glyph, and different characters must look different.
 */

const { font, warning } = loadPrinterFont();

const ZH: TemplateOptions = {
  locale: 'zh-CN',
  merchant: { name: '示例咖啡 Demo Coffee', address: '上海市 示例路 1 号', footer: '谢谢惠顾 Thank you' },
};

const DOCS: Record<string, ReceiptDocument> = {
  sale: saleReceipt(
    {
      receiptNo: 'D1-000042',
      at: '2026-12-05T01:30:00.000Z',
      cashier: '王小明',
      terminal: 'D1',
      lines: [
        { name: '拿铁咖啡', qty: 1, unitPrice: 2800 },
        { name: '蓝莓松饼', qty: 2, unitPrice: 1500, discount: 200 },
      ],
      totals: { subtotal: 5800, discount: 200, total: 5600, paid: 6000, change: 400 },
      payments: [{ method: 'cash', amount: 6000 }],
      qr: 'https://e.example.cn/r/D1-000042',
    },
    ZH,
  ),
  refund: refundReceipt(
    {
      refundNo: 'D1-000043',
      originalReceiptNo: 'D1-000042',
      at: '2026-12-05T01:40:00.000Z',
      terminal: 'D1',
      lines: [{ name: '拿铁咖啡', qty: 1, unitPrice: 2800, amount: 2800 }],
      total: 2800,
      payments: [{ method: 'cash', amount: 2800 }],
      reason: '顾客不满意',
    },
    ZH,
  ),
  kitchen: kitchenTicket(
    {
      orderNo: 'MT-88',
      source: '美团外卖',
      pickupCode: '17',
      at: '2026-12-05T01:45:00.000Z',
      lines: [{ name: '卡布奇诺', qty: 2, options: ['大杯', '少糖'], note: '去冰' }],
      note: '请快一点',
    },
    ZH,
  ),
  'Z report': shiftReport(
    {
      kind: 'Z',
      shiftId: 'S-7',
      openedAt: '2026-12-05T00:00:00.000Z',
      closedAt: '2026-12-05T10:00:00.000Z',
      terminal: 'D1',
      openingCash: 10000,
      byTender: { cash: 5600, wechat: 2200 },
      sales: { count: 2, amount: 7800 },
      refunds: { count: 1, amount: 2800 },
      voids: { count: 0, amount: 0 },
      discounts: 200,
      recharges: { count: 0, amount: 0 },
      expectedCash: 12800,
      countedCash: 12800,
      pendingPayments: 0,
    },
    ZH,
  ),
};

function render(doc: ReceiptDocument) {
  const bytes = encodeReceipt(doc, { paperWidth: 80, codec: new Gb18030Codec() });
  const renderer = new ReceiptRenderer(PAPER[80].dots, font);
  for (const cmd of decodeEscPos(bytes)) renderer.apply(cmd);
  return renderer.finish();
}

/** The dots of one character cell, scaled back to one dot per font dot (double size sampled). */
function cutOut(r: Raster, x: number, y: number, w: number, h: number): string {
  let bits = '';
  for (let cy = 0; cy < CELL_HEIGHT; cy++) {
    for (let cx = 0; cx < 24; cx++) bits += getDot(r, x + cx * w, y + cy * h) ? '1' : '0';
  }
  return bits;
}

const BOX = (() => {
  const box = boxCell(24);
  let bits = '';
  for (let i = 0; i < box.dots.length; i++) bits += box.dots[i] ? '1' : '0';
  return bits;
})();

const isCjk = (ch: string) => (ch.codePointAt(0) ?? 0) >= 0x2e80;

describe('CJK text on the simulated paper (issue 16)', () => {
  it('has a CJK font', () => {
    expect(warning).toBeUndefined();
    expect(font.cjk).toBe(true);
  });

  for (const [name, doc] of Object.entries(DOCS)) {
    it(`${name}: every CJK character is drawn, none is the box, different characters differ`, () => {
      const out = render(doc);
      const cells = out.cells.filter((c) => isCjk(c.char));
      expect(cells.length).toBeGreaterThan(10);
      const seen = new Map<string, string>(); // style + glyph dots → character
      const byChar = new Map<string, string>(); // style + character → glyph dots
      for (const c of cells) {
        const dots = cutOut(out.raster, c.x, c.y, c.w, c.h);
        expect(dots.includes('1'), `${c.char} has ink`).toBe(true);
        expect(dots === BOX, `${c.char} is not the missing-glyph box`).toBe(false);
        const style = `${c.w}x${c.h}${c.bold ? 'b' : ''}`;
        const other = seen.get(`${style}:${dots}`);
        if (other !== undefined) expect(other, `${c.char} and ${other} look the same`).toBe(c.char);
        seen.set(`${style}:${dots}`, c.char);
        const before = byChar.get(`${style}:${c.char}`);
        if (before !== undefined) expect(dots, `${c.char} drawn the same each time`).toBe(before);
        byChar.set(`${style}:${c.char}`, dots);
      }
      expect(new Set(cells.map((c) => c.char)).size).toBeGreaterThan(8);
    });
  }

  it('拿 and 铁 on the sale receipt differ, and neither is the box or blank', () => {
    const out = render(DOCS.sale!);
    const cell = (ch: string) => {
      const c = out.cells.find((x) => x.char === ch)!;
      return cutOut(out.raster, c.x, c.y, c.w, c.h);
    };
    const na = cell('拿');
    const tie = cell('铁');
    expect(na).not.toBe(tie);
    for (const g of [na, tie]) {
      expect(g).not.toBe(BOX);
      expect(g.includes('1')).toBe(true);
    }
  });
});

describe('the printer font covers what the encoder sends (GB18030)', () => {
  it('every character of the two-byte GB18030 area and CJK Extension A has a glyph', () => {
    const missing: string[] = [];
    const check = (cp: number) => {
      if (!font.has(cp)) missing.push(`U+${cp.toString(16).toUpperCase()}`);
    };
    const two = Buffer.alloc(2);
    for (let b1 = 0x81; b1 <= 0xfe; b1++) {
      for (let b2 = 0x40; b2 <= 0xfe; b2++) {
        if (b2 === 0x7f) continue;
        two[0] = b1;
        two[1] = b2;
        const ch = decodeGb18030(two);
        const cp = ch.codePointAt(0) ?? 0;
        // Private use (user-defined areas) and undefined codes: no printer has a glyph.
        if (ch.length !== 1 || cp === 0xfffd || (cp >= 0xe000 && cp <= 0xf8ff)) continue;
        check(cp);
      }
    }
    for (let cp = 0x3400; cp <= 0x4db5; cp++) check(cp); // four-byte, in every GB18030 printer
    // Zen Hei lacks these 27; Micro Hei draws 13 of them; the other 14 print as the box
    // (docs/decisions/0003-receipt-font.md): ideographic description characters and the like.
    const KNOWN = new Set(
      [
        '1E3F',
        '1F9',
        '303E',
        ...Array.from({ length: 12 }, (_, i) => (0x2ff0 + i).toString(16).toUpperCase()),
      ]
        .concat([
          'FA0E',
          'FA0F',
          'FA11',
          'FA13',
          'FA14',
          'FA1F',
          'FA21',
          'FA23',
          'FA24',
          'FA27',
          'FA28',
          'FA29',
        ])
        .map((h) => `U+${h}`),
    );
    expect(missing.filter((m) => !KNOWN.has(m))).toEqual([]);
    expect(missing.length).toBeLessThanOrEqual(14);
  });
});
