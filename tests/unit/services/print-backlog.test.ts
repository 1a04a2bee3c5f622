import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/bus.js';
import { openDatabase } from '../../../src/offline/db.js';
import { GroupCommit } from '../../../src/offline/group-commit.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { PrintQueue } from '../../../src/offline/print-queue.js';
import { PrintService } from '../../../src/services/print-service.js';
import { tempDir } from '../../helpers/daemon.js';
import { recordingDb } from '../../helpers/recording-db.js';
import { ScriptedPrinter } from '../../helpers/scripted-printer.js';
import { silentLogger } from '../../helpers/test-log.js';

// Issue 18: 60,000 cash sales left ~57,000 drawer kicks queued behind a slower printer; each step of
// the drain read (and parsed) every waiting job to take the next 8, so the daemon churned ~60 MB
// of heap every few seconds long after the sales, and its RSS stayed at 3× idle.
describe('a backlog of print jobs', () => {
  it('drains in order, each step reading only the jobs it sends, whatever the backlog', async () => {
    const dir = tempDir();
    const file = join(dir, 'posd.db');
    const base = openDatabase({ file, log: silentLogger(), synchronous: 'NORMAL' });
    const groupCommit = new GroupCommit({ db: base, file, log: silentLogger() });
    const ledger = new Ledger({ db: base, dir, groupCommit });
    const { db, record } = recordingDb(base);
    const printer = new ScriptedPrinter();
    printer.ready = false;
    const service = new PrintService({
      queue: new PrintQueue(db),
      ledger,
      bus: new EventBus(),
      log: silentLogger(),
      render: (kind, payload) => Buffer.from(`${kind}:${String(payload)}`),
      printer,
    });
    service.start(60_000);
    const backlog = Array.from({ length: 200 }, (_, i) => `D${i}`);
    ledger.transact(() => {
      for (const d of backlog) service.enqueueInTransaction('drawer', d);
    });
    await service.idle();
    record.maxRows.clear();
    printer.becomeReady();
    await service.idle();
    expect(printer.paper).toEqual(backlog.map((d) => `drawer:${d}`));
    const most = Math.max(...record.maxRows.values());
    expect(most, JSON.stringify([...record.maxRows])).toBeLessThanOrEqual(8);
    await service.stop();
    await groupCommit.close();
    base.close();
  });
});
