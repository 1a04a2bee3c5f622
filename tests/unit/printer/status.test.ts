import { describe, expect, it } from 'vitest';
import { type StatusEvent, StatusParser } from '../../../src/drivers/printer/status.js';

function parser() {
  const events: StatusEvent[] = [];
  const junk: number[][] = [];
  const p = new StatusParser(
    (e) => events.push(e),
    (b) => junk.push(b),
  );
  return { p, events, junk };
}

// ASB: online, cover closed / paper ok: 0x10 0x00 0x00 0x00. Cover open + offline: 0x38.
const ASB_OK = [0x10, 0x00, 0x00, 0x00];
const ASB_COVER_OPEN = [0x38, 0x00, 0x00, 0x00];
const ASB_PAPER_OUT = [0x18, 0x00, 0x0f, 0x00];

describe('StatusParser', () => {
  it('decodes DLE EOT 1..4 replies in the order the queries were sent', () => {
    const { p, events } = parser();
    for (const n of [1, 2, 3, 4] as const) p.expect(n);
    p.push(Uint8Array.of(0x1a, 0x36, 0x12, 0x7e));
    expect(events.map((e) => e.status)).toEqual([
      { drawerPin3High: false, offline: true },
      { cover: 'open', error: false, paper: 'out' },
      { error: false, fatal: false },
      { paper: 'out' },
    ]);
    expect(p.outstanding).toBe(0);
  });

  it('paper near end from DLE EOT 4 (bits 2 and 3)', () => {
    const { p, events } = parser();
    p.expect(4);
    p.push(Uint8Array.of(0x1e));
    expect(events[0]?.status).toEqual({ paper: 'near-end' });
  });

  it('reassembles an ASB block split byte by byte, and two blocks merged with a reply', () => {
    const { p, events } = parser();
    for (const b of ASB_COVER_OPEN) p.push(Uint8Array.of(b));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'asb', status: { cover: 'open', offline: true, paper: 'ok' } });
    p.expect(4);
    p.push(Uint8Array.from([...ASB_PAPER_OUT, 0x72, ...ASB_OK]));
    expect(events.map((e) => e.kind)).toEqual(['asb', 'asb', 'realtime', 'asb']);
    expect(events[1]).toMatchObject({ status: { paper: 'out', offline: true } });
    expect(events[2]).toMatchObject({ status: { paper: 'out' } });
    expect(events[3]).toMatchObject({ status: { paper: 'ok', cover: 'closed', offline: false } });
    expect(p.junkBytes).toBe(0);
  });

  it('counts junk and reports it, and still finds the status around it', () => {
    const { p, events, junk } = parser();
    p.expect(1);
    // 0xff junk, XOFF (0x13), an unsolicited real-time byte first matches the query, then an
    // ASB start broken by a byte with bit 4 set, then a good ASB block.
    p.push(Uint8Array.from([0xff, 0x13, 0x16, 0x12, 0x10, 0x00, 0x90, ...ASB_OK]));
    expect(events.map((e) => e.kind)).toEqual(['realtime', 'asb']);
    // 0xff, 0x13, then 0x12 (no query outstanding), then the broken block's two bytes, then 0x90.
    expect(junk).toEqual([[0xff], [0x13], [0x12], [0x10, 0x00], [0x90]]);
    expect(p.junkBytes).toBe(6);
  });

  it('a late reply after reset is junk, not attributed to the next query', () => {
    const { p, events } = parser();
    p.expect(4);
    p.reset();
    p.push(Uint8Array.of(0x12));
    expect(events).toHaveLength(0);
    expect(p.junkBytes).toBe(1);
  });
});
