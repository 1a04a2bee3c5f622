import { describe, expect, it } from 'vitest';
import type { DecoderEvent } from '../../../src/drivers/scanner/decoder.js';
import { typeAsKeyboard } from '../../../src/drivers/scanner/keyboard-encoder.js';
import { altCodeChar, KeyboardWedgeDecoder } from '../../../src/drivers/scanner/keyboard-wedge.js';

/** Hex report strings as a USB capture shows them, e.g. "02 00 04 00 00 00 00 00". */
function hexReports(lines: string): Uint8Array[] {
  return lines
    .trim()
    .split('\n')
    .map((l) => Uint8Array.from(Buffer.from(l.replace(/#.*/, '').replace(/\s+/g, ''), 'hex')));
}

/** Feeds reports `stepMs` apart and returns every event. */
function feed(d: KeyboardWedgeDecoder, reports: Uint8Array[], startMs = 0, stepMs = 2): DecoderEvent[] {
  const out: DecoderEvent[] = [];
  reports.forEach((r, i) => {
    out.push(...d.push(r, startMs + i * stepMs));
  });
  return out;
}

const codes = (events: DecoderEvent[]) => events.filter((e) => e.type === 'code').map((e) => e.code);
const junks = (events: DecoderEvent[]) => events.filter((e) => e.type === 'junk');

describe('keyboard-wedge decoder', () => {
  it('decodes a WeChat payment code typed as press/release reports with Enter', () => {
    const reports = hexReports(`
      00 00 1e 00 00 00 00 00  # 1
      00 00 00 00 00 00 00 00
      00 00 22 00 00 00 00 00  # 5
      00 00 00 00 00 00 00 00
      00 00 28 00 00 00 00 00  # Enter
      00 00 00 00 00 00 00 00
    `);
    const events = feed(new KeyboardWedgeDecoder(), reports);
    expect(events).toEqual([{ type: 'code', code: '15' }]);
  });

  it('decodes Shift (upper case and shifted symbols) from the modifier byte', () => {
    const reports = hexReports(`
      02 00 00 00 00 00 00 00  # left Shift down alone
      02 00 04 00 00 00 00 00  # A
      02 00 00 00 00 00 00 00
      00 00 00 00 00 00 00 00
      00 00 05 00 00 00 00 00  # b
      00 00 00 00 00 00 00 00
      20 00 1f 00 00 00 00 00  # right Shift + 2 = @
      00 00 00 00 00 00 00 00
      02 00 2d 00 00 00 00 00  # _
      00 00 00 00 00 00 00 00
      02 00 38 00 00 00 00 00  # ?
      00 00 00 00 00 00 00 00
      00 00 37 00 00 00 00 00  # .
      00 00 00 00 00 00 00 00
      00 00 28 00 00 00 00 00
      00 00 00 00 00 00 00 00
    `);
    expect(feed(new KeyboardWedgeDecoder(), reports)).toEqual([{ type: 'code', code: 'Ab@_?.' }]);
  });

  it('decodes Alt + keypad digits: Alt+0196 (Windows-1252) is Ä, Alt+142 (cp437) is Ä, Alt+29 is GS', () => {
    const reports = hexReports(`
      00 00 1e 00 00 00 00 00  # 1
      00 00 00 00 00 00 00 00
      04 00 00 00 00 00 00 00  # left Alt down
      04 00 62 00 00 00 00 00  # keypad 0
      04 00 00 00 00 00 00 00
      04 00 59 00 00 00 00 00  # keypad 1
      04 00 00 00 00 00 00 00
      04 00 61 00 00 00 00 00  # keypad 9
      04 00 00 00 00 00 00 00
      04 00 5e 00 00 00 00 00  # keypad 6
      04 00 00 00 00 00 00 00
      00 00 00 00 00 00 00 00  # Alt up: types 0196
      40 00 59 00 00 00 00 00  # right Alt + keypad 1
      40 00 5c 00 00 00 00 00  # keypad 4 while 1 still held (rollover)
      40 00 5a 00 00 00 00 00  # keypad 2
      00 00 00 00 00 00 00 00  # Alt up: types 142
      04 00 5a 00 00 00 00 00  # Alt + keypad 2
      04 00 61 00 00 00 00 00  # keypad 9
      00 00 00 00 00 00 00 00  # Alt up: types 29 (GS)
      00 00 28 00 00 00 00 00
      00 00 00 00 00 00 00 00
    `);
    expect(feed(new KeyboardWedgeDecoder(), reports)).toEqual([{ type: 'code', code: '1ÄÄ\x1d' }]);
  });

  it('counts a key held over several reports once and overlapping keys each once (rollover)', () => {
    const reports = hexReports(`
      00 00 04 00 00 00 00 00  # a down
      00 00 04 00 00 00 00 00  # a still down
      00 00 04 05 00 00 00 00  # b down while a is held
      00 00 05 00 00 00 00 00  # a up
      00 00 00 00 00 00 00 00
      00 00 04 00 00 00 00 00  # a again: a new press
      00 00 00 00 00 00 00 00
      00 00 28 00 00 00 00 00
      00 00 00 00 00 00 00 00
    `);
    expect(feed(new KeyboardWedgeDecoder(), reports)).toEqual([{ type: 'code', code: 'aba' }]);
  });

  it('ends a code with Tab when Tab is the configured suffix, Enter then being part of nothing else', () => {
    const tab = typeAsKeyboard('CP2024', 'tab');
    expect(codes(feed(new KeyboardWedgeDecoder({ suffix: 'tab' }), tab))).toEqual(['CP2024']);
    // With Enter expected, the Tab is a character and the code is not ended until Enter.
    const d = new KeyboardWedgeDecoder({ suffix: 'enter' });
    expect(codes(feed(d, [...tab, ...typeAsKeyboard('', 'enter')]))).toEqual(['CP2024\t']);
  });

  it('only takes keys typed within the inter-key timeout: a pause makes the partial code junk', () => {
    const d = new KeyboardWedgeDecoder({ interKeyTimeoutMs: 50 });
    const first = typeAsKeyboard('1234', 'none');
    const events = feed(d, first, 0, 2);
    // 51 ms of silence, then a whole scan.
    events.push(...feed(d, typeAsKeyboard('6901234567892'), 14 + 51, 2));
    expect(codes(events)).toEqual(['6901234567892']);
    expect(junks(events)).toEqual([
      { type: 'junk', reason: expect.stringContaining('no enter within 50 ms'), bytes: 64 },
    ]);
  });

  it('with suffix none, a pause ends the code (expire with the injected clock)', () => {
    const d = new KeyboardWedgeDecoder({ suffix: 'none', interKeyTimeoutMs: 30 });
    const events = feed(d, typeAsKeyboard('MB0001', 'none'), 0, 3);
    expect(codes(events)).toEqual([]);
    const deadline = d.deadline()!;
    expect(d.expire(deadline - 1)).toEqual([]);
    expect(d.expire(deadline)).toEqual([{ type: 'code', code: 'MB0001' }]);
    expect(d.deadline()).toBeUndefined();
  });

  it('forgets keys held across a pause so a lost release report does not eat the next first key', () => {
    const d = new KeyboardWedgeDecoder({ interKeyTimeoutMs: 50 });
    const events = feed(d, typeAsKeyboard('1', 'none').slice(0, 1)); // "1" down, release lost
    events.push(...feed(d, typeAsKeyboard('12'), 200));
    expect(codes(events)).toEqual(['12']);
  });

  it('treats all-keys-released reports as no keys and an empty Enter as junk', () => {
    const d = new KeyboardWedgeDecoder();
    const events = feed(
      d,
      hexReports(`
      00 00 00 00 00 00 00 00
      00 00 00 00 00 00 00 00
      00 00 28 00 00 00 00 00
      00 00 00 00 00 00 00 00
    `),
    );
    expect(codes(events)).toEqual([]);
    expect(junks(events)).toEqual([{ type: 'junk', reason: 'suffix without a code', bytes: 8 }]);
  });

  it('discards a scan touched by a malformed report, an unmapped key or a roll-over error', () => {
    const d = new KeyboardWedgeDecoder();
    const good = typeAsKeyboard('123');
    const short = Uint8Array.of(0, 0, 0x1e);
    const f1 = Uint8Array.of(0, 0, 0x3a, 0, 0, 0, 0, 0); // F1
    const rollOver = Uint8Array.of(0, 0, 1, 1, 1, 1, 1, 1);
    for (const bad of [short, f1, rollOver]) {
      const events = feed(d, [...good.slice(0, 2), bad, ...good.slice(2)]);
      expect(codes(events)).toEqual([]);
      expect(junks(events).at(-1)?.reason).toMatch(/^scan discarded/);
    }
    // The decoder is clean again for the next scan.
    expect(codes(feed(d, good, 1000))).toEqual(['123']);
  });

  it('reports junk on reset when the device goes away mid-scan', () => {
    const d = new KeyboardWedgeDecoder();
    feed(d, typeAsKeyboard('12', 'none'));
    expect(d.reset()).toEqual([{ type: 'junk', reason: 'device closed during a scan', bytes: 32 }]);
    expect(d.reset()).toEqual([]);
  });

  it('round-trips every printable ASCII character and non-ASCII through Alt codes', () => {
    let text = '';
    for (let c = 0x20; c < 0x7f; c++) text += String.fromCharCode(c);
    text += 'éÄß€中\x1d';
    expect(codes(feed(new KeyboardWedgeDecoder(), typeAsKeyboard(text)))).toEqual([text]);
  });

  it('maps Alt codes: ASCII below 128, Windows-1252 with a leading 0, cp437 without, Unicode above 255', () => {
    expect(altCodeChar('065')).toBe('A');
    expect(altCodeChar('0128')).toBe('€');
    expect(altCodeChar('128')).toBe('Ç');
    expect(altCodeChar('20013')).toBe('中');
    expect(altCodeChar('0')).toBeUndefined();
    expect(altCodeChar('55296')).toBeUndefined(); // a lone surrogate
    expect(altCodeChar('0129')).toBeUndefined(); // undefined in Windows-1252
  });
});
