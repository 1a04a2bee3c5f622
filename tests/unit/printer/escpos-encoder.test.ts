import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { formatAmount as formatFen, yuan as formatYuan } from '../../../src/core/receipt.js';
import { decodeEscPos } from '../../../src/drivers/printer/escpos-decoder.js';
import { EscPosEncoder, type PaperWidth } from '../../../src/drivers/printer/escpos-encoder.js';
import { Gb18030Codec } from '../../../src/drivers/printer/gb18030.js';
import { displayWidth, wrapToWidth } from '../../../src/drivers/printer/text-width.js';

const codec = new Gb18030Codec();
const enc = (paperWidth: PaperWidth = 80, qr: 'native' | 'raster' = 'native') =>
  new EscPosEncoder({ paperWidth, codec, qr });
const gb = (s: string) => [...iconv.encode(s, 'gb18030')];
const ascii = (s: string) => [...Buffer.from(s, 'ascii')];
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('EscPosEncoder', () => {
  it('starts every job with ESC @ and sends FS & once, before the first CJK text', () => {
    const bytes = enc().line('Total').line('合计').line('谢谢').encode();
    expect([...bytes]).toEqual([
      0x1b,
      0x40,
      ...ascii('Total'),
      0x0a,
      0x1c,
      0x26,
      ...gb('合计'),
      0x0a,
      ...gb('谢谢'),
      0x0a,
    ]);
  });

  it('sends FS & again after a re-initialise inside the job', () => {
    const bytes = enc().line('店').initialize().line('店').encode();
    expect(hex(bytes)).toBe(
      `1b401c26${hex(Uint8Array.from(gb('店')))}0a1b401c26${hex(Uint8Array.from(gb('店')))}0a`,
    );
  });

  it('encodes the yuan sign as full-width ￥ (A3A4), and formats fen without floats', () => {
    expect(gb(formatYuan(3200))).toEqual([0xa3, 0xa4, ...ascii('32.00')]);
    expect(formatFen(5)).toBe('0.05');
    expect(formatFen(-120)).toBe('-1.20');
    expect(formatYuan(-120)).toBe('-￥1.20');
    expect(formatFen(123456789)).toBe('1234567.89');
  });

  it('counts CJK as two columns: a row fills exactly 48 columns on 80 mm and 32 on 58 mm', () => {
    for (const [paper, cols] of [
      [80, 48],
      [58, 32],
    ] as const) {
      const bytes = enc(paper).row('可口可乐 x2', '￥6.00').encode();
      // ESC @, FS &, left, padding, right, LF
      const left = gb('可口可乐 x2');
      const right = gb('￥6.00');
      const pad = cols - displayWidth('可口可乐 x2') - displayWidth('￥6.00');
      expect([...bytes]).toEqual([0x1b, 0x40, 0x1c, 0x26, ...left, ...Array(pad).fill(0x20), ...right, 0x0a]);
      expect(displayWidth('可口可乐 x2') + pad + displayWidth('￥6.00')).toBe(cols);
    }
  });

  it('wraps a long CJK name so the amount stays whole on the last line (58 mm)', () => {
    const name = '特级安溪铁观音礼盒装五百克赠品茶杯一套';
    const cmds = decodeEscPos(enc(58).row(name, '￥1288.00').encode());
    const lines = cmds.filter((c) => c.op === 'text').map((c) => (c.op === 'text' ? c.text : ''));
    // 16 CJK characters fill the first line exactly (32 columns), the rest sits beside the amount.
    expect(lines[0]).toBe('特级安溪铁观音礼盒装五百克赠品茶');
    expect(displayWidth(lines[0]!)).toBe(32);
    expect(lines.slice(1).join('')).toBe(`杯一套${' '.repeat(32 - 6 - 9)}￥1288.00`);
  });

  it('truncates by display width when asked, never inside a character', () => {
    const bytes = enc(58).row('一二三四五六七八九十一二三四五六七八', '12.00', 'truncate').encode();
    const text = decodeEscPos(bytes)
      .filter((c) => c.op === 'text')
      .map((c) => (c.op === 'text' ? c.text : ''))
      .join('');
    // 32 columns - 5 for the amount - 1 gap = 26 columns = 13 CJK characters.
    expect(text).toBe('一二三四五六七八九十一二三 12.00');
    expect(displayWidth(text)).toBe(32);
    expect(wrapToWidth('a一b', 2)).toEqual(['a', '一', 'b']);
  });

  it('halves the columns in double width and tracks modes (no redundant commands)', () => {
    const e = enc(80).align('center').style({ bold: true, width: 2, height: 2 });
    expect(e.lineColumns).toBe(24);
    e.style({ bold: true, width: 2, height: 2 }).align('center').divider('=');
    expect(hex(e.encode())).toBe(`1b401b61011b45011d2111${'3d'.repeat(24)}0a`);
  });

  it('native QR: GS ( k store length is the UTF-8 BYTE length + 3, not the character count', () => {
    const data = 'https://s.example.cn/r?店=收银台1';
    const byteLen = Buffer.byteLength(data, 'utf8');
    expect(byteLen).toBe(data.length + 4 * 2); // four CJK characters: 3 bytes each, not 1
    const bytes = enc(80).qr(data, { ec: 'M', moduleSize: 6 }).encode();
    const n = byteLen + 3;
    expect(hex(bytes)).toBe(
      '1b40' +
        '1d286b0400314132' +
        '00' +
        '1d286b03003143' +
        '06' +
        '1d286b03003145' +
        '31' +
        `1d286b${(n & 0xff).toString(16).padStart(2, '0')}${(n >> 8).toString(16).padStart(2, '0')}315030` +
        Buffer.from(data, 'utf8').toString('hex') +
        '1d286b0300315130' +
        '0a',
    );
  });

  it('native QR: a payload over 252 bytes sets pH', () => {
    const data = '码'.repeat(100); // 300 bytes in UTF-8
    const bytes = enc().qr(data).encode();
    const store = decodeEscPos(bytes).find((c) => c.op === 'qr-store');
    expect(store).toMatchObject({ declaredLength: 303 });
    const i = hex(bytes).indexOf('1d286b2f01315030');
    expect(i).toBeGreaterThan(0); // 303 = 0x012f → pL 2f pH 01
  });

  it('raster QR fallback sends GS v 0 with the quiet zone included', () => {
    const bytes = enc(58, 'raster').qr('HELLO', { moduleSize: 4 }).encode();
    const cmds = decodeEscPos(bytes);
    const raster = cmds.find((c) => c.op === 'raster');
    // version 1 = 21 modules + 8 quiet = 29 modules x 4 dots = 116 dots
    expect(raster).toMatchObject({ op: 'raster', widthBytes: 15, height: 116 });
    expect(cmds.some((c) => c.op === 'qr-store')).toBe(false);
  });

  it('cash drawer kick is all five bytes ESC p m t1 t2', () => {
    expect(hex(enc().drawer().encode())).toBe('1b40' + '1b700019fa');
    expect(hex(enc().drawer(5).encode())).toBe('1b40' + '1b700119fa');
  });

  it('cut: GS V 66 n (partial) and GS V 65 n (full)', () => {
    expect(hex(enc().cut().encode())).toBe('1b401d564203');
    expect(hex(enc().cut(false, 0).encode())).toBe('1b401d564100');
  });

  it('barcodes: EAN13 function B with 12 digits, CODE128 with code set B', () => {
    expect(hex(enc().barcode('EAN13', '6901234567892').encode())).toBe(
      `1b40` + '1d48021d68501d7702' + `1d6b430c${Buffer.from('690123456789').toString('hex')}0a`,
    );
    expect(hex(enc().barcode('CODE128', 'R-0042').encode())).toBe(
      `1b40` + '1d48021d68501d7702' + `1d6b4908${Buffer.from('{BR-0042').toString('hex')}0a`,
    );
    expect(() => enc().barcode('EAN13', '12ab')).toThrow(RangeError);
  });
});
