import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/bus.js';
import { openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { PrintQueue } from '../../../src/offline/print-queue.js';
import { PrintService } from '../../../src/services/print-service.js';
import { tempDir } from '../../helpers/daemon.js';
import { ScriptedPrinter } from '../../helpers/scripted-printer.js';
import { silentLogger } from '../../helpers/test-log.js';

function setup(dir = tempDir(), printer = new ScriptedPrinter()) {
  const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
  const ledger = new Ledger({ db, dir });
  const service = new PrintService({
    queue: new PrintQueue(db),
    ledger,
    bus: new EventBus(),
    log: silentLogger(),
    render: (kind, payload, { reprint }) =>
      Buffer.from(`${reprint ? 'REPRINT ' : ''}${kind}:${String(payload)}`),
    printer,
  });
  return { db, dir, printer, service };
}

describe('print queue', () => {
  it('prints jobs in order, once each', async () => {
    const t = setup();
    t.service.start(60_000);
    t.service.enqueue('receipt', 'A');
    t.service.enqueue('receipt', 'B');
    await t.service.idle();
    expect(t.printer.paper).toEqual(['receipt:A', 'receipt:B']);
    await t.service.stop();
  });

  it('paper out mid-job: the job waits, then prints again marked as a reprint', async () => {
    const t = setup();
    t.service.start(60_000);
    t.printer.outcomes.push({ result: 'maybe-partial', reason: 'paper out' });
    t.service.enqueue('receipt', 'A');
    t.service.enqueue('receipt', 'B');
    await t.service.idle();
    expect(t.printer.paper).toEqual(['receipt:A']);
    t.printer.becomeReady(); // paper loaded
    await t.service.idle();
    expect(t.printer.paper).toEqual(['receipt:A', 'REPRINT receipt:A', 'receipt:B']);
    await t.service.stop();
  });

  it('a job that never started prints again as is, not as a reprint', async () => {
    const t = setup();
    t.service.start(60_000);
    t.printer.outcomes.push({ result: 'not-started', reason: 'offline' });
    t.service.enqueue('receipt', 'A');
    await t.service.idle();
    t.printer.becomeReady();
    await t.service.idle();
    expect(t.printer.paper).toEqual(['receipt:A']);
    await t.service.stop();
  });

  it('a job that cannot be rendered is cancelled, and the jobs behind it still print', async () => {
    const dir = tempDir();
    const printer = new ScriptedPrinter();
    const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
    const service = new PrintService({
      queue: new PrintQueue(db),
      ledger: new Ledger({ db, dir }),
      bus: new EventBus(),
      log: silentLogger(),
      render: (kind, payload) => {
        if (payload === 'BAD') throw new Error('no template');
        return Buffer.from(`${kind}:${String(payload)}`);
      },
      printer,
    });
    service.start(60_000);
    const bad = service.enqueue('receipt', 'BAD');
    service.enqueue('receipt', 'B');
    await service.idle();
    expect(printer.paper).toEqual(['receipt:B']);
    expect(service.recent(10).find((j) => j.id === bad)).toMatchObject({ status: 'cancelled' });
    await service.stop();
  });

  it('nothing prints while the printer is not ready; the queue survives a restart', async () => {
    const printer = new ScriptedPrinter();
    printer.ready = false;
    const t = setup(tempDir(), printer);
    t.service.start(60_000);
    t.service.enqueue('receipt', 'A');
    await t.service.idle();
    expect(printer.paper).toEqual([]);
    await t.service.stop();
    t.db.close();
    const again = setup(t.dir);
    again.service.start(60_000);
    await again.service.idle();
    expect(again.printer.paper).toEqual(['receipt:A']);
    await again.service.stop();
  });

  it('a job interrupted by a crash prints again as a reprint after restart', async () => {
    const busy = new ScriptedPrinter();
    busy.ready = false;
    const t = setup(tempDir(), busy);
    const id = t.service.enqueue('receipt', 'A');
    t.db.prepare("UPDATE print_jobs SET status = 'printing' WHERE id = ?").run(id); // the crash happened here
    await t.service.stop();
    t.db.close();
    const again = setup(t.dir);
    again.service.start(60_000);
    await again.service.idle();
    expect(again.printer.paper).toEqual(['REPRINT receipt:A']);
    await again.service.stop();
  });

  it('a printer ready before start() prints nothing until the interrupted job is marked a reprint', async () => {
    const t = setup();
    const id = t.service.enqueue('receipt', 'A');
    t.db.prepare("UPDATE print_jobs SET status = 'printing' WHERE id = ?").run(id);
    t.db.close();
    const again = setup(t.dir);
    again.printer.becomeReady(); // the driver connects before the queue has recovered
    again.service.kick();
    await again.service.idle();
    expect(again.printer.paper).toEqual([]);
    again.service.start(60_000);
    await again.service.idle();
    expect(again.printer.paper).toEqual(['REPRINT receipt:A']);
    await again.service.stop();
  });
});
