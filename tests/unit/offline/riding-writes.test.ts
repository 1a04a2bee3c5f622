import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/offline/db.js';
import { GroupCommit } from '../../../src/offline/group-commit.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { AppContext, AppTaggingLedger } from '../../../src/platform/app-ledger.js';
import { tempDir } from '../../helpers/daemon.js';
import { silentLogger } from '../../helpers/test-log.js';
import { poisonedInsert } from '../../helpers/transaction-fault.js';

function setup(app?: AppContext) {
  const dir = tempDir();
  const file = join(dir, 'posd.db');
  const db = openDatabase({ file, log: silentLogger(), synchronous: 'NORMAL' });
  const groupCommit = new GroupCommit({ db, file, log: silentLogger() });
  const options = { db, dir, groupCommit };
  const ledger = app ? new AppTaggingLedger(options, app) : new Ledger(options);
  const bump = db.prepare(
    "INSERT INTO counters (name, value) VALUES ('rides', 1) ON CONFLICT (name) DO UPDATE SET value = value + 1",
  );
  const rides = () =>
    db.prepare<[], { value: number }>("SELECT value FROM counters WHERE name = 'rides'").get()?.value ?? 0;
  return { db, ledger, groupCommit, bump: () => void bump.run(), rides };
}

/** Resolves when a riding write reports itself committed. */
function told(): { committed: () => void; done: Promise<void>; count: () => number } {
  let n = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    committed: () => {
      n++;
      resolve();
    },
    done,
    count: () => n,
  };
}

