import { describe, expect, it, vi } from 'vitest';
import type { PrintQueue } from '../../../src/offline/print-queue.js';
import type { PrintOutcome } from '../../../src/services/print-service.js';
import { tempDir } from '../../helpers/daemon.js';
import { printRig } from '../../helpers/print-rig.js';
import { queryPlan } from '../../helpers/recording-db.js';
import { ScriptedPrinter } from '../../helpers/scripted-printer.js';

/** A printer that holds each job until the test lets it go. */
class HeldPrinter extends ScriptedPrinter {
  private held: Array<() => void> = [];
  override async print(bytes: Uint8Array): Promise<PrintOutcome> {
    await new Promise<void>((resolve) => this.held.push(resolve));
    return super.print(bytes);
  }
  async release(): Promise<void> {
    while (this.held.length === 0) await new Promise((r) => setImmediate(r));
    this.held.shift()?.();
  }
}

function setup(printer = new ScriptedPrinter(), dir?: string, monotonic?: () => number) {
  const t = printRig({ printer, ...(dir ? { dir } : {}), ...(monotonic ? { monotonic } : {}) });
  t.service.start(60_000);
  return t;
}

/** Set up, the drain that `start()` ran over the empty queue over: the queue idle. */
async function idleQueue(printer?: ScriptedPrinter, dir?: string) {
  const t = setup(printer, dir);
  await t.service.idle();
  return t;
}

/** The queue's next `requeue` throws as a failing disk would; later ones work. */
function failNextRequeue(queue: PrintQueue): void {
  const requeue = queue.requeue.bind(queue);
  let fail = true;
  queue.requeue = (...args) => {
    if (!fail) return requeue(...args);
    fail = false;
    throw new Error('disk I/O error');
  };
}

const MARK_PRINTING = "UPDATE print_jobs SET status = 'printing'";

