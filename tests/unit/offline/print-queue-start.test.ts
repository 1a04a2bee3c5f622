import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/offline/db.js';
import { PrintQueue } from '../../../src/offline/print-queue.js';
import { tempDir } from '../../helpers/daemon.js';
import { queryPlan, recordingDb } from '../../helpers/recording-db.js';
import { silentLogger } from '../../helpers/test-log.js';

// Every receipt ever printed stays a row of print_jobs, and drawer kicks no printer took stay queued
// (60,000 sales: 0.4–0.6 s to read them at a start, issue 18): a start's recovery reads only the
// jobs left printing, and the next job is found through the waiting index.
describe('the print queue at a start', () => {
  it('recovers interrupted jobs through an index of the jobs printing, never a scan of every job', () => {
    const base = openDatabase({ file: join(tempDir(), 'posd.db'), log: silentLogger() });
    const { db, record } = recordingDb(base);
    const queue = new PrintQueue(db);
    queue.recoverInterrupted(new Date().toISOString());
    queue.firstWaiting(8);
    expect(record.ran.size).toBe(2);
    for (const sql of record.ran) {
      // The waiting jobs in queue order: the sequence's own waiting index (migration 16).
      const index = sql.startsWith('UPDATE') ? 'print_jobs_printing' : 'print_jobs_waiting_by_seq';
      expect(queryPlan(base, sql), sql).toMatch(new RegExp(`USING (COVERING )?INDEX ${index}\\b`));
    }
    base.close();
  });
});
