import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudService } from '../../../cloud/cloud-service.js';
import type { IncomingRecord } from '../../../cloud/store.js';
import { chainOf, GENESIS_CHAIN } from '../../../src/offline/chain.js';
import { tempDir } from '../../helpers/daemon.js';

// Issue 18: the reference cloud's ingest does its per-record work in bulk (a few multi-row
// inserts per batch, nothing written for points a record cannot earn).

const { privateKey } = generateKeyPairSync('ed25519');
const closers: Array<() => void> = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

function cloud(): CloudService {
  const c = new CloudService({
    brokerUrl: 'mqtt://unused',
    dbFile: join(tempDir('posd-cloud-'), 'cloud.db'),
    signingKey: privateKey,
  });
  closers.push(() => c.store.close());
  return c;
}

function sales(from: number, count: number, prev: string, body: (i: number) => Record<string, unknown>) {
  const out: IncomingRecord[] = [];
  for (let seq = from; seq < from + count; seq++) {
    const r = {
      seq,
      id: `r-${seq}`,
      type: 'sale.completed',
      at: '2026-12-05T10:00:00.000Z',
      body: body(seq),
    };
    prev = chainOf(prev, r);
    out.push({ ...r, chain: prev });
  }
  return out;
}

/** Counts the rows each run of an insert into `records` carries, from statements made from now on. */
function insertRuns(db: Database.Database): number[] {
  const runs: number[] = [];
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const stmt = prepare(sql);
    if (!/INSERT OR IGNORE INTO records/.test(sql)) return stmt;
    const run = stmt.run.bind(stmt);
    stmt.run = ((...params: unknown[]) => {
      runs.push((params.flat() as unknown[]).length / 12);
      return run(...params);
    }) as typeof stmt.run;
    return stmt;
  }) as typeof db.prepare;
  return runs;
}

describe('reference cloud ingest: per batch, not per record', () => {
  it('a batch of 100 records is written by three inserts (64, 32, 4 rows), the statements reused', () => {
    const c = cloud();
    const runs = insertRuns(c.store.db);
    const first = sales(1, 100, GENESIS_CHAIN, (i) => ({ saleId: `s${i}`, total: 100 }));
    const second = sales(101, 100, first.at(-1)!.chain, (i) => ({ saleId: `s${i}`, total: 100 }));
    expect(c.handleLedgerBatch('t', 'D', JSON.stringify({ epoch: 'E', records: first }))).toMatchObject({
      ackedUpTo: 100,
    });
    expect(c.handleLedgerBatch('t', 'D', JSON.stringify({ epoch: 'E', records: second }))).toMatchObject({
      ackedUpTo: 200,
    });
    expect(runs).toEqual([64, 32, 4, 64, 32, 4]);
    expect(c.store.countRecords()).toBe(200);
    expect(c.store.facts('t', 'D').map((r) => r.body)).toEqual([...first, ...second].map((r) => r.body));
  });

  it('a seq repeated inside a batch is a duplicate of its first copy, not a conflict', () => {
    const c = cloud();
    const run = sales(1, 3, GENESIS_CHAIN, (i) => ({ saleId: `s${i}`, total: 100 }));
    const result = c.store.ingest('t', 'D', 'E', [...run, run[1]!]);
    expect(result).toMatchObject({ ackedUpTo: 3, stored: 3, duplicates: 1, rejected: [] });
  });

  it('a sale without a member writes nothing to the points ledger; a member’s sale earns once, replayed or not', () => {
    const c = cloud();
    c.acquirer.addMember('M1', { memberId: 'm-1', name: 'A', points: 0, balance: 0 });
    const batch = sales(1, 50, GENESIS_CHAIN, (i) =>
      i === 7 ? { saleId: `s${i}`, total: 3200, memberId: 'm-1' } : { saleId: `s${i}`, total: 3200 },
    );
    const payload = JSON.stringify({ epoch: 'E', records: batch });
    c.handleLedgerBatch('t', 'D', payload);
    c.handleLedgerBatch('t', 'D', payload); // the ack lost: the same batch again
    expect(c.store.kvAll('points-award').map((x) => x.key)).toEqual(['t/D/E/7']);
    expect(c.acquirer.memberPoints('M1')).toBe(32);
  });
});
