import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { GENESIS_CHAIN, verifyChain } from '../../../src/offline/chain.js';
import { latestVersion, openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { MIGRATIONS } from '../../../src/offline/migrations/index.js';
import { tempDir } from '../../helpers/daemon.js';
import { silentLogger } from '../../helpers/test-log.js';

interface Vector {
  record: { seq: number; id: string; type: string; at: string; body: Record<string, unknown>; chain: string };
}
const vectors = (
  JSON.parse(
    readFileSync(resolve(import.meta.dirname, '../../../docs/contract/vectors/ledger-chain.json'), 'utf8'),
  ) as { vectors: Vector[] }
).vectors;

function openLedger(dir = tempDir(), ids?: string[], times?: string[]) {
  const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
  const idQueue = ids ? [...ids] : undefined;
  const timeQueue = times ? [...times] : undefined;
  const ledger = new Ledger({
    db,
    dir,
    newId: idQueue ? () => idQueue.shift() ?? crypto.randomUUID() : undefined,
    now: timeQueue ? () => new Date(timeQueue.shift() ?? Date.now()) : undefined,
  });
  return { db, ledger, dir };
}

describe('ledger', () => {
  it('chains records exactly as the contract vectors do', () => {
    const epochId = '019a9b2c-0000-7000-8000-00000000e000';
    const { ledger } = openLedger(
      tempDir(),
      [epochId, ...vectors.map((v) => v.record.id)],
      ['2026-11-22T00:00:00.000Z', ...vectors.map((v) => v.record.at)],
    );
    expect(ledger.epoch).toBe(epochId);
    for (const v of vectors) {
      const rec = ledger.transact(() => ledger.append(v.record.type, v.record.body));
      expect(rec.seq).toBe(v.record.seq);
      expect(rec.chain).toBe(v.record.chain);
    }
    const stored = ledger.recordsAfter(0, 10);
    expect(stored.map((r) => r.chain)).toEqual(vectors.map((v) => v.record.chain));
    expect(verifyChain(stored, GENESIS_CHAIN)).toBeUndefined();
    expect(ledger.verify()).toBeUndefined();
  });

  it('keeps seq gapless when a transaction rolls back, and tells listeners only after commit', () => {
    const { ledger } = openLedger();
    const heard: number[] = [];
    ledger.onAppend((seq) => heard.push(seq));
    ledger.transact(() => ledger.append('sale.completed', { n: 1 }));
    expect(() =>
      ledger.transact(() => {
        ledger.append('sale.completed', { n: 2 });
        throw new Error('boom');
      }),
    ).toThrow('boom');
    ledger.transact(() => {
      ledger.append('payment.succeeded', { n: 3 });
      ledger.append('sale.completed', { n: 3 });
    });
    expect(ledger.recordsAfter(0, 10).map((r) => [r.seq, r.body.n])).toEqual([
      [1, 1],
      [2, 3],
      [3, 3],
    ]);
    expect(heard).toEqual([1, 3]);
    expect(ledger.verify()).toBeUndefined();
  });

  it('refuses to append outside a transaction and refuses edits of stored facts', () => {
    const { ledger, db } = openLedger();
    expect(() => ledger.append('sale.completed', {})).toThrow(/inside Ledger.transact/);
    ledger.transact(() => ledger.append('sale.completed', { total: 1 }));
    expect(() => db.prepare(`UPDATE ledger SET body = '{"total":2}' WHERE seq = 1`).run()).toThrow(
      /append-only/,
    );
  });

  it('moves records pending → sent → synced only by the cloud ack, and stores rejects', () => {
    const { ledger } = openLedger();
    ledger.transact(() => {
      for (let i = 1; i <= 5; i++) ledger.append('sale.completed', { i });
    });
    ledger.markSent(1, 3);
    expect(ledger.page(0, 10).map((r) => r.sync)).toEqual(['sent', 'sent', 'sent', 'pending', 'pending']);
    ledger.applyAck(4, [{ seq: 2, code: 'CHAIN_BROKEN', message: 'bad chain' }]);
    const page = ledger.page(0, 10);
    expect(page.map((r) => r.sync)).toEqual(['synced', 'rejected', 'synced', 'synced', 'pending']);
    expect(page[1]!.syncError).toEqual({ code: 'CHAIN_BROKEN', message: 'bad chain' });
    expect(ledger.ackedUpTo()).toBe(4);
    ledger.applyAck(2, []);
    expect(ledger.ackedUpTo()).toBe(4);
    ledger.applyAck(99, []);
    expect(ledger.ackedUpTo()).toBe(5);
    expect(ledger.figures()).toMatchObject({ lastSeq: 5, ackedUpTo: 5, outboxDepth: 0, rejected: 1 });
  });

  it('prunes only old synced records as a prefix; unsynced and rejected ones are never deleted', () => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const dir = tempDir();
    const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
    const ledger = new Ledger({ db, dir, now: () => new Date(clock) });
    for (let i = 1; i <= 6; i++) {
      ledger.transact(() => ledger.append('sale.completed', { i }));
      clock += 86_400_000;
    }
    ledger.applyAck(2, []);
    ledger.applyAck(4, [{ seq: 3, code: 'X', message: 'y' }]);
    const later = new Date(clock + 365 * 86_400_000);
    expect(ledger.prune(later)).toBe(2);
    expect(ledger.page(0, 10).map((r) => r.seq)).toEqual([3, 4, 5, 6]);
    expect(ledger.prune(later)).toBe(0);
    ledger.transact(() => ledger.append('sale.completed', { i: 7 }));
    expect(ledger.lastSeq()).toBe(7);
    expect(ledger.verify()).toBeUndefined();
  });

  it('continues seq and chain from the pruned head when pruning empties the table', () => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const dir = tempDir();
    const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
    const ledger = new Ledger({ db, dir, now: () => new Date(clock) });
    ledger.transact(() => {
      for (let i = 1; i <= 3; i++) ledger.append('sale.completed', { i });
    });
    const chainOf3 = ledger.page(2, 1)[0]!.chain;
    ledger.applyAck(3, []);
    clock += 400 * 86_400_000;
    expect(ledger.prune(new Date(clock))).toBe(3);
    expect(ledger.page(0, 10)).toEqual([]);
    expect(ledger.lastSeq()).toBe(3);
    const next = ledger.transact(() => ledger.append('sale.completed', { i: 4 }));
    expect(next.seq).toBe(4);
    expect(verifyChain([next], chainOf3)).toBeUndefined();
    expect(ledger.verify()).toBeUndefined();
  });

  it('keeps its epoch across reopen and makes a new one for a new database', () => {
    const dir = tempDir();
    const first = openLedger(dir);
    const epoch = first.ledger.epoch;
    first.ledger.transact(() => first.ledger.append('sale.completed', {}));
    first.db.close();
    const again = openLedger(dir);
    expect(again.ledger.epoch).toBe(epoch);
    expect(again.ledger.lastSeq()).toBe(1);
    expect(openLedger().ledger.epoch).not.toBe(epoch);
  });
});

