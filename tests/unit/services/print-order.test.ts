import { join } from 'node:path';
import fc from 'fast-check';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/bus.js';
import { openDatabase } from '../../../src/offline/db.js';
import { GroupCommit } from '../../../src/offline/group-commit.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { MIGRATIONS } from '../../../src/offline/migrations/index.js';
import { PrintQueue } from '../../../src/offline/print-queue.js';
import { PrintService } from '../../../src/services/print-service.js';
import { tempDir } from '../../helpers/daemon.js';
import { ScriptedPrinter } from '../../helpers/scripted-printer.js';
import { silentLogger } from '../../helpers/test-log.js';

/*
 * Print jobs print in the order they were queued, not in the order of the clock that stamped them:
 * a terminal whose clock goes back (no RTC battery, NTP correcting) while the printer is out of paper
 * printed the later receipts first. Job ids are UUIDv7 from that clock, as the daemon makes them.
 */
function setup(groupCommit: boolean, dir = tempDir('posd-print-order-')) {
  const file = join(dir, 'posd.db');
  const log = silentLogger();
  const db = openDatabase({ file, log, ...(groupCommit ? { synchronous: 'NORMAL' as const } : {}) });
  const commits = groupCommit ? new GroupCommit({ db, file, log }) : undefined;
  const ledger = new Ledger({ db, dir, ...(commits ? { groupCommit: commits } : {}) });
  let clock = Date.parse('2026-11-24T10:00:00Z');
  let n = 0;
  const printer = new ScriptedPrinter();
  printer.ready = false;
  const service = new PrintService({
    queue: new PrintQueue(db),
    ledger,
    bus: new EventBus(),
    log,
    render: (kind, payload) => Buffer.from(`${kind}:${String(payload)}`),
    printer,
    now: () => new Date(clock),
    // Ids follow the clock (as after a restart: UUIDv7 stays monotonic only within a process).
    newId: () => uuidv7({ msecs: clock, seq: n++ }),
  });
  service.start(60_000);
  return {
    db,
    service,
    printer,
    jump: (ms: number) => {
      clock += ms;
    },
    close: async () => {
      await service.stop();
      await commits?.close();
      db.close();
    },
  };
}

describe('print jobs print in the order they were queued, whatever the clock did', () => {
  for (const groupCommit of [false, true]) {
    it(`one job at a time${groupCommit ? ' and several behind one flush' : ''}`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: -86_400_000, max: 3_600_000 }), { minLength: 2, maxLength: 20 }),
          async (jumps) => {
            const t = setup(groupCommit);
            const queued = jumps.map((jump, i) => {
              t.jump(jump);
              t.service.enqueue('sale', `R${i}`);
              return `sale:R${i}`;
            });
            await t.service.idle();
            t.printer.becomeReady();
            await t.service.idle();
            expect(t.printer.paper).toEqual(queued);
            await t.close();
          },
        ),
        { numRuns: 15 },
      );
    });
  }

  it('a job older code queued after a rollback (no sequence) prints after those queued before it', async () => {
    const t = setup(false);
    t.service.enqueue('sale', 'R0');
    t.jump(-3_600_000);
    // The insert of code before the print sequence: it names no `seq`.
    t.db
      .prepare(
        `INSERT INTO print_jobs (id, kind, ref_id, payload, status, reprint, created_at, updated_at)
         VALUES (?, 'sale', NULL, '"R1"', 'queued', 0, ?, ?)`,
      )
      .run(uuidv7({ msecs: 0 }), '2026-11-24T09:00:00.000Z', '2026-11-24T09:00:00.000Z');
    t.service.enqueue('sale', 'R2');
    await t.service.idle();
    t.printer.becomeReady();
    await t.service.idle();
    expect(t.printer.paper).toEqual(['sale:R0', 'sale:R1', 'sale:R2']);
    await t.close();
  });

  it('jobs queued before the update keep their order (by the time they were queued)', async () => {
    const dir = tempDir('posd-print-order-');
    const SEQ = MIGRATIONS.find((m) => m.name === 'print-jobs-seq')!.version;
    const older = openDatabase({
      file: join(dir, 'posd.db'),
      log: silentLogger(),
      migrations: MIGRATIONS.filter((m) => m.version < SEQ),
    });
    const insert = older.prepare(
      `INSERT INTO print_jobs (id, kind, ref_id, payload, status, reprint, created_at, updated_at)
       VALUES (?, 'sale', NULL, ?, ?, 0, ?, ?)`,
    );
    const at = (m: number) => `2026-11-24T09:0${m}:00.000Z`;
    insert.run(uuidv7({ msecs: 3 }), '"R2"', 'queued', at(2), at(2));
    insert.run(uuidv7({ msecs: 1 }), '"P"', 'printed', at(0), at(0));
    insert.run(uuidv7({ msecs: 2 }), '"R1"', 'printing', at(1), at(1));
    older.close();
    const t = setup(false, dir);
    t.jump(-86_400_000);
    t.service.enqueue('sale', 'R3');
    await t.service.idle();
    t.printer.becomeReady();
    await t.service.idle();
    expect(t.printer.paper).toEqual(['sale:R1', 'sale:R2', 'sale:R3']);
    await t.close();
  });
});
