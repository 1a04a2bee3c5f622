import { mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPrinterFont } from '../../../src/drivers/sim/printer-font.js';
import { rasterizeReceipt } from '../../../src/drivers/sim/rasterize.js';
import {
  pruneReceiptFiles,
  receiptNumberOf,
  writeReceiptFile,
} from '../../../src/drivers/sim/receipt-files.js';

const dir = () => mkdtempSync(join(tmpdir(), 'posd-receipts-'));
const AT = new Date('2026-12-05T08:30:12.123Z');

describe('receipt image files', () => {
  it('are named by time and the number printed on them (sale, refund, order)', () => {
    expect(receiptNumberOf(['示例咖啡', '单号: D1-000042', '时间: 2026-12-05 16:30'])).toBe('D1-000042');
    expect(receiptNumberOf(['退款单号: D1-000043', '原单号: D1-000042'])).toBe('D1-000043');
    expect(receiptNumberOf(['Receipt: D1-000044'])).toBe('D1-000044');
    expect(receiptNumberOf(['订单号: MT/88 a'])).toBe('MT_88_a');
    expect(receiptNumberOf(['打印测试页', '设备: D1'])).toBeUndefined();
  });

  it('never overwrite one another, even at the same moment with the same number', async () => {
    const d = dir();
    const a = await writeReceiptFile(d, Buffer.from('first'), ['单号: D1-000001'], AT);
    const b = await writeReceiptFile(d, Buffer.from('second'), ['单号: D1-000001'], AT);
    const c = await writeReceiptFile(d, Buffer.from('page'), ['打印测试页'], AT);
    expect(a).toBe(join(d, 'receipt-20261205-083012-123-D1-000001.png'));
    expect(b).toBe(join(d, 'receipt-20261205-083012-123-D1-000001-2.png'));
    expect(c).toBe(join(d, 'receipt-20261205-083012-123.png'));
    expect(readFileSync(a, 'utf8')).toBe('first');
    expect(readFileSync(b, 'utf8')).toBe('second');
  });

  it('are deleted after the retention period, and nothing else is', async () => {
    const d = dir();
    const old = await writeReceiptFile(d, Buffer.from('old'), [], new Date('2026-08-01T00:00:00Z'));
    const recent = await writeReceiptFile(d, Buffer.from('new'), [], AT);
    writeFileSync(join(d, 'notes.txt'), 'not a receipt');
    const now = new Date('2026-12-05T09:00:00Z');
    const longAgo = new Date('2026-08-01T00:00:00Z');
    utimesSync(old, longAgo, longAgo);
    utimesSync(join(d, 'notes.txt'), longAgo, longAgo);
    expect(await pruneReceiptFiles(d, 90, now)).toBe(1);
    expect(readdirSync(d).sort()).toEqual([recent.slice(d.length + 1), 'notes.txt'].sort());
    expect(await pruneReceiptFiles(join(d, 'absent'), 90, now)).toBe(0);
  });
});

describe('without a CJK font', () => {
  it('falls back with a warning naming the package, and still draws the receipt', () => {
    const { font, warning } = loadPrinterFont([{ path: '/nonexistent/font.ttc', face: 0 }]);
    expect(warning).toContain('fonts-wqy-zenhei');
    expect(font.cjk).toBe(false);
    const bytes = new Uint8Array([0x1b, 0x40, 0x1c, 0x26, 0xc4, 0xc3, 0x0a, 0x41, 0x0a, 0x1d, 0x56, 0x00]);
    const out = rasterizeReceipt({ bytes }, 384, font);
    expect(out.lines).toEqual(['拿', 'A']);
    expect(out.png.subarray(1, 4).toString()).toBe('PNG');
  });
});
