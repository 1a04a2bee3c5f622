import { describe, expect, it } from 'vitest';
import { SerialFramer } from '../../../src/drivers/scanner/serial-framer.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('serial scanner framing', () => {
  it('frames on CR, LF and CRLF, across arbitrary chunk splits', () => {
    const f = new SerialFramer();
    const stream = '134567890123456789\r\n6901234567892\rCP0001\nMB0002\r\n';
    for (let split = 1; split < stream.length; split++) {
      const events = [...f.push(b(stream.slice(0, split)), 0), ...f.push(b(stream.slice(split)), 1)];
      expect(events).toEqual([
        { type: 'code', code: '134567890123456789' },
        { type: 'code', code: '6901234567892' },
        { type: 'code', code: 'CP0001' },
        { type: 'code', code: 'MB0002' },
      ]);
    }
  });

  it('counts empty lines, control bytes and over-long frames as junk', () => {
    const f = new SerialFramer({ maxLength: 8 });
    expect(f.push(b('\r\r'), 0)).toEqual([
      { type: 'junk', reason: 'empty line', bytes: 1 },
      { type: 'junk', reason: 'empty line', bytes: 1 },
    ]);
    expect(f.push(b('12\x0034\r'), 1)).toEqual([
      { type: 'junk', reason: 'code discarded: control byte 0x0', bytes: 6 },
    ]);
    expect(f.push(b('0123456789AB\n'), 2)).toEqual([
      { type: 'junk', reason: 'code discarded: longer than 8 bytes', bytes: 13 },
    ]);
    // GS (GS1 separator) is data.
    expect(f.push(b('01\x1d21\r\n'), 3)).toEqual([{ type: 'code', code: '01\x1d21' }]);
  });

  it('junks a partial code cut off by a pause instead of gluing it to the next one', () => {
    const f = new SerialFramer({ interByteTimeoutMs: 100 });
    expect(f.push(b('6901'), 0)).toEqual([]);
    expect(f.push(b('6901234567892\r\n'), 500)).toEqual([
      { type: 'junk', reason: 'partial code without CR/LF within 100 ms', bytes: 4 },
      { type: 'code', code: '6901234567892' },
    ]);
  });

  it('with timeout framing (no suffix), a pause ends the code', () => {
    const f = new SerialFramer({ framing: 'timeout', interByteTimeoutMs: 20 });
    expect(f.push(b('2812'), 0)).toEqual([]);
    expect(f.push(b('3456'), 15)).toEqual([]);
    expect(f.deadline()).toBe(36);
    expect(f.expire(35)).toEqual([]);
    expect(f.expire(36)).toEqual([{ type: 'code', code: '28123456' }]);
    expect(f.push(b('1'), 100)).toEqual([]);
    expect(f.push(b('2'), 200)).toEqual([{ type: 'code', code: '1' }]);
    expect(f.reset()).toEqual([{ type: 'junk', reason: 'device closed during a code', bytes: 1 }]);
  });
});
