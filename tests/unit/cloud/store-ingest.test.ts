import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudStore, type IncomingRecord } from '../../../cloud/store.js';
import { chainOf, GENESIS_CHAIN } from '../../../src/offline/chain.js';
import { tempDir } from '../../helpers/daemon.js';

const stores: CloudStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function store(): CloudStore {
  const s = new CloudStore(join(tempDir('posd-cloudstore-'), 'cloud.db'));
  stores.push(s);
  return s;
}

/** A chained run of records, seq from 1, ids from `ids`. */
function chained(ids: string[], total = 100): IncomingRecord[] {
  let prev = GENESIS_CHAIN;
  return ids.map((id, i) => {
    const r = {
      seq: i + 1,
      id,
      type: 'sale.completed',
      at: '2026-12-01T10:00:00.000Z',
      body: { saleId: id, total },
    };
    const chain = chainOf(prev, r);
    prev = chain;
    return { ...r, chain };
  });
}

describe('reference cloud store: a restored database is told, never counted', () => {
  it('a seq held with another record is SEQ_CONFLICT: not stored, the ack does not move past it', () => {
    const s = store();
    expect(s.ingest('t', 'D', 'E1', chained(['a', 'b', 'c'])).ackedUpTo).toBe(3);
    // The restored copy had a and b, then recorded x where the lost database had c.
    const restored = chained(['a', 'b', 'x', 'y']);
    const r = s.ingest('t', 'D', 'E1', restored);
    expect(r.ackedUpTo).toBe(3);
    expect(r.stored).toBe(0);
    expect(r.rejected).toEqual([expect.objectContaining({ seq: 3, code: 'SEQ_CONFLICT' })]);
    expect(s.records('t', 'D').map((x) => x.id)).toEqual(['a', 'b', 'c']);
  });

  it('the same record sent again is a duplicate, no conflict', () => {
    const s = store();
    const run = chained(['a', 'b']);
    s.ingest('t', 'D', 'E1', run);
    const again = s.ingest('t', 'D', 'E1', run);
    expect(again).toMatchObject({ ackedUpTo: 2, stored: 0, duplicates: 2, rejected: [] });
  });

  it('a fact resent under a new epoch keeps that epoch contiguous and counts once', () => {
    const s = store();
    s.ingest('t', 'D', 'E1', chained(['a', 'b']));
    // After the restore: b is resent (the device could not know it was stored), then x.
    const r = s.ingest('t', 'D', 'E2', chained(['b', 'x']));
    expect(r).toMatchObject({ ackedUpTo: 2, stored: 2, rejected: [] });
    expect(r.facts.map((x) => x.id)).toEqual(['x']);
    expect(s.facts('t', 'D').map((x) => x.id)).toEqual(['a', 'b', 'x']);
  });
});
