import type { Migration } from './migration.js';

/** Stored-value recharges: committed with their ledger record, sent to the cloud until answered. */
export const rechargesMigration: Migration = {
  version: 5,
  name: 'recharges',
  up(db) {
    db.exec(`
      CREATE TABLE recharges (
        id TEXT PRIMARY KEY,
        member_id TEXT NOT NULL,
        amount INTEGER NOT NULL CHECK (amount > 0),
        tender TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'failed')),
        detail TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