describe('migrations', () => {
  it('each migration applies in order on an empty database and sets user_version', () => {
    for (const m of MIGRATIONS) {
      const dir = tempDir();
      const db = openDatabase({
        file: join(dir, 'posd.db'),
        log: silentLogger(),
        migrations: MIGRATIONS.filter((x) => x.version <= m.version),
      });
      expect(db.pragma('user_version', { simple: true })).toBe(m.version);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      db.close();
    }
  });

  it('0001 creates a strict append-only ledger', () => {
    const db = openDatabase({
      file: join(tempDir(), 'posd.db'),
      log: silentLogger(),
      migrations: [MIGRATIONS[0]!],
    });
    expect(() =>
      db
        .prepare("INSERT INTO ledger (seq, id, type, at, body, chain) VALUES (1, 'i', 't', 'a', 'b', X'00')")
        .run(),
    ).toThrow(/cannot store BLOB value in TEXT column/);
    expect(() =>
      db
        .prepare(
          "INSERT INTO ledger (seq, id, type, at, body, chain, sync) VALUES (1, 'i', 't', 'a', 'b', 'c', 'lost')",
        )
        .run(),
    ).toThrow(/CHECK constraint/);
  });

  it('0002 upgrades a 0001 database that already holds records, keeping them', () => {
    const dir = tempDir();
    const old = openDatabase({
      file: join(dir, 'posd.db'),
      log: silentLogger(),
      migrations: [MIGRATIONS[0]!],
    });
    // Written as the 0001 code wrote it (today's Ledger needs today's schema).
    old.prepare("INSERT INTO meta (key, value) VALUES ('epoch', 'E-0001')").run();
    old.prepare('INSERT INTO ledger_head (one, pruned_chain) VALUES (1, ?)').run(GENESIS_CHAIN);
    old
      .prepare('INSERT INTO ledger (seq, id, type, at, body, chain) VALUES (1, ?, ?, ?, ?, ?)')
      .run('r1', 'sale.completed', '2026-12-01T10:00:00.000Z', '{"kept":true}', 'c'.repeat(64));
    old.close();
    const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
    expect(db.pragma('user_version', { simple: true })).toBe(latestVersion());
    const upgraded = new Ledger({ db, dir });
    expect(upgraded.recordsAfter(0, 10)[0]!.body).toEqual({ kept: true });
    expect(upgraded.epoch).toBe('E-0001');
    expect(upgraded.lastSeq()).toBe(1);
    expect(() =>
      db
        .prepare(
          "INSERT INTO sales (id, kind, status, currency, total, doc, created_at) VALUES ('s', 'sale', 'open', 'CNY', -1, '{}', 'now')",
        )
        .run(),
    ).toThrow(/CHECK constraint/);
  });

  it('refuses a database written by newer code and leaves it untouched', () => {
    const dir = tempDir();
    const file = join(dir, 'posd.db');
    const raw = new Database(file);
    raw.pragma(`user_version = ${latestVersion() + 1}`);
    raw.close();
    expect(() => openDatabase({ file, log: silentLogger() })).toThrow(/newer than this posd understands/);
    const check = new Database(file);
    expect(check.pragma('user_version', { simple: true })).toBe(latestVersion() + 1);
    expect(check.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get()).toEqual({
      n: 0,
    });
  });
});