// A receipt at the counter, the queue idle: marked `printing` in the sale's own transaction, not
// in one more of the queue's (issue 18: a commit and four pages of WAL fewer per sale).
describe('a job taken for the printer as it is queued', () => {
  it('is marked printing in its own transaction and prints once, behind the one flush of that transaction', async () => {
    const t = await idleQueue();
    await t.ledger.durable();
    const flushes = t.groupCommit.flushes;
    const id = t.ledger.transact(() => t.service.enqueueInTransaction('receipt', 'A', 'sale-1'));
    expect(t.queue.get(id)).toMatchObject({ status: 'printing', attempts: 1, reprint: false });
    await t.service.idle();
    expect(t.printer.paper).toEqual(['receipt:A']);
    expect(t.groupCommit.flushes - flushes).toBe(1);
    expect([...t.record.ran].filter((sql) => sql.startsWith(MARK_PRINTING))).toEqual([]);
    await t.service.stop();
  });

  it('once nothing waits, the queue makes no transaction of its own: the printed mark rides in the next sale', async () => {
    const t = await idleQueue();
    const takes = vi.spyOn(t.queue, 'firstWaiting');
    const a = t.ledger.transact(() => t.service.enqueueInTransaction('receipt', 'A'));
    await t.service.idle();
    expect(t.printer.paper).toEqual(['receipt:A']);
    expect(takes).not.toHaveBeenCalled(); // a take would have been a transaction (and a commit) of its own
    t.ledger.transact(() => t.service.enqueueInTransaction('receipt', 'B')); // A's mark rides in it
    expect(t.queue.get(a)?.status).toBe('printed');
    await t.service.idle();
    expect(t.printer.paper).toEqual(['receipt:A', 'receipt:B']);
    await t.service.stop();
  });

  it('while one prints, the next waits its turn as queued and prints after it', async () => {
    const t = await idleQueue(new HeldPrinter());
    const printer = t.printer as HeldPrinter;
    t.ledger.transact(() => t.service.enqueueInTransaction('receipt', 'A'));
    await t.ledger.durable();
    const b = t.ledger.transact(() => t.service.enqueueInTransaction('receipt', 'B'));
    expect(t.queue.get(b)?.status).toBe('queued');
    await printer.release();
    await printer.release();
    await t.service.idle();
    expect(t.printer.paper).toEqual(['receipt:A', 'receipt:B']);
    await t.service.stop();
  });

  it('never passes a job already waiting: one queued while the printer was away prints first', async () => {
    const t = await idleQueue();
    t.printer.ready = false;
    t.ledger.transact(() => t.service.enqueueInTransaction('receipt', 'A'));
    await t.service.idle();
    t.printer.ready = true; // back, but its ready event not yet in
    const b = t.ledger.transact(() => t.service.enqueueInTransaction('receipt', 'B'));
    expect(t.queue.get(b)?.status).toBe('queued');
    await t.service.idle();
    expect(t.printer.paper).toEqual(['receipt:A', 'receipt:B']);
    await t.service.stop();
  });

  it('a job whose transaction rolls back never prints; the next one does', async () => {
    const t = await idleQueue();
    expect(() =>
      t.ledger.transact(() => {
        t.service.enqueueInTransaction('receipt', 'refused');
        throw new Error('the sale is refused');
      }),
    ).toThrow('refused');
    t.ledger.transact(() => t.service.enqueueInTransaction('receipt', 'B'));
    await t.service.idle();
    expect(t.printer.paper).toEqual(['receipt:B']);
    t.ledger.transact(() => {}); // B's mark `printed` rides in the next transaction
    expect(t.queue.recent(5).map((j) => [j.payload, j.status])).toEqual([['B', 'printed']]);
    await t.service.stop();
  });

  it('a coupon issued in the same transaction still goes on the receipt', async () => {
    const t = await idleQueue();
    t.ledger.transact(() => {
      t.service.enqueueInTransaction('receipt', 'A', 'sale-1');
      t.service.enqueueInTransaction('receipt', 'A copy', 'sale-1');
      expect(t.service.amendQueuedInTransaction('sale-1', 'receipt', (p) => `${String(p)} + coupon`)).toBe(
        true,
      );
    });
    await t.service.idle();
    expect(t.printer.paper).toEqual(['receipt:A + coupon', 'receipt:A copy']);
    await t.service.stop();
  });

  it('a job left printing by a drain that failed is still taken, before a later receipt', async () => {
    const t = await idleQueue();
    t.printer.outcomes.push({ result: 'not-started', reason: 'offline' });
    failNextRequeue(t.queue);
    const a = t.ledger.transact(() => t.service.enqueueInTransaction('receipt', 'A'));
    await expect(t.service.idle()).rejects.toThrow('disk I/O error');
    expect(t.queue.get(a)?.status).toBe('printing'); // on paper it is not: the printer refused it
    t.printer.becomeReady();
    await t.service.idle();
    t.ledger.transact(() => t.service.enqueueInTransaction('receipt', 'B'));
    await t.service.idle();
    expect(t.printer.paper).toEqual(['receipt:A', 'receipt:B']);
    await t.service.stop();
  });

  it('a job a failed drain left printing is not passed by a receipt whose sale carries the last mark', async () => {
    const t = await idleQueue();
    t.printer.ready = false;
    const [a, s] = t.ledger.transact(() => [
      t.service.enqueueInTransaction('receipt', 'A'),
      t.service.enqueueInTransaction('receipt', 'S'),
    ]);
    await t.service.idle();
    t.printer.outcomes.push({ result: 'printed' }, { result: 'not-started', reason: 'offline' });
    failNextRequeue(t.queue);
    t.printer.becomeReady();
    await expect(t.service.idle()).rejects.toThrow('disk I/O error');
    expect([t.queue.get(a)?.status, t.queue.get(s)?.status]).toEqual(['printing', 'printing']); // A's mark rides
    t.printer.ready = true; // back, its ready event not yet in
    const b = t.ledger.transact(() => t.service.enqueueInTransaction('receipt', 'B')); // A's mark rides in it
    expect(t.queue.get(b)?.status).toBe('queued');
    await t.service.idle();
    expect(t.printer.paper).toEqual(['receipt:A', 'receipt:S', 'receipt:B']);
    await t.service.stop();
  });

  it('a coupon finds the live receipt when an earlier one of the same sale rolled back in a savepoint', async () => {
    const t = await idleQueue();
    let amended: boolean | undefined;
    t.ledger.transact(() => {
      expect(() =>
        t.ledger.transact(() => {
          t.service.enqueueInTransaction('receipt', 'A', 'sale-1');
          throw new Error('inner step refused');
        }),
      ).toThrow('refused');
      t.service.enqueueInTransaction('receipt', 'B', 'sale-1');
      amended = t.service.amendQueuedInTransaction('sale-1', 'receipt', (p) => `${String(p)} + coupon`);
    });
    await t.service.idle();
    expect({ amended, paper: t.printer.paper }).toEqual({ amended: true, paper: ['receipt:B + coupon'] });
    await t.service.stop();
  });

  it('the printer gone before it was sent: back in the queue unmarked, printed as is when it returns', async () => {
    const t = await idleQueue();
    const id = t.ledger.transact(() => t.service.enqueueInTransaction('receipt', 'A'));
    t.printer.ready = false;
    await t.service.idle();
    expect(t.queue.get(id)).toMatchObject({ status: 'queued', reprint: false });
    t.printer.becomeReady();
    await t.service.idle();
    expect(t.printer.paper).toEqual(['receipt:A']);
    await t.service.stop();
  });

  it('a stop before it was sent puts it back unmarked: after the restart it prints once, not as a reprint', async () => {
    const t = await idleQueue();
    const id = t.ledger.transact(() => t.service.enqueueInTransaction('receipt', 'A'));
    await t.service.stop();
    expect(t.printer.paper).toEqual([]);
    expect(t.queue.get(id)).toMatchObject({ status: 'queued', reprint: false });
    await t.groupCommit.close();
    t.base.close();
    const again = await idleQueue(new ScriptedPrinter(), t.dir);
    await again.service.idle();
    expect(again.printer.paper).toEqual(['receipt:A']);
    await again.service.stop();
  });

  it("finds what waits through the waiting jobs' index, never a walk of every job printed", async () => {
    const t = await idleQueue();
    t.queue.anyQueued();
    t.queue.queuedFor('sale-1', 'receipt');
    t.queue.printingIds();
    const sqls = [...t.record.ran].filter((sql) => sql.startsWith('SELECT') && /status (IN|=)/.test(sql));
    expect(sqls).toHaveLength(3);
    for (const sql of sqls)
      expect(queryPlan(t.base, sql), sql).toMatch(
        /USING (COVERING )?INDEX print_jobs_(waiting_by_seq|printing)\b/,
      );
  });
});