describe('writes that ride in the next transaction (decision 0005)', () => {
  it('a write nobody waits for is made in the next transaction and told once that has committed', () => {
    const t = setup();
    const tell = told();
    let inTransactionWhenTold: boolean | undefined;
    t.ledger.ride(t.bump, () => {
      inTransactionWhenTold = t.db.inTransaction;
      tell.committed();
    });
    expect(t.rides()).toBe(0);
    expect(tell.count()).toBe(0);
    t.ledger.transact(() => t.ledger.append('x.happened', { n: 1 }));
    expect(t.rides()).toBe(1);
    expect(tell.count()).toBe(1);
    expect(inTransactionWhenTold).toBe(false);
    t.ledger.transact(() => t.ledger.append('x.happened', { n: 2 }));
    expect(t.rides()).toBe(1); // once
  });

  it('commits alone when no other transaction comes', async () => {
    const t = setup();
    const tell = told();
    t.ledger.ride(t.bump, tell.committed);
    await tell.done;
    expect(t.rides()).toBe(1);
  });

  it('a transaction that rolls back keeps the writes riding in it: they are made once, later', async () => {
    const t = setup();
    const tell = told();
    t.ledger.ride(t.bump, tell.committed);
    expect(() =>
      t.ledger.transact(() => {
        t.ledger.append('x.happened', { n: 1 });
        throw new Error('refused');
      }),
    ).toThrow('refused');
    expect(t.rides()).toBe(0);
    expect(tell.count()).toBe(0);
    await tell.done;
    expect(t.rides()).toBe(1);
    expect(tell.count()).toBe(1);
    expect(t.ledger.verify()).toBeUndefined();
  });

  it('a riding write that fails costs only itself: the transaction commits, the chain stays whole, the write comes again', async () => {
    const t = setup();
    const tell = told();
    let tries = 0;
    t.ledger.ride(() => {
      t.ledger.append('order.printed', { orderId: 'o1' });
      if (++tries === 1) throw new Error('disk trouble');
    }, tell.committed);
    t.ledger.transact(() => t.ledger.append('sale.completed', { saleId: 's1' }));
    expect(tell.count()).toBe(0);
    expect(t.ledger.recordsAfter(0, 10).map((r) => r.type)).toEqual(['sale.completed']);
    await tell.done;
    expect(tries).toBe(2);
    t.ledger.transact(() => t.ledger.append('sale.completed', { saleId: 's2' }));
    expect(t.ledger.recordsAfter(0, 10).map((r) => r.type)).toEqual([
      'sale.completed',
      'order.printed',
      'sale.completed',
    ]);
    expect(t.ledger.verify()).toBeUndefined();
  });

  it('a transaction inside another takes none: what rides is told only once the outer one commits', async () => {
    const t = setup();
    const tell = told();
    expect(() =>
      t.ledger.transact(() => {
        t.ledger.ride(t.bump, tell.committed);
        t.ledger.transact(() => t.ledger.append('x.happened', { n: 1 }));
        throw new Error('the outer one fails');
      }),
    ).toThrow('the outer one fails');
    expect(tell.count()).toBe(0);
    await tell.done;
    expect(t.rides()).toBe(1);
  });

  it("a write riding in a store app's transaction is not that app's", () => {
    const app = new AppContext();
    const t = setup(app);
    t.ledger.ride(() => void t.ledger.append('order.printed', { orderId: 'o1' }));
    app.during('app-1', () => t.ledger.transact(() => t.ledger.append('sale.completed', { saleId: 's1' })));
    const records = t.ledger.recordsAfter(0, 10).map((r) => [r.type, r.body.appId]);
    expect(records).toEqual([
      ['order.printed', undefined],
      ['sale.completed', 'app-1'],
    ]);
  });

  it('settling at stop commits what still rides', () => {
    const t = setup();
    const tell = told();
    t.ledger.ride(t.bump, tell.committed);
    t.ledger.settleRiders();
    expect(t.rides()).toBe(1);
    expect(tell.count()).toBe(1);
  });

  it('a riding write that meets a full disk never leaves its host half committed: the host runs again without it', async () => {
    const t = setup();
    t.db.exec('CREATE TABLE big (b BLOB)');
    t.db.prepare("INSERT INTO counters (name, value) VALUES ('host', 0)").run();
    const tell = told();
    t.ledger.ride(
      () => void t.db.prepare('INSERT INTO big VALUES (?)').run(Buffer.alloc(200_000)),
      tell.committed,
    );
    // Room for the sales, not for the riding write: SQLite ends the whole transaction at its insert.
    t.db.pragma(`max_page_count = ${Number(t.db.pragma('page_count', { simple: true })) + 20}`);
    for (let i = 1; i <= 5; i++) {
      t.ledger.transact(() => {
        t.db.prepare("UPDATE counters SET value = value + 1 WHERE name = 'host'").run();
        t.ledger.append('sale.completed', { saleId: `s${i}`, total: 100 });
      });
    }
    // Every sale whole, once; the riding write set aside, not made.
    expect(t.db.prepare("SELECT value FROM counters WHERE name = 'host'").get()).toEqual({ value: 5 });
    expect(t.ledger.recordsAfter(0, 10).map((r) => r.body.saleId)).toEqual(['s1', 's2', 's3', 's4', 's5']);
    expect(t.db.prepare('SELECT count(*) AS n FROM big').get()).toEqual({ n: 0 });
    expect(tell.count()).toBe(0);
    t.db.pragma('max_page_count = 1073741823'); // space again
    await tell.done;
    expect(t.db.prepare('SELECT count(*) AS n FROM big').get()).toEqual({ n: 1 });
    expect(t.ledger.verify()).toBeUndefined();
  });

  it('a host that meets a full disk on its own fails whole with STORAGE_FULL, and its riding writes wait', async () => {
    const t = setup();
    t.db.prepare("INSERT INTO counters (name, value) VALUES ('host', 0)").run();
    const tell = told();
    t.ledger.ride(t.bump, tell.committed);
    t.db.exec('CREATE TABLE big (b BLOB)');
    t.db.pragma(`max_page_count = ${Number(t.db.pragma('page_count', { simple: true }))}`);
    let code: string | undefined;
    try {
      t.ledger.transact(() => {
        t.db.prepare("UPDATE counters SET value = 1 WHERE name = 'host'").run();
        t.db.prepare('INSERT INTO big VALUES (?)').run(Buffer.alloc(200_000));
      });
    } catch (err) {
      code = (err as { code?: string }).code;
    }
    expect(code).toBe('STORAGE_FULL');
    expect(t.db.prepare("SELECT value FROM counters WHERE name = 'host'").get()).toEqual({ value: 0 });
    expect(t.rides()).toBe(0);
    t.db.pragma('max_page_count = 1073741823');
    await tell.done;
    expect(t.rides()).toBe(1);
  });

  it('a riding write that keeps failing is tried by its own timer, waiting longer each time, never in a sale', async () => {
    const t = setup();
    const tries: number[] = [];
    let tried: (() => void) | undefined;
    t.ledger.ride(() => {
      tries.push(performance.now());
      tried?.();
      throw new Error('always');
    });
    for (let i = 0; i < 20; i++) t.ledger.transact(() => t.ledger.append('sale.completed', { n: i }));
    expect(tries).toHaveLength(1);
    expect(t.ledger.recordsAfter(0, 30)).toHaveLength(20);
    // Then only its timer: 40, 80, 160 ms after each failure at the least (20 ms doubling).
    for (let k = 0; k < 3; k++) await new Promise<void>((resolve) => (tried = resolve));
    const gaps = tries.slice(1).map((at, i) => at - tries[i]!);
    expect(gaps[0]!).toBeGreaterThanOrEqual(39);
    expect(gaps[1]!).toBeGreaterThanOrEqual(79);
    expect(gaps[2]!).toBeGreaterThanOrEqual(159);
  });

  it('settling at stop tries the failed writes too', () => {
    const t = setup();
    let fail = true;
    const tell = told();
    t.ledger.ride(() => {
      if (fail) throw new Error('once');
      t.bump();
    }, tell.committed);
    t.ledger.transact(() => t.ledger.append('x.happened', { n: 1 })); // it fails here: set aside
    expect(tell.count()).toBe(0);
    fail = false;
    t.ledger.settleRiders();
    expect(t.rides()).toBe(1);
    expect(tell.count()).toBe(1);
  });

  it('a riding write whose fault ends the transaction waits alone: the good ones taken with it commit', async () => {
    const t = setup();
    const poison = poisonedInsert(t.db);
    const goodB = told();
    const goodC = told();
    t.ledger.ride(poison); // receipt A: always fails
    t.ledger.ride(t.bump, goodB.committed); // receipt B, behind it in the same transaction
    for (let i = 0; i < 3; i++) t.ledger.transact(() => t.ledger.append('sale.completed', { n: i }));
    expect(t.ledger.recordsAfter(0, 10)).toHaveLength(3);
    expect([t.rides(), goodB.count()]).toEqual([1, 1]); // rode again in the next sale
    // A fresh one printed while A waits for its retry is not tied to A's retries either.
    t.ledger.ride(t.bump, goodC.committed);
    await goodC.done;
    expect(t.rides()).toBe(2);
  });

  it('riding writes taken by a transaction that cannot even read the chain tip are kept, and land', async () => {
    const t = setup();
    const tell = told();
    t.ledger.ride(t.bump, tell.committed);
    // As after a rollback whose file could not be read: the tip unknown, and its next read fails once.
    const inner = t.ledger as unknown as {
      tipCache: unknown;
      stmt: { head: { get: (...a: unknown[]) => unknown } };
    };
    inner.tipCache = undefined;
    const head = inner.stmt.head;
    const read = head.get.bind(head);
    let fail = 1;
    head.get = (...a: unknown[]) => {
      if (fail-- > 0) throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
      return read(...a);
    };
    expect(() => t.ledger.transact(() => t.ledger.append('sale.completed', { n: 1 }))).toThrow();
    await tell.done;
    expect([t.rides(), tell.count()]).toEqual([1, 1]);
  });

  it('at stop, the writes taken with one whose fault ends the transaction still commit', () => {
    const t = setup();
    const poison = poisonedInsert(t.db);
    const tell = told();
    t.ledger.ride(poison);
    t.ledger.ride(t.bump, tell.committed);
    t.ledger.settleRiders();
    expect([t.rides(), tell.count()]).toEqual([1, 1]);
  });

  it('a transaction started from a callback while failed writes are retried does not carry them', async () => {
    const t = setup();
    let tries = 0;
    t.ledger.ride(() => {
      tries++;
      throw new Error('always');
    });
    t.ledger.transact(() => t.ledger.append('sale.completed', { n: 0 })); // it fails: set aside
    let failOnce = true;
    const triesInSale = new Promise<number>((resolve) =>
      t.ledger.ride(
        () => {
          if (failOnce) {
            failOnce = false;
            throw new Error('once');
          }
        },
        () => {
          // Told committed by the timer's retry (a bus handler would sell here): a sale of its own.
          const before = tries;
          t.ledger.transact(() => t.ledger.append('sale.completed', { n: 99 }));
          resolve(tries - before);
        },
      ),
    );
    t.ledger.transact(() => t.ledger.append('sale.completed', { n: 1 })); // the second fails here once
    expect(tries).toBe(1);
    expect(await triesInSale).toBe(0);
  });

  it('a write set aside is not held back by another whose fault keeps ending the transaction', async () => {
    const t = setup();
    const poison = poisonedInsert(t.db);
    const tell = told();
    let tries = 0;
    t.ledger.ride(() => {
      if (tries++ === 0) throw new Error('once'); // fails in its savepoint, then would succeed
      t.bump();
    }, tell.committed);
    t.ledger.transact(() => t.ledger.append('sale.completed', { n: 1 })); // set aside
    t.ledger.ride(poison); // ends every transaction
    t.ledger.transact(() => t.ledger.append('sale.completed', { n: 2 })); // set aside in front of it
    await tell.done;
    expect(t.rides()).toBe(1);
  });

  it('a riding write that swallows a fault ending the transaction is its culprit: the next does not autocommit', () => {
    const t = setup();
    const poison = poisonedInsert(t.db);
    t.ledger.ride(() => {
      try {
        poison();
      } catch {
        // swallowed
      }
    });
    t.ledger.ride(t.bump);
    t.db.prepare("INSERT INTO counters (name, value) VALUES ('host', 0)").run();
    expect(() =>
      t.ledger.transact(() => {
        t.db.prepare("UPDATE counters SET value = value + 1 WHERE name = 'host'").run();
        throw new Error('the sale is refused');
      }),
    ).toThrow('the sale is refused');
    // Nothing of the refused host, and the second write not committed on its own in autocommit.
    expect(t.db.prepare("SELECT value FROM counters WHERE name = 'host'").get()).toEqual({ value: 0 });
    expect(t.rides()).toBe(0);
  });
});
