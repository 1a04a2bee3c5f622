import { describe, expect, it } from 'vitest';
import { CD5220, EPSON_DMD } from '../../../src/drivers/display/command-sets.js';
import { fitColumns, spread, toDisplayAscii } from '../../../src/drivers/display/display-text.js';
import { renderScreen } from '../../../src/drivers/display/screens.js';
import { VfdInterpreter } from '../../../src/drivers/sim/vfd-interpreter.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('customer display text', () => {
  it('keeps ASCII, folds full-width and accents, replaces CJK runs by one ?', () => {
    expect(toDisplayAscii('Latte 2x')).toBe('Latte 2x');
    expect(toDisplayAscii('Ｃａｆé Crème')).toBe('Cafe Creme');
    expect(toDisplayAscii('拿铁咖啡 Latte')).toBe('? Latte');
    expect(toDisplayAscii('￥32 € “x”…\t')).toBe('Y32 EUR "x"... ');
    expect(toDisplayAscii('😀')).toBe('?');
    for (const s of ['拿铁', 'Ａ\u0000\u001b[2J', '\u{10ffff}ü']) {
      expect(/^[\x20-\x7e]*$/.test(toDisplayAscii(s))).toBe(true);
    }
  });

  it('pads and truncates to 20 columns; the amount wins over the label', () => {
    expect(fitColumns('abc')).toBe('abc                 ');
    expect(fitColumns('x'.repeat(25))).toBe('x'.repeat(20));
    expect(spread('TOTAL', '32.00')).toBe('TOTAL          32.00');
    expect(spread('A very long label here', '1234567.00')).toBe('A very lo 1234567.00');
  });

  it('renders the screens with integer fen as yuan', () => {
    expect(renderScreen({ screen: 'idle' })).toEqual(['      WELCOME       ', ' '.repeat(20)]);
    expect(renderScreen({ screen: 'item', name: '拿铁咖啡 Latte', price: 2800 })).toEqual([
      '? Latte             ',
      '               28.00',
    ]);
    expect(renderScreen({ screen: 'item', name: 'Croissant', qty: 2, price: 400 })).toEqual([
      'Croissant           ',
      '2 x 4.00        8.00',
    ]);
    expect(renderScreen({ screen: 'total', total: 3200, items: 3 })).toEqual([
      'TOTAL          32.00',
      '3 ITEMS             ',
    ]);
    expect(renderScreen({ screen: 'paid', total: 3200, paid: 5000 })).toEqual([
      'TOTAL          32.00',
      'PAID           50.00',
    ]);
    expect(renderScreen({ screen: 'change', paid: 5000, change: 1800 })).toEqual([
      'PAID           50.00',
      'CHANGE         18.00',
    ]);
    expect(() => renderScreen({ screen: 'total', total: 32.5 })).toThrow(/integer fen/);
  });
});

describe('VFD command sets', () => {
  const lines: [string, string] = ['TOTAL          32.00', 'PAID           50.00'];

  it('Epson DM-D: ESC @, US MD1, US C 0; CLR and US $ x y before each line', () => {
    expect(hex(EPSON_DMD.init())).toBe('1b401f011f4300');
    const bytes = EPSON_DMD.show(lines);
    expect(hex(bytes.subarray(0, 5))).toBe('0c1f240101');
    expect(hex(bytes.subarray(25, 29))).toBe('1f240102');
    expect(bytes.length).toBe(5 + 20 + 4 + 20);
  });

  it('CD5220: ESC @, ESC DC1, ESC _ 0; ESC Q A line CR, ESC Q B line CR', () => {
    expect(hex(CD5220.init())).toBe('1b401b111b5f00');
    const bytes = CD5220.show(lines);
    expect(hex(bytes.subarray(0, 4))).toBe('0c1b5141');
    expect(bytes[24]).toBe(0x0d);
    expect(hex(bytes.subarray(25, 28))).toBe('1b5142');
    expect(bytes.at(-1)).toBe(0x0d);
  });

  it('the simulator reads back what each command set put on the glass, across split writes', () => {
    for (const set of [EPSON_DMD, CD5220]) {
      const vfd = new VfdInterpreter();
      const all = Buffer.concat([set.init(), set.show(['first', 'x']), set.show(lines)]);
      for (let i = 0; i < all.length; i += 3) vfd.feed(all.subarray(i, i + 3));
      expect(vfd.lines()).toEqual(lines);
      expect(vfd.junkBytes).toBe(0);
    }
  });

  it('the simulator counts bytes it does not know as junk', () => {
    const vfd = new VfdInterpreter();
    vfd.feed(Uint8Array.of(0x80, 0x1b, 0x7e, 0x1f, 0x24, 30, 1, 0x41));
    expect(vfd.junkBytes).toBe(1 + 2 + 4);
    expect(vfd.lines()[0]).toBe(`A${' '.repeat(19)}`);
  });
});
