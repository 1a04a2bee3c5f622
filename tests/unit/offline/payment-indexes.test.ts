import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/offline/db.js';
import { tempDir } from '../../helpers/daemon.js';
import { silentLogger } from '../../helpers/test-log.js';

// What a start resumes must not scan every payment ever taken: the start would slow with the
// ledger (3 s at 100,000 sales before these indexes).
const RESUME_QUERIES = {
  unresolved: "SELECT id FROM payments WHERE status IN ('pending', 'unknown')",
  lateChecks: "SELECT id FROM payments WHERE json_extract(doc, '$.lateCheck') = 1",
  watchedQrs: "SELECT id FROM payments WHERE json_extract(doc, '$.watchUntil') IS NOT NULL",
  openCount: "SELECT count(*) AS n FROM payments WHERE status IN ('pending', 'unknown')",
};

describe('payments a start resumes', () => {
  it('are found through partial indexes, never a scan of the payments table', () => {
    const db = openDatabase({ file: join(tempDir(), 'posd.db'), log: silentLogger() });
    for (const [name, sql] of Object.entries(RESUME_QUERIES)) {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[])
        .map((r) => r.detail)
        .join('; ');
      expect(plan, name).toMatch(/USING (COVERING )?INDEX payments_(unresolved|late_check|watched)/);
      expect(plan, name).not.toMatch(/^SCAN payments$/m);
    }
    db.close();
  });
});
