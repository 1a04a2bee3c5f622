import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { MIGRATIONS } from '../../../src/offline/migrations/index.js';
import { tempDir } from '../../helpers/daemon.js';
import { silentLogger } from '../../helpers/test-log.js';

// Sent and synced are watermarks on the ledger head (issue 18, decision 0005): an ack or a
// PUBACK mark writes one row, whatever the number of records it covers.

function open(dir: string) {
  const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
  return { db, ledger: new Ledger({ db, dir }) };
}

const changes = (db: Db) => db.prepare<[], { n: number }>('SELECT total_changes() AS n').get()!.n;
const states = (ledger: Ledger) => ledger.page(0, 1000).map((r) => r.sync);

describe('sync watermarks', () => {
  it('marking 100 records sent and then synced writes one row each time, never the records', () => {
    const { db, ledger } = open(tempDir());
    ledger.transact(() => {
      for (let i = 1; i <= 100; i++) ledger.append('sale.completed', { i });
    });
    const rows = () => db.prepare('SELECT seq, sync, synced_at FROM ledger ORDER BY seq').all();
    const before = rows();
    let n = changes(db);
    ledger.markSent(1, 100);
    expect(changes(db) - n).toBe(1);
    expect(states(ledger).every((s) => s === 'sent')).toBe(true);
    n = changes(db);
    ledger.applyAck(100, []);
    expect(changes(db) - n).toBe(1);
    expect(states(ledger).every((s) => s === 'synced')).toBe(true);
    expect(rows()).toEqual(before);
    expect(ledger.figures()).toMatchObject({ lastSeq: 100, ackedUpTo: 100, outboxDepth: 0 });
  });

  it('sent and synced survive a restart; a new process’s ack syncs what an earlier one had on the wire, no more', () => {
    const dir = tempDir();
    const first = open(dir);
    first.ledger.transact(() => {
      for (let i = 1; i <= 5; i++) first.ledger.append('sale.completed', { i });
    });
    first.ledger.markSent(1, 3);
    first.ledger.applyAck(1, []);
    first.db.close();

    const again = open(dir);
    expect(states(again.ledger)).toEqual(['synced', 'sent', 'sent', 'pending', 'pending']);
    // This process has put nothing on the wire yet (sentUpTo 0): records 4 and 5 were never
    // sent by this database, so an ack that names them (a restored copy's) does not sync them.
    again.ledger.applyAck(5, [], 0);
    expect(again.ledger.ackedUpTo()).toBe(3);
    expect(states(again.ledger)).toEqual(['synced', 'synced', 'synced', 'pending', 'pending']);
    expect(again.ledger.figures()).toMatchObject({ outboxDepth: 2 });
  });

  it('a rejected record keeps its own mark above and below the watermark, and across a restart', () => {
    const dir = tempDir();
    const first = open(dir);
    first.ledger.transact(() => {
      for (let i = 1; i <= 4; i++) first.ledger.append('sale.completed', { i });
    });
    first.ledger.applyAck(3, [{ seq: 2, code: 'CHAIN_BROKEN', message: 'bad chain' }]);
    first.db.close();
    const again = open(dir);
    expect(states(again.ledger)).toEqual(['synced', 'rejected', 'synced', 'pending']);
    expect(again.ledger.rejected().map((r) => r.syncError?.code)).toEqual(['CHAIN_BROKEN']);
    expect(again.ledger.figures()).toMatchObject({ outboxDepth: 1, rejected: 1 });
  });

  it('a move to a new epoch starts both watermarks at its base: the copies wait, the originals are settled', () => {
    const dir = tempDir();
    const first = open(dir);
    first.ledger.transact(() => {
      for (let i = 1; i <= 4; i++) first.ledger.append('sale.completed', { i });
    });
    first.ledger.markSent(1, 4);
    first.ledger.applyAck(2, []);
    // SEQ_CONFLICT at seq 3: records above the ack go again under a new epoch.
    const moved = first.ledger.moveToNewEpoch(2, 'restored');
    expect(moved.resent).toBe(2);
    const check = (ledger: Ledger) => {
      expect(ledger.lastSeq()).toBe(2);
      expect(ledger.ackedUpTo()).toBe(0);
      expect(ledger.page(0, 10).map((r) => [r.seq, r.sync])).toEqual([
        [1, 'synced'],
        [2, 'synced'],
        [5, 'pending'],
        [6, 'pending'],
      ]);
      expect(ledger.figures()).toMatchObject({ outboxDepth: 2 });
      expect(ledger.unsyncedSales().count).toBe(2);
    };
    check(first.ledger);
    first.db.close();
    const again = open(dir);
    check(again.ledger);
    // An ack of the new epoch from a process that has sent nothing syncs nothing.
    again.ledger.applyAck(2, [], 0);
    expect(again.ledger.ackedUpTo()).toBe(0);
    again.ledger.markSent(1, 2);
    again.ledger.applyAck(2, [], 0);
    expect(again.ledger.ackedUpTo()).toBe(2);
    expect(states(again.ledger)).toEqual(['synced', 'synced', 'synced', 'synced']);
    expect(again.ledger.verify()).toBeUndefined();
  });

  it('migration 0010 carries the per-record states of an older database over to the watermarks', () => {
    const dir = tempDir();
    const file = join(dir, 'posd.db');
    const old = openDatabase({
      file,
      log: silentLogger(),
      migrations: MIGRATIONS.filter((m) => m.version <= 9),
    });
    const epoch = '019a9b2c-0000-7000-8000-00000000e001';
    old.exec(`
      INSERT INTO meta (key, value) VALUES ('epoch', '${epoch}'), ('created_at', '2026-11-01T00:00:00.000Z');
      INSERT INTO ledger_head (one, acked_up_to, pruned_chain) VALUES (1, 3, '${'0'.repeat(64)}');
      INSERT INTO ledger_epochs (n, epoch, base, started_at, reason) VALUES (1, '${epoch}', 0, '2026-11-01T00:00:00.000Z', 'created');
    `);
    const sync = ['synced', 'rejected', 'synced', 'sent', 'sent', 'pending'];
    const insert = old.prepare(
      "INSERT INTO ledger (seq, id, type, at, body, chain, sync) VALUES (?, ?, 'sale.completed', '2026-11-01T00:00:00.000Z', '{}', 'c', ?)",
    );
    for (const [i, s] of sync.entries()) insert.run(i + 1, `id-${i + 1}`, s);
    old.close();
    const { ledger } = open(dir);
    expect(states(ledger)).toEqual(sync);
    expect(ledger.figures()).toMatchObject({ lastSeq: 6, ackedUpTo: 3, outboxDepth: 3, rejected: 1 });
  });
});
