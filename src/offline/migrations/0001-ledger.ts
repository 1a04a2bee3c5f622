import type { Migration } from './migration.js';

/** The append-only ledger (mqtt-v1 "Ledger uplink") with each record's outbox state. */
export const ledgerMigration: Migration = {
  version: 1,
  name: 'ledger',
  up(db) {
    db.exec(`
      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;

      CREATE TABLE ledger (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        type TEXT NOT NULL,
        at TEXT NOT NULL,
        body TEXT NOT NULL,
        chain TEXT NOT NULL,
        sync TEXT NOT NULL DEFAULT 'pending' CHECK (sync IN ('pending', 'sent', 'synced', 'rejected')),
        sync_code TEXT,
        sync_message TEXT,
        synced_at TEXT
      ) STRICT;

      -- Rejects are rare: an index only they touch keeps appends to one B-tree.
      CREATE INDEX ledger_rejected ON ledger (seq) WHERE sync = 'rejected';

      -- Outbox position and pruning state; the last record chains from the pruned head when the
      -- ledger is empty after pruning.
      CREATE TABLE ledger_head (
        one INTEGER PRIMARY KEY CHECK (one = 1),
        acked_up_to INTEGER NOT NULL DEFAULT 0,
        pruned_up_to INTEGER NOT NULL DEFAULT 0,
        pruned_chain TEXT NOT NULL
      ) STRICT;

      CREATE TRIGGER ledger_no_update_of_facts BEFORE UPDATE OF seq, id, type, at, body, chain ON ledger
      BEGIN SELECT RAISE(ABORT, 'ledger records are append-only'); END;
    `);
  },
};
