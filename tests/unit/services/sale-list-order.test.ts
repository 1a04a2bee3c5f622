import { join } from 'node:path';
import fc from 'fast-check';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/bus.js';
import { openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { MIGRATIONS } from '../../../src/offline/migrations/index.js';
import { SalesStore } from '../../../src/offline/sales-store.js';
import { ShiftStore } from '../../../src/offline/shift-store.js';
import { listSales } from '../../../src/services/sale-list.js';
import { SaleService } from '../../../src/services/sale-service.js';
import { ShiftService } from '../../../src/services/shift-service.js';
import { tempDir } from '../../helpers/daemon.js';
import { silentLogger } from '../../helpers/test-log.js';

/*
 * The recent-sales list is ordered by sequence, not by the clock: a terminal whose clock goes back
 * (no RTC battery, NTP correcting) still lists its newest sale first, and pages without a gap or a
 * repeat. Sale ids are UUIDv7 made from that clock, as a freshly started daemon makes them.
 */

function setup(migrations = MIGRATIONS, dir = tempDir('posd-sale-order-')) {
  let clock = Date.parse('2026-11-24T10:00:00Z');
  const now = () => new Date(clock);
  const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger(), migrations });
  const ledger = new Ledger({ db, dir, now });
  const bus = new EventBus();
  const store = new SalesStore(db);
  const shifts = new ShiftService({ ledger, store: new ShiftStore(db), bus, now });
  const sales = new SaleService({
    ledger,
    store,
    shifts,
    bus,
    deviceId: 'D1',
    now,
    newId: () => uuidv7({ msecs: clock }),
  });
  const sell = (paid: boolean) =>
    String(
      sales.createSale({
        lines: [{ name: 'Coffee', qty: 1, unitPrice: 2500 }],
        ...(paid ? { tenders: [{ method: 'cash' as const, amount: 2500 }] } : {}),
      }).body.saleId,
    );
  const jump = (ms: number) => {
    clock += ms;
  };
  return { db, dir, store, sell, jump };
}

/** Every page from the first, `before` the last page's `next`, until there is none. */
function allPages(store: SalesStore, limit: number): string[][] {
  const pages: string[][] = [];
  let before: string | undefined;
  for (;;) {
    const page = listSales(store, { limit, ...(before ? { before } : {}) });
    pages.push(page.sales.map((s) => s.saleId));
    if (!page.next) return pages;
    before = page.next;
  }
}

describe('recent sales are ordered by sequence, not by the clock', () => {
  it('lists a sale made after the clock went back above the older ones', () => {
    const t = setup();
    const first = t.sell(true);
    const second = t.sell(false);
    t.jump(-3_600_000); // NTP corrects an hour back
    const third = t.sell(true);
    expect(third < second).toBe(true); // its id is older
    expect(listSales(t.store, { limit: 10 }).sales.map((s) => s.saleId)).toEqual([third, second, first]);
    const page = listSales(t.store, { limit: 1 });
    expect(page.sales.map((s) => s.saleId)).toEqual([third]);
    expect(listSales(t.store, { limit: 10, before: page.next! }).sales.map((s) => s.saleId)).toEqual([
      second,
      first,
    ]);
    t.db.close();
  });

  it('pages with `before` give every sale once, newest first, whatever the clock did', () => {
    const t = setup();
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            jump: fc.integer({ min: -86_400_000, max: 86_400_000 }),
            paid: fc.boolean(),
          }),
          { minLength: 1, maxLength: 25 },
        ),
        fc.integer({ min: 1, max: 7 }),
        (steps, limit) => {
          t.db.exec('DELETE FROM payments; DELETE FROM sales');
          const made: string[] = [];
          for (const step of steps) {
            t.jump(step.jump);
            made.push(t.sell(step.paid));
          }
          const pages = allPages(t.store, limit);
          expect(pages.flat()).toEqual(made.toReversed());
          for (const page of pages.slice(0, -1)) expect(page).toHaveLength(limit);
        },
      ),
      { numRuns: 40 },
    );
    t.db.close();
  });

  it('a `before` that names no sale gives no sales', () => {
    const t = setup();
    t.sell(true);
    expect(listSales(t.store, { limit: 10, before: uuidv7() }).sales).toEqual([]);
    t.db.close();
  });
});

describe('the sequence across versions (decision 0007)', () => {
  const SALES_SEQ = MIGRATIONS.find((m) => m.name === 'sales-seq')!.version;
  const OLDER = MIGRATIONS.filter((m) => m.version < SALES_SEQ);
  /** The insert of code before the sequence: it names no `seq`. */
  const insertAsOlderCode = (db: ReturnType<typeof openDatabase>, id: string) =>
    db
      .prepare(
        `INSERT INTO sales (id, kind, original_sale_id, status, currency, total, receipt_no, shift_id, doc, created_at, completed_at)
         VALUES (?, 'sale', NULL, 'open', 'CNY', 100, NULL, NULL, ?, '2026-11-24T09:00:00.000Z', NULL)`,
      )
      .run(
        id,
        JSON.stringify({ lines: [], subtotal: 100, lineDiscountTotal: 0, orderDiscount: 0, total: 100 }),
      );
  const ids = (store: SalesStore) => listSales(store, { limit: 10 }).sales.map((s) => s.saleId);

  it('sales made before the update keep their order; a sale older code inserts gets the next number', () => {
    const dir = tempDir('posd-sale-order-');
    // The older posd sold (its list was by id)…
    const older = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger(), migrations: OLDER });
    const before = [uuidv7({ msecs: 1_000 }), uuidv7({ msecs: 2_000 }), uuidv7({ msecs: 3_000 })];
    for (const id of before.toReversed()) insertAsOlderCode(older, id);
    older.close();
    // …the update numbers them in that order and sells on with the clock gone back…
    const newer = setup(MIGRATIONS, dir);
    const during = newer.sell(true);
    newer.jump(-60_000);
    const during2 = newer.sell(false);
    expect(ids(newer.store)).toEqual([during2, during, ...before.toReversed()]);
    // …a rollback: older code inserts without seq; the row still gets the next one.
    const rolledBack = uuidv7({ msecs: 500 });
    insertAsOlderCode(newer.db, rolledBack);
    const after = newer.sell(true);
    expect(ids(newer.store)).toEqual([after, rolledBack, during2, during, ...before.toReversed()]);
    newer.db.close();
  });
});
