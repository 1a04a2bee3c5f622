import { describe, expect, it } from 'vitest';
import type { DecoderEvent } from '../../../src/drivers/scanner/decoder.js';
import { encodeHidPosReports, HidPosDecoder } from '../../../src/drivers/scanner/hid-pos.js';

/** A 64-byte report built field by field, the way the layout comment in hid-pos.ts reads. */
function report(fields: { id?: number; data: string; aim?: string; continued?: boolean }): Uint8Array {
  const r = new Uint8Array(64);
  r[0] = fields.id ?? 0x02;
  const data = Buffer.from(fields.data, 'latin1');
  r[1] = data.length;
  if (fields.aim) r.set(Buffer.from(fields.aim, 'latin1'), 2);
  r.set(data, 5);
  r[63] = fields.continued ? 0x01 : 0x00;
  return r;
}

const feed = (d: HidPosDecoder, reports: Uint8Array[], start = 0) =>
  reports.flatMap((r, i) => d.push(r, start + i * 3));

describe('HID-POS barcode report decoder', () => {
  it('decodes a single report with its AIM symbology', () => {
    const r = report({ data: '6901234567892', aim: ']E0' });
    expect(r.subarray(0, 8)).toEqual(Uint8Array.of(0x02, 13, 0x5d, 0x45, 0x30, 0x36, 0x39, 0x30));
    expect(new HidPosDecoder().push(r, 0)).toEqual([
      { type: 'code', code: '6901234567892', symbology: 'ean-13' },
    ]);
  });

  it('joins a barcode spanning reports with the continued flag (60 bytes = 56 + 4)', () => {
    const text = 'M1GATHERGOOD/MICHAEL YABCDEF LHRDURAK 3542 052Y003D23  XY';
    const data = text.padEnd(60, '#');
    const parts = [
      report({ data: data.slice(0, 56), aim: ']Q1', continued: true }),
      report({ data: data.slice(56), aim: ']Q1' }),
    ];
    expect(parts[0]![63]).toBe(1);
    expect(parts[1]![1]).toBe(4);
    const d = new HidPosDecoder();
    expect(d.push(parts[0]!, 0)).toEqual([]);
    expect(d.push(parts[1]!, 2)).toEqual([{ type: 'code', code: data, symbology: 'qr' }]);
  });

  it('decodes UTF-8 data and a report without a symbology identifier', () => {
    const r = encodeHidPosReports(Buffer.from('会员MB0001', 'utf8'), '');
    expect(new HidPosDecoder().push(r[0]!, 0)).toEqual([{ type: 'code', code: '会员MB0001' }]);
  });

  it('counts reports that break the layout as junk', () => {
    const d = new HidPosDecoder();
    const bad: Array<[Uint8Array, RegExp]> = [
      [new Uint8Array(8), /8 bytes/],
      [report({ id: 4, data: '1' }), /report id 4/],
      [Object.assign(report({ data: '1' }), { 1: 57 }), /over 56/],
      [Object.assign(report({ data: '12' }), { 40: 7 }), /after the data/],
      [report({ data: '1', aim: 'XE0' }), /symbology/],
      [Object.assign(report({ data: '1' }), { 63: 0x81 }), /flag/],
      [report({ data: '' }), /without data/],
    ];
    for (const [r, why] of bad) {
      const events = d.push(r, 0);
      expect(events).toEqual([{ type: 'junk', reason: expect.stringMatching(why), bytes: r.length }]);
    }
  });

  it('discards a whole multi-report barcode when a part is malformed, not only the bad part', () => {
    const parts = encodeHidPosReports(Buffer.from('9'.repeat(120)), ']C0');
    expect(parts).toHaveLength(3);
    const d = new HidPosDecoder();
    const events = feed(d, [parts[0]!, new Uint8Array(64).fill(0xff), parts[1]!, parts[2]!]);
    expect(events.filter((e: DecoderEvent) => e.type === 'code')).toEqual([]);
    expect(events.at(-1)).toEqual({
      type: 'junk',
      reason: expect.stringMatching(/^barcode discarded/),
      bytes: 192,
    });
    expect(feed(d, encodeHidPosReports(Buffer.from('12345670'), ']E4'), 100)).toEqual([
      { type: 'code', code: '12345670', symbology: 'ean-8' },
    ]);
  });

  it('drops a barcode whose next part never comes, on the injected clock', () => {
    const d = new HidPosDecoder({ interReportTimeoutMs: 100 });
    const parts = encodeHidPosReports(Buffer.from('7'.repeat(80)), ']C0');
    expect(d.push(parts[0]!, 0)).toEqual([]);
    expect(d.deadline()).toBe(101);
    expect(d.expire(100)).toEqual([]);
    expect(d.expire(101)).toEqual([{ type: 'junk', reason: expect.stringMatching(/cut off/), bytes: 64 }]);
    // The tail arriving late is its own (short) barcode: it came after the pause.
    expect(d.push(parts[1]!, 500)).toEqual([{ type: 'code', code: '7'.repeat(24), symbology: 'code-128' }]);
  });

  it('caps a barcode at 4096 data bytes: 200,000 continued reports are one junk event, holding nothing', () => {
    const d = new HidPosDecoder({ interReportTimeoutMs: 100 });
    const part = report({ data: 'A'.repeat(56), aim: ']Q1', continued: true });
    let events: DecoderEvent[] = [];
    for (let i = 0; i < 200_000; i++) events = events.concat(d.push(part, i));
    expect(events).toEqual([]);
    const last = d.push(report({ data: 'END', aim: ']Q1' }), 200_000);
    expect(last).toEqual([
      { type: 'junk', reason: 'barcode discarded: barcode over 4096 bytes', bytes: 200_001 * 64 },
    ]);
    // A barcode of exactly 4096 bytes still passes whole, and the decoder is clean after the junk.
    const code = 'B'.repeat(4096);
    const events2 = feed(d, encodeHidPosReports(Buffer.from(code), ']Q1'), 300_000);
    expect(events2).toEqual([{ type: 'code', code, symbology: 'qr' }]);
  });
});
