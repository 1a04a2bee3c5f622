import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/bus.js';
import { openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { PrintQueue } from '../../../src/offline/print-queue.js';
import { DRAWER_WINDOW_MS, PrintService } from '../../../src/services/print-service.js';
import { tempDir } from '../../helpers/daemon.js';
import { ScriptedPrinter } from '../../helpers/scripted-printer.js';
import { silentLogger } from '../../helpers/test-log.js';
import { waitFor } from '../../helpers/wait.js';

// A receipt that waited for paper, or a drawer job that waited for a printer, must not open the
// drawer minutes later when nobody may be standing at it: only within DRAWER_WINDOW_MS of the sale,
// measured on a monotonic clock, and never for a job queued before a restart.
function setup(dir = tempDir()) {
  const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
  const printer = new ScriptedPrinter();
  const clock = { ms: 1_000 };
  const bus = new EventBus();
  const events: Array<{ kind: string; status: string; inTransaction: boolean }> = [];
  bus.on('print.job', (e) =>
    events.push({ kind: e.data.kind, status: e.data.status, inTransaction: db.inTransaction }),
  );
  const service = new PrintService({
    queue: new PrintQueue(db),
    ledger: new Ledger({ db, dir }),
    bus,
    log: silentLogger(),
    render: (kind, payload, { drawer }) =>
      Buffer.from(`${kind}:${String(payload)}${drawer ? ' +drawer' : ''}`),
    printer,
    monotonic: () => clock.ms,
  });
  service.start(60_000);
  return { db, dir, printer, service, clock, events };
}

describe('the cash drawer opens only at its moment', () => {
  it('a receipt printed at once opens the drawer; one that waited for paper past the window does not', async () => {
    const t = setup();
    t.service.enqueue('sale', 'A');
    await t.service.idle();
    expect(t.printer.paper).toEqual(['sale:A +drawer']);

    t.printer.outcomes.push({ result: 'not-started', reason: 'paper out' });
    t.service.enqueue('sale', 'B');
    await t.service.idle();
    t.clock.ms += DRAWER_WINDOW_MS - 1; // paper loaded within the window: the drawer still opens
    t.printer.becomeReady();
    await t.service.idle();
    expect(t.printer.paper).toEqual(['sale:A +drawer', 'sale:B +drawer']);

    t.printer.outcomes.push({ result: 'not-started', reason: 'paper out' });
    t.service.enqueue('sale', 'C');
    await t.service.idle();
    t.clock.ms += DRAWER_WINDOW_MS + 1;
    t.printer.becomeReady();
    await t.service.idle();
    expect(t.printer.paper).toEqual(['sale:A +drawer', 'sale:B +drawer', 'sale:C']);
    await t.service.stop();
  });

  it('a drawer-only job that waited past the window is cancelled, saying why; the next one opens', async () => {
    const t = setup();
    t.printer.ready = false;
    t.service.enqueue('drawer', 'S1');
    t.clock.ms += DRAWER_WINDOW_MS + 1;
    t.service.enqueue('drawer', 'S2');
    t.printer.becomeReady();
    await t.service.idle();
    expect(t.printer.paper).toEqual(['drawer:S2 +drawer']);
    expect(t.events.filter((e) => e.kind === 'drawer').map((e) => e.status)).toContain('cancelled');
    // Told once its cancel is committed, not from inside the transaction that takes the jobs.
    expect(t.events.filter((e) => e.status === 'cancelled').map((e) => e.inTransaction)).toEqual([false]);
    const cancelled = t.service.recent().find((j) => j.payload === 'S1');
    expect(cancelled?.status).toBe('cancelled');
    await t.service.stop();
  });

  it('after a restart, what was queued before prints without opening the drawer', async () => {
    const first = setup();
    first.printer.ready = false;
    first.service.enqueue('sale', 'A');
    first.service.enqueue('drawer', 'S1');
    await first.service.stop();
    first.db.close();

    const again = setup(first.dir);
    await again.service.idle();
    expect(again.printer.paper).toEqual(['sale:A']);
    await again.service.stop();
  });
});

describe('the jobs that may open the drawer', () => {
  it('are forgotten once past the window, also when no sale follows (a terminal gone quiet after a rush)', async () => {
    const dir = tempDir();
    const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
    const clock = { ms: 1_000 };
    const service = new PrintService({
      queue: new PrintQueue(db),
      ledger: new Ledger({ db, dir }),
      bus: new EventBus(),
      log: silentLogger(),
      render: (kind, payload) => Buffer.from(`${kind}:${String(payload)}`),
      printer: new ScriptedPrinter(),
      monotonic: () => clock.ms,
    });
    service.start(5);
    for (let i = 0; i < 100; i++) {
      service.enqueue('sale', `S${i}`);
      clock.ms += 1_000;
    }
    await service.idle();
    // The window holds its last minute's jobs; the older ones went as each sale came.
    expect(service.drawerWindowJobs()).toBe(Math.floor(DRAWER_WINDOW_MS / 1_000) + 1);
    clock.ms += DRAWER_WINDOW_MS + 1; // then nothing more is sold
    await waitFor(() => service.drawerWindowJobs() === 0 || undefined, 'the window emptied');
    await service.stop();
    db.close();
  });
});
