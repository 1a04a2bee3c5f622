import type { Migration } from './migration.js';

/**
 * The recent-sales list is ordered by a sequence number, not by the sale id: ids are UUIDv7, made
 * from the wall clock, and a terminal whose clock went back listed a newer sale under older ones.
 * `seq` is given on insert (the next after the highest, under the write lock). Sales made before
 * this migration keep the order they were listed in (by id). Additive: older code inserts without
 * `seq`, and the trigger gives those rows theirs, so newer code lists them in place after a retried
 * update (decision 0007).
 */
export const salesSeqMigration: Migration = {
  version: 14,
  name: 'sales-seq',
  additive: true,
  up(db) {
    db.exec(`
      ALTER TABLE sales ADD COLUMN seq INTEGER;
      UPDATE sales SET seq = o.n
        FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM sales) AS o
        WHERE o.id = sales.id;
      CREATE UNIQUE INDEX sales_by_seq ON sales (seq);
      CREATE TRIGGER sales_seq_when_missing AFTER INSERT ON sales WHEN NEW.seq IS NULL
      BEGIN
        UPDATE sales SET seq = (SELECT coalesce(max(seq), 0) + 1 FROM sales) WHERE id = NEW.id;
      END;
    `);
  },
};
