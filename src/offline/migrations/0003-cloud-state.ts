import type { Migration } from './migration.js';

/** What the cloud sends that must survive restarts: business config, commands run, orders taken. */
export const cloudStateMigration: Migration = {
  version: 3,
  name: 'cloud-state',
  up(db) {
    db.exec(`
      CREATE TABLE business_config (
        one INTEGER PRIMARY KEY CHECK (one = 1),
        version INTEGER NOT NULL,
        issued_at TEXT NOT NULL,
        doc TEXT NOT NULL,
        applied_at TEXT NOT NULL
      ) STRICT;

      -- A rejected envelope is recorded once, however often the broker redelivers it.
      CREATE TABLE config_rejections (
        envelope_hash TEXT PRIMARY KEY,
        version INTEGER,
        at TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE commands (
        cmd_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        result TEXT,
        at TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE orders (
        id TEXT PRIMARY KEY,
        down_seq INTEGER,
        status TEXT NOT NULL,
        doc TEXT NOT NULL,
        received_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE sync_state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
