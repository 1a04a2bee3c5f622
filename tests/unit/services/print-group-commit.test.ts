import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/bus.js';
import { openDatabase } from '../../../src/offline/db.js';
import { GroupCommit } from '../../../src/offline/group-commit.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { PrintQueue } from '../../../src/offline/print-queue.js';
import { PrintService } from '../../../src/services/print-service.js';
import { tempDir } from '../../helpers/daemon.js';
import { printRig } from '../../helpers/print-rig.js';
import { ScriptedPrinter } from '../../helpers/scripted-printer.js';
import { silentLogger } from '../../helpers/test-log.js';

function setup(render?: (kind: string, payload: unknown) => Uint8Array) {
  return printRig(render ? { render } : {});
}

describe('print queue under group commit (decision 0005)', () => {
  it('receipts queued together go out behind one flush, each once, in order', async () => {
    const t = setup();
    await t.ledger.durable();
    const before = t.groupCommit.flushes;
    t.ledger.transact(() => {
      for (const r of ['A', 'B', 'C', 'D', 'E']) t.service.enqueueInTransaction('receipt', r);
    });
    t.service.start(60_000);
    await t.service.idle();
    expect(t.printer.paper).toEqual(['receipt:A', 'receipt:B', 'receipt:C', 'receipt:D', 'receipt:E']);
    // The jobs and their `printing` marks: one flush before the first byte went out.
    expect(t.groupCommit.flushes - before).toBe(1);
    await t.service.stop();
  });

  it('paper out in the middle: that job prints again as a reprint, the ones behind it never left and print unmarked', async () => {
    const t = setup();
    await t.ledger.durable();
    t.printer.outcomes.push({ result: 'printed' }, { result: 'maybe-partial', reason: 'paper out' });
    t.ledger.transact(() => {
      for (const r of ['A', 'B', 'C', 'D']) t.service.enqueueInTransaction('receipt', r);
    });
    t.service.start(60_000);
    await t.service.idle();
    expect(t.printer.paper).toEqual(['receipt:A', 'receipt:B']);
    t.ledger.transact(() => {}); // A's mark `printed` rides in the next transaction
    expect(t.queue.waiting().map((j) => [j.payload, j.status, j.reprint])).toEqual([
      ['B', 'queued', true],
      ['C', 'queued', false],
      ['D', 'queued', false],
    ]);
    t.printer.becomeReady();
    await t.service.idle();
    expect(t.printer.paper).toEqual([
      'receipt:A',
      'receipt:B',
      'REPRINT receipt:B',
      'receipt:C',
      'receipt:D',
    ]);
    await t.service.stop();
  });
  it("a sale's reply goes out before its receipt is laid out (the answer never waits for the render)", async () => {
    const order: string[] = [];
    const t = setup((kind, payload) => {
      order.push(`render ${String(payload)}`);
      return Buffer.from(`${kind}:${String(payload)}`);
    });
    t.service.start(60_000);
    await t.ledger.durable();
    // What the HTTP server does for a sale: commit (the receipt queued inside), then answer once durable.
    t.ledger.transact(() => t.service.enqueueInTransaction('receipt', 'A'));
    await Promise.resolve(); // the route's own turns before it waits for the flush
    const reply = t.ledger.durable().then(() => order.push('reply'));
    await reply;
    await t.service.idle();
    expect(order).toEqual(['reply', 'render A']);
    expect(t.printer.paper).toEqual(['receipt:A']);
    await t.service.stop();
  });

  it('a receipt that cannot be laid out is cancelled after its flush, and the one behind it prints', async () => {
    const t = setup((kind, payload) => {
      if (payload === 'bad') throw new Error('no template');
      return Buffer.from(`${kind}:${String(payload)}`);
    });
    await t.ledger.durable();
    t.ledger.transact(() => {
      for (const r of ['bad', 'B']) t.service.enqueueInTransaction('receipt', r);
    });
    t.service.start(60_000);
    await t.service.idle();
    expect(t.printer.paper).toEqual(['receipt:B']);
    t.ledger.transact(() => {}); // B's mark `printed` rides in the next transaction
    expect(t.queue.recent(5).map((j) => [j.payload, j.status])).toEqual([
      ['B', 'printed'],
      ['bad', 'cancelled'],
    ]);
    await t.service.stop();
  });
  it('whether a receipt opens the drawer is decided as it is laid out, not when its batch was marked', async () => {
    const dir = tempDir();
    const file = join(dir, 'posd.db');
    const db = openDatabase({ file, log: silentLogger(), synchronous: 'NORMAL' });
    const ledger = new Ledger({ db, dir, groupCommit: new GroupCommit({ db, file, log: silentLogger() }) });
    let clock = 0;
    const laidOut: Array<[unknown, boolean]> = [];
    class SlowPrinter extends ScriptedPrinter {
      override async print(bytes: Uint8Array) {
        clock += 61_000; // each receipt confirmed 61 s later: past the drawer's window
        return super.print(bytes);
      }
    }
    const service = new PrintService({
      queue: new PrintQueue(db),
      ledger,
      bus: new EventBus(),
      log: silentLogger(),
      monotonic: () => clock,
      render: (kind, payload, { drawer }) => {
        laidOut.push([payload, drawer]);
        return Buffer.from(`${kind}:${String(payload)}`);
      },
      printer: new SlowPrinter(),
    });
    await ledger.durable();
    ledger.transact(() => {
      for (const r of ['A', 'B']) service.enqueueInTransaction('receipt', r);
    });
    service.start(600_000);
    await service.idle();
    expect(laidOut).toEqual([
      ['A', true],
      ['B', false], // queued 61 s before it was laid out: nobody may be standing at the drawer
    ]);
    await service.stop();
  });

  it('a receipt is marked printed in the next transaction: told once that is written, never taken again meanwhile', async () => {
    const t = setup();
    await t.ledger.durable();
    const told: Array<[string, string]> = [];
    t.bus.on('print.job', ({ data }) => {
      if (data.status === 'printed') told.push([String(data.jobId), t.queue.get(String(data.jobId))!.status]);
    });
    // The first try to mark A fails (its savepoint rolls back): A stays `printing` on file a while.
    let failures = 1;
    t.service.onPrintedInTransaction(() => {
      if (failures-- > 0) throw new Error('disk trouble');
    });
    const [a, b] = t.ledger.transact(() => [
      t.service.enqueueInTransaction('receipt', 'A'),
      t.service.enqueueInTransaction('receipt', 'B'),
    ]);
    t.service.start(60_000);
    await t.service.idle();
    const printedBoth = new Promise<void>((resolve) =>
      t.bus.on('print.job', () => {
        if (told.length === 2) resolve();
      }),
    );
    if (told.length < 2) await printedBoth;
    t.service.kick(); // the queue looks again: A must not go out a second time
    await t.service.idle();
    expect(t.printer.paper).toEqual(['receipt:A', 'receipt:B']);
    expect(told.sort()).toEqual(
      [
        [a, 'printed'],
        [b, 'printed'],
      ].sort(),
    );
    expect(t.queue.waiting()).toEqual([]);
    await t.service.stop();
  });
});
