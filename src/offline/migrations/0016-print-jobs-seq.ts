import type { Migration } from './migration.js';

/**
 * Print jobs print in the order they were queued: a sequence number, not `created_at` (the wall
 * clock, which goes back when NTP corrects it; a receipt queued after that printed before older
 * ones waiting for paper). Jobs queued before this migration keep the order they had. Additive:
 * older code inserts without `seq` and the trigger gives those rows theirs (decision 0007); its
 * own queries still find the waiting jobs through `print_jobs_waiting`.
 */
export const printJobsSeqMigration: Migration = {
  version: 16,
  name: 'print-jobs-seq',
  additive: true,
  up(db) {
    db.exec(`
      ALTER TABLE print_jobs ADD COLUMN seq INTEGER;
      UPDATE print_jobs SET seq = o.n
        FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM print_jobs) AS o
        WHERE o.id = print_jobs.id;
      CREATE UNIQUE INDEX print_jobs_by_seq ON print_jobs (seq);
      CREATE INDEX print_jobs_waiting_by_seq ON print_jobs (seq) WHERE status IN ('queued', 'printing');
      CREATE TRIGGER print_jobs_seq_when_missing AFTER INSERT ON print_jobs WHEN NEW.seq IS NULL
      BEGIN
        UPDATE print_jobs SET seq = (SELECT coalesce(max(seq), 0) + 1 FROM print_jobs) WHERE id = NEW.id;
      END;
    `);
  },
};
