import type { Migration } from './migration.js';

/**
 * Sent and synced are watermarks (issue 18, decision 0005): `ledger_head.acked_up_to` (synced)
 * and `sent_up_to` (PUBACKed, informational) are row seqs; a record's own `sync` column is
 * written only when it is rejected, so syncing a batch rewrites one row, not a hundred.
 */
export const syncWatermarksMigration: Migration = {
  version: 10,
  name: 'sync-watermarks',
  up(db) {
    db.exec(`
      ALTER TABLE ledger_head ADD COLUMN sent_up_to INTEGER NOT NULL DEFAULT 0;
      UPDATE ledger_head SET sent_up_to = max(
        acked_up_to,
        coalesce((SELECT max(seq) FROM ledger WHERE sync = 'sent' AND moved_to IS NULL), 0)
      );
    `);
  },
};
