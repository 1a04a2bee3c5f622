import { existsSync, rmSync, statSync } from 'node:fs';
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

describe('reference cloud store: WAL checkpoints', () => {
  it("a batch's commit never checkpoints: a worker thread does", async () => {
    const s = store();
    const ids = Array.from({ length: 6_000 }, (_, i) => `r${i}`);
    const records = chained(ids);
    for (let at = 0; at < records.length; at += 100) s.ingest('t', 'D', 'E1', records.slice(at, at + 100));
    await expect.poll(() => s.checkpointRuns().length, { timeout: 20_000 }).toBeGreaterThan(0);
    const [run] = s.checkpointRuns();
    expect(run!.threadId).toBeGreaterThan(0); // a worker's, not the main thread's (0)
    expect(run!.checkpointed).toBeGreaterThan(0);
    expect(s.countRecords()).toBe(6_000);
  });
  it('the WAL stays within a few MB whatever the rows weigh (large documents, one per commit)', async () => {
    const file = join(tempDir('posd-cloudwal-'), 'cloud.db');
    const s = new CloudStore(file);
    stores.push(s);
    const doc = { logo: 'x'.repeat(100_000) };
    for (let i = 0; i < 600; i++) s.kvPut('config', `t/D${i}`, { version: i, doc });
    await new Promise((r) => setImmediate(r));
    expect(statSync(`${file}-wal`).size / 1048576).toBeLessThan(16); // 60 MB written
  });

  it('after close no checkpoint touches the file (a removed database is not made again)', async () => {
    const file = join(tempDir('posd-cloudclose-'), 'cloud.db');
    const s = new CloudStore(file);
    s.ingest('t', 'D', 'E1', chained(Array.from({ length: 2_100 }, (_, i) => `r${i}`)));
    s.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    await new Promise((r) => setTimeout(r, 1_000)); // what a late thread would need to start and open it
    expect(existsSync(file)).toBe(false);
  });
});
