import type { Migration } from './migration.js';

/**
 * The epochs this ledger file has lived through (mqtt-v1 "Restored database"). A restored copy
 * moves to a new epoch: records the cloud has not stored are appended again under it (same ids,
 * re-chained from seq 1), and the originals stay in the file with `moved_to` pointing at the copy.
 * On the wire a record's seq is its row's seq minus its epoch's `base`.
 */
export const ledgerEpochsMigration: Migration = {
  version: 8,
  name: 'ledger-epochs',
  up(db) {
    db.exec(`
      ALTER TABLE ledger ADD COLUMN moved_to INTEGER;

      CREATE TABLE ledger_epochs (
        n INTEGER PRIMARY KEY,
        epoch TEXT NOT NULL UNIQUE,
        base INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        reason TEXT NOT NULL,
        previous TEXT,
        resent_from INTEGER,
        receipt_series TEXT
      ) STRICT;

      INSERT INTO ledger_epochs (n, epoch, base, started_at, reason)
        SELECT 1, value, 0, coalesce((SELECT value FROM meta WHERE key = 'created_at'), ''), 'created'
        FROM meta WHERE key = 'epoch';
    `);
  },
};
