import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { latestVersion, openDatabase } from '../../../src/offline/db.js';
import { MIGRATIONS, type Migration } from '../../../src/offline/migrations/index.js';
import { tempDir } from '../../helpers/daemon.js';
import { paymentSetup } from '../../helpers/payment-setup.js';
import { silentLogger } from '../../helpers/test-log.js';

/*
 * Decision 0007: an update's migrations must not strand the version it rolls back to. A newer
 * posd is modelled by today's code plus one more migration; the "older" posd is today's code.
 */

const NEXT = latestVersion() + 1;

/** What a next version might add: a column it fills and a table of its own. */
const additive: Migration = {
  version: NEXT,
  name: 'loyalty-notes',
  additive: true,
  up(db) {
    db.exec(`
      ALTER TABLE sales ADD COLUMN loyalty_note TEXT;
      CREATE TABLE loyalty_notes (sale_id TEXT PRIMARY KEY, note TEXT NOT NULL) STRICT;
    `);
  },
};

/** A migration older code cannot live with (a column renamed). */
const breaking: Migration = {
  version: NEXT,
  name: 'rename-doc',
  up(db) {
    db.exec('ALTER TABLE sales RENAME COLUMN doc TO document');
  },
};

function sell(t: ReturnType<typeof paymentSetup>, n: number, price: number): string[] {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const reply = t.sales.createSale({
      lines: [{ name: `Item ${price}`, qty: 1, unitPrice: price }],
      tenders: [{ method: 'cash', amount: price }],
    });
    expect(reply.body.status).toBe('completed');
    ids.push(String(reply.body.saleId));
  }
  return ids;
}

const completedSales = (t: ReturnType<typeof paymentSetup>) =>
  t.ledger.recordsAfter(0, 1000).filter((r) => r.type === 'sale.completed');

describe('the database across versions (an update, then a rollback)', () => {
  it('the older posd opens the database a newer one migrated additively, sells on, and no sale is lost', () => {
    const dir = tempDir('posd-versions-');
    // The old version sells…
    const old1 = paymentSetup(undefined, dir);
    const before = sell(old1, 2, 1_000);
    old1.db.close();
    // …the update migrates and sells, writing its new column too…
    const newer = paymentSetup(undefined, dir, undefined, undefined, [...MIGRATIONS, additive]);
    const during = sell(newer, 3, 2_000);
    newer.db.prepare('UPDATE sales SET loyalty_note = ?').run('gold');
    newer.db.prepare('INSERT INTO loyalty_notes (sale_id, note) VALUES (?, ?)').run(during[0], 'vip');
    expect(newer.db.pragma('user_version', { simple: true })).toBe(NEXT);
    newer.db.close();
    // …it rolls back: the old version opens the same file, as it is, and sells on.
    const old2 = paymentSetup(undefined, dir);
    expect(old2.db.pragma('user_version', { simple: true })).toBe(NEXT);
    const after = sell(old2, 2, 3_000);
    const all = [...before, ...during, ...after];
    expect(completedSales(old2).map((r) => r.body.saleId)).toEqual(all);
    expect(old2.ledger.verify()).toBeUndefined(); // one unbroken chain across the three runs
    // Everything is waiting in the outbox for the uplink, in order.
    const outbox = old2.ledger.outbox.recordsAfter(old2.ledger.outbox.ackedUpTo(), 1000);
    expect(outbox.filter((r) => r.type === 'sale.completed').map((r) => r.body.saleId)).toEqual(all);
    expect(old2.db.prepare('SELECT count(*) AS n FROM loyalty_notes').get()).toEqual({ n: 1 });
    old2.db.close();
    // Updated again: the newer version finds the old one's sales (its column empty there).
    const again = paymentSetup(undefined, dir, undefined, undefined, [...MIGRATIONS, additive]);
    const notes = again.db
      .prepare('SELECT id, loyalty_note FROM sales WHERE id IN (?, ?)')
      .all(during[0], after[0]);
    expect(notes).toEqual(
      expect.arrayContaining([
        { id: during[0], loyalty_note: 'gold' },
        { id: after[0], loyalty_note: null },
      ]),
    );
    expect(completedSales(again)).toHaveLength(7);
    again.db.close();
  });

  it('refuses, writing nothing, a database a newer posd migrated in a way older code cannot use', () => {
    const dir = tempDir('posd-versions-');
    const old = paymentSetup(undefined, dir);
    sell(old, 1, 1_000);
    old.db.close();
    const file = join(dir, 'posd.db');
    openDatabase({ file, log: silentLogger(), migrations: [...MIGRATIONS, breaking] }).close();
    const bytes = readFileSync(file);
    expect(() => openDatabase({ file, log: silentLogger() })).toThrow(
      expect.objectContaining({
        code: 'DB_NEWER_THAN_CODE',
        message: expect.stringMatching(new RegExp(`schema version ${NEXT} .* needs ${NEXT} or newer`)),
      }),
    );
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it('a new database is marked usable down to the first schema that knows the mark', () => {
    const db = openDatabase({ file: join(tempDir(), 'posd.db'), log: silentLogger() });
    expect(db.prepare("SELECT value FROM meta WHERE key = 'compatible_down_to'").get()).toEqual({
      value: '13',
    });
    db.close();
  });
});
