import type { Migration } from './migration.js';

/** Print jobs, committed before they are sent; `reprint` once a job may have printed partly. */
export const printQueueMigration: Migration = {
  version: 6,
  name: 'print-queue',
  up(db) {
    db.exec(`
      CREATE TABLE print_jobs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        ref_id TEXT,
        payload TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('queued', 'printing', 'printed', 'cancelled')),
        reprint INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX print_jobs_waiting ON print_jobs (created_at) WHERE status IN ('queued', 'printing');
    `);
  },
};