describe('ledger epochs (a restored copy moves on)', () => {
  it('moves unsent records to a new epoch: same ids, seq from 1, chained from genesis; the file keeps the originals', () => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const dir = tempDir();
    const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
    const ledger = new Ledger({ db, dir, now: () => new Date(clock) });
    ledger.transact(() => {
      for (let i = 1; i <= 4; i++) ledger.append('sale.completed', { i });
    });
    ledger.applyAck(2, []);
    const old = ledger.epoch;
    const ids = ledger.page(0, 10).map((r) => r.id);
    const moved = ledger.moveToNewEpoch(2, 'restored');
    expect(moved.resent).toBe(2);
    expect(ledger.epoch).not.toBe(old);
    expect(ledger.lastSeq()).toBe(2);
    expect(ledger.ackedUpTo()).toBe(0);
    const wire = ledger.outbox.recordsAfter(0, 10);
    expect(wire.map((r) => [r.seq, r.id])).toEqual([
      [1, ids[2]],
      [2, ids[3]],
    ]);
    expect(verifyChain(wire)).toBeUndefined();
    expect(ledger.figures()).toMatchObject({ lastSeq: 2, ackedUpTo: 0, outboxDepth: 2 });
    // Services read each fact once; the file still holds six rows.
    expect(ledger.recordsAfter(0, 10).map((r) => r.body.i)).toEqual([1, 2, 3, 4]);
    expect(db.prepare('SELECT count(*) AS n FROM ledger').get()).toEqual({ n: 6 });
    expect(ledger.verify()).toBeUndefined();
    // Acks of the new epoch sync the copies; retention may then drop the originals too.
    ledger.applyAck(2, []);
    expect(ledger.page(0, 10).every((r) => r.sync === 'synced')).toBe(true);
    clock += 400 * 86_400_000;
    expect(ledger.prune(new Date(clock))).toBe(6);
    const next = ledger.transact(() => ledger.append('sale.completed', { i: 5 }));
    expect(ledger.lastSeq()).toBe(3);
    expect(ledger.outbox.recordsAfter(2, 1)[0]!.id).toBe(next.id);
    expect(ledger.verify()).toBeUndefined();
    // The epoch survives a reopen.
    db.close();
    const again = openLedger(dir).ledger;
    expect(again.epoch).toBe(moved.epoch);
    expect(again.lastSeq()).toBe(3);
  });

  it('a move with nothing to resend starts the new epoch at seq 0, chained from genesis', () => {
    const { ledger } = openLedger();
    ledger.transact(() => ledger.append('sale.completed', { i: 1 }));
    ledger.applyAck(1, []);
    ledger.moveToNewEpoch(1, 'restored');
    expect(ledger.lastSeq()).toBe(0);
    const r = ledger.transact(() => ledger.append('sale.completed', { i: 2 }));
    expect(verifyChain(ledger.outbox.recordsAfter(0, 5), GENESIS_CHAIN)).toBeUndefined();
    expect(ledger.outbox.recordsAfter(0, 5).map((x) => x.id)).toEqual([r.id]);
  });
});
