import type { Migration } from './migration.js';

/** Sales, refunds, their payments, shifts, receipt numbering and request idempotency. */
export const salesMigration: Migration = {
  version: 2,
  name: 'sales',
  up(db) {
    db.exec(`
      CREATE TABLE shifts (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
        opened_at TEXT NOT NULL,
        closed_at TEXT,
        opening_cash INTEGER NOT NULL DEFAULT 0,
        doc TEXT NOT NULL DEFAULT '{}'
      ) STRICT;
      CREATE UNIQUE INDEX shifts_one_open ON shifts (status) WHERE status = 'open';

      CREATE TABLE sales (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('sale', 'refund')),
        original_sale_id TEXT REFERENCES sales (id),
        status TEXT NOT NULL CHECK (status IN ('open', 'completed', 'voided')),
        currency TEXT NOT NULL,
        total INTEGER NOT NULL CHECK (total >= 0),
        receipt_no TEXT UNIQUE,
        shift_id TEXT REFERENCES shifts (id),
        doc TEXT NOT NULL,
        created_at TEXT NOT NULL,
        completed_at TEXT,
        voided_at TEXT
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX sales_by_original ON sales (original_sale_id) WHERE original_sale_id IS NOT NULL;

      CREATE TABLE payments (
        id TEXT PRIMARY KEY,
        sale_id TEXT NOT NULL REFERENCES sales (id),
        method TEXT NOT NULL,
        channel TEXT NOT NULL,
        amount INTEGER NOT NULL CHECK (amount >= 0),
        change INTEGER NOT NULL DEFAULT 0 CHECK (change >= 0),
        status TEXT NOT NULL,
        doc TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX payments_by_sale ON payments (sale_id);

      CREATE TABLE counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE idempotency (
        key TEXT PRIMARY KEY,
        request_hash TEXT NOT NULL,
        status INTEGER NOT NULL,
        response TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;
    `);
  },
};
