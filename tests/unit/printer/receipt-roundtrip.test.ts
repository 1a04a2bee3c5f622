import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { yuan } from '../../../src/core/receipt.js';
import { saleReceipt } from '../../../src/core/receipt-templates.js';
import { decodeEscPos, type EscPosCommand } from '../../../src/drivers/printer/escpos-decoder.js';
import { Gb18030Codec } from '../../../src/drivers/printer/gb18030.js';
import { rasterFromPng } from '../../../src/drivers/printer/raster.js';
import { encodeReceipt } from '../../../src/drivers/printer/receipt-encoder.js';
import { displayWidth } from '../../../src/drivers/printer/text-width.js';
import { sampleSale, ZH } from './helpers/sample-receipts.js';

const codec = new Gb18030Codec();

/** The printed lines as a person reads them: text between line feeds. */
function printedLines(cmds: EscPosCommand[]): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const c of cmds) {
    if (c.op === 'text') cur += c.text;
    if (c.op === 'lf') {
      lines.push(cur);
      cur = '';
    }
  }
  return lines;
}

function logoPng(): Buffer {
  const png = new PNG({ width: 200, height: 60 });
  for (let y = 0; y < 60; y++) {
    for (let x = 0; x < 200; x++) {
      const i = (y * 200 + x) * 4;
      const v = Math.round((x / 199) * 255); // a grey ramp: dithering must make a pattern of it
      png.data[i] = v;
      png.data[i + 1] = v;
      png.data[i + 2] = v;
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

describe('a full sale receipt, encoded and decoded back', () => {
  it('round-trips: ESC @ first, FS & before the first CJK, every line at most 48 columns, amounts right-aligned', () => {
    const sale = sampleSale(30);
    const logo = rasterFromPng(logoPng(), 384);
    const doc = saleReceipt(sale, { ...ZH, merchant: { ...ZH.merchant, logo: true } });
    const bytes = encodeReceipt(doc, { paperWidth: 80, codec, logo });
    expect([bytes[0], bytes[1]]).toEqual([0x1b, 0x40]);
    const cmds = decodeEscPos(bytes);
    expect(cmds.filter((c) => c.op === 'junk')).toEqual([]);
    // The drawer opens first (cash tender), then Chinese mode before any CJK text.
    expect(cmds[1]).toMatchObject({ op: 'drawer', pin: 2, onMs: 50, offMs: 500 });
    const firstCjk = cmds.findIndex((c) => c.op === 'text' && /[^\x00-\x7f]/.test(c.text));
    const chinese = cmds.findIndex((c) => c.op === 'chinese' && c.on);
    expect(chinese).toBeGreaterThan(0);
    expect(chinese).toBeLessThan(firstCjk);
    // The logo comes back dot for dot.
    const raster = cmds.find((c) => c.op === 'raster');
    expect(raster).toMatchObject({ widthBytes: logo.widthBytes, height: logo.height });
    expect(raster?.op === 'raster' && Buffer.from(raster.data).equals(Buffer.from(logo.data))).toBe(true);
    // Text: merchant, items, totals; every line fits the paper.
    const lines = printedLines(cmds);
    expect(lines).toContain('静安便利店');
    expect(lines).toContain('单号: T01-20261125-000123');
    expect(lines).toContain('时间: 2026-11-25 09:30:00');
    const first = lines.find((l) => l.startsWith('可口可乐 330ml'))!;
    expect(first).toMatch(/^可口可乐 330ml +￥3\.50$/);
    expect(displayWidth(first)).toBe(48);
    const total = lines.find((l) => l.startsWith('合计'))!;
    const amount = yuan(sale.totals.total);
    expect(total).toBe(`合计${' '.repeat(48 - 4 - displayWidth(amount))}${amount}`);
    expect(lines).toContain(`找零${' '.repeat(48 - 4 - 6)}￥0.80`);
    for (const l of lines) expect(displayWidth(l)).toBeLessThanOrEqual(48);
    // The QR carries the receipt URL with its byte length.
    const store = cmds.find((c) => c.op === 'qr-store');
    expect(store?.op === 'qr-store' && Buffer.from(store.data).toString()).toBe(sale.qr);
    expect(cmds.at(-1)).toMatchObject({ op: 'cut', partial: true });
  });

  it('a reprint carries the 重打印 mark at the top and the bottom, and does not open the drawer', () => {
    const doc = saleReceipt(sampleSale(3), { ...ZH, reprint: true });
    const cmds = decodeEscPos(encodeReceipt(doc, { paperWidth: 58, codec }));
    const lines = printedLines(cmds);
    const marks = lines.filter((l) => l === '** 重打印 **');
    expect(marks).toHaveLength(2);
    expect(lines.indexOf('** 重打印 **')).toBeLessThan(lines.indexOf('销售小票'));
    expect(cmds.some((c) => c.op === 'drawer')).toBe(false);
    for (const l of lines) expect(displayWidth(l)).toBeLessThanOrEqual(32);
  });
});