describe('the print queue as a drain starts and ends', () => {
  it('a job queued while a drain starts (from an event it tells) waits its turn: in order, each once', async () => {
    let clock = 0;
    const t = setup(new ScriptedPrinter(), tempDir(), () => clock);
    await t.service.idle();
    t.printer.ready = false;
    t.ledger.transact(() => {
      t.service.enqueueInTransaction('drawer', {}, 'sale-0');
      t.service.enqueueInTransaction('receipt', 'R', 'sale-0');
    });
    await t.service.idle();
    clock += 120_000; // the drawer's moment has passed: the drain's first step cancels it, and tells
    const unsubscribe = t.bus.on('print.job', ({ data }) => {
      if (data.status !== 'cancelled') return;
      unsubscribe();
      t.service.enqueue('receipt', 'X');
    });
    t.printer.becomeReady();
    await t.service.idle();
    await t.service.idle();
    expect(t.printer.paper).toEqual(['receipt:R', 'receipt:X']);
    await t.service.stop();
  });

  it('a job queued while the last drain was ending prints at once, not at the next retry', async () => {
    const t = setup(); // start() ran a drain of the empty queue; it ends in the microtasks below
    t.ledger.transact(() => t.service.enqueueInTransaction('receipt', 'A'));
    await t.service.idle();
    expect(t.printer.paper).toEqual(['receipt:A']); // the retry timer is a minute away
    await t.service.stop();
  });
});
