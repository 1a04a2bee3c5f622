import type { Migration } from './migration.js';

/**
 * The payments a start resumes (unresolved, late-checked, watched) are few; without these partial
 * indexes each query scanned the whole table, so a start slowed as the ledger grew (issue 18).
 */
export const paymentWatchIndexesMigration: Migration = {
  version: 12,
  name: 'payment-watch-indexes',
  up(db) {
    db.exec(`
      CREATE INDEX payments_unresolved ON payments (id) WHERE status IN ('pending', 'unknown');
      CREATE INDEX payments_late_check ON payments (id) WHERE json_extract(doc, '$.lateCheck') = 1;
      CREATE INDEX payments_watched ON payments (id) WHERE json_extract(doc, '$.watchUntil') IS NOT NULL;
    `);
  },
};
