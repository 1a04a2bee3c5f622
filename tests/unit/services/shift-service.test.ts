import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/bus.js';
import type { LedgerRecord } from '../../../src/core/ledger-record.js';
import { isPosError } from '../../../src/errors.js';
import { openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { SalesStore } from '../../../src/offline/sales-store.js';
import { ShiftStore } from '../../../src/offline/shift-store.js';
import { RefundService } from '../../../src/services/refund-service.js';
import { SaleService } from '../../../src/services/sale-service.js';
import { ShiftService } from '../../../src/services/shift-service.js';
import { tempDir } from '../../helpers/daemon.js';
import { randomInt, seededRandom } from '../../helpers/random.js';
import { silentLogger } from '../../helpers/test-log.js';

function setup() {
  const dir = tempDir();
  const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
  const ledger = new Ledger({ db, dir });
  const bus = new EventBus();
  const shifts = new ShiftService({ ledger, store: new ShiftStore(db), bus });
  const store = new SalesStore(db);
  const sales = new SaleService({ ledger, store, shifts, bus, deviceId: 'D1' });
  const refunds = new RefundService({ ledger, store, sales, shifts });
  return { db, ledger, shifts, sales, refunds };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isPosError(err) ? err.code : String(err);
  }
  return undefined;
}

/** An independent sum of the ledger by tender, to check the report against. */
function ledgerSumByTender(records: LedgerRecord[]): Record<string, number> {
  const by: Record<string, number> = {};
  const add = (k: string, v: number) => {
    by[k] = (by[k] ?? 0) + v;
  };
  for (const r of records) {
    if (r.type === 'payment.succeeded') add(String(r.body.channel), Number(r.body.amount));
    if (r.type === 'sale.voided') add('cash', -Number(r.body.cashReturned));
    if (r.type === 'refund.completed') {
      for (const p of r.body.payments as Array<{ channel: string; amount: number }>)
        add(p.channel, -p.amount);
    }
  }
  return by;
}

describe('shifts', () => {
  it('X and Z equal the sum of the ledger for the shift, by tender, over random days', () => {
    const rand = seededRandom(11);
    const { ledger, shifts, sales, refunds } = setup();
    for (let day = 0; day < 5; day++) {
      const opening = randomInt(rand, 0, 50_000);
      const opened = shifts.open(opening);
      const firstSeq = ledger.lastSeq();
      const completed: string[] = [];
      for (let i = 0; i < 40; i++) {
        const roll = rand();
        if (roll < 0.6 || completed.length === 0) {
          const price = randomInt(rand, 1, 20_000);
          const r = sales.createSale({
            lines: [{ name: 'x', qty: randomInt(rand, 1, 3), unitPrice: price }],
            orderDiscount: { percentBp: randomInt(rand, 0, 3000) },
            tenders: [{ method: 'cash', amount: price * 3 + randomInt(rand, 0, 500) }],
          });
          completed.push(String(r.body.saleId));
        } else if (roll < 0.75) {
          const open = sales.createSale({
            lines: [{ name: 'y', qty: 1, unitPrice: randomInt(rand, 1, 9_000) }],
          });
          sales.payCash(String(open.body.saleId), 10_000);
        } else if (roll < 0.9) {
          const id = completed[randomInt(rand, 0, completed.length - 1)]!;
          const view = sales.getSale(id);
          if (view.status === 'completed' && view.refundable > 0) {
            const left = view.lines[0]!.qty - view.refunds.length;
            if (left > 0) refunds.refund(id, { lines: [{ lineNo: 1, qty: 1 }] });
          }
        } else {
          const id = completed.pop()!;
          if (sales.getSale(id).refunds.length === 0 && sales.getSale(id).status === 'completed') {
            sales.voidSale(id, 'test');
          }
        }
      }
      const x = shifts.currentReport();
      const records = ledger.recordsAfter(firstSeq, 100_000);
      const expected = ledgerSumByTender(records);
      expect(x.kind).toBe('X');
      expect(x.totals.byTender).toEqual(expected);
      expect(x.totals.expectedCash).toBe(opening + (expected.cash ?? 0));

      const counted = x.totals.expectedCash - randomInt(rand, 0, 200);
      const z = shifts.close(counted);
      expect(z).toMatchObject({ kind: 'Z', status: 'closed', shiftId: opened.shiftId, countedCash: counted });
      expect(z.totals.byTender).toEqual(expected);
      expect(z.difference).toBe(counted - x.totals.expectedCash);
      const closed = ledger
        .recordsAfter(0, 100_000)
        .find((r) => r.type === 'shift.closed' && r.body.shiftId === opened.shiftId)!;
      expect((closed.body.z as { byTender: unknown }).byTender).toEqual(expected);
      expect(shifts.reportOf(opened.shiftId)).toEqual(z);
    }
  });

  it('opens one shift at a time, and a sale outside a shift opens one by itself', () => {
    const { shifts, sales, ledger } = setup();
    expect(codeOf(() => shifts.currentReport())).toBe('NO_OPEN_SHIFT');
    sales.createSale({
      lines: [{ name: 'x', qty: 1, unitPrice: 100 }],
      tenders: [{ method: 'cash', amount: 100 }],
    });
    const auto = shifts.currentReport();
    expect(auto.openingCash).toBe(0);
    expect(ledger.recordsAfter(0, 10)[0]).toMatchObject({ type: 'shift.opened', body: { auto: true } });
    expect(codeOf(() => shifts.open(1000))).toBe('SHIFT_ALREADY_OPEN');
    shifts.close(100);
    expect(codeOf(() => shifts.close(100))).toBe('NO_OPEN_SHIFT');
    expect(shifts.open(1000).openingCash).toBe(1000);
  });

  // Money simulation seed 471174847: the restored copy's move re-appended the previous shift's
  // last sale and the shift's own opening; the Z read from the opening's old row counted that sale.
  it('a restored copy that moved to a new epoch closes its shift on its own records only', () => {
    const { ledger, shifts, sales } = setup();
    const cashSale = (price: number) =>
      sales.createSale({
        lines: [{ name: 'x', qty: 1, unitPrice: price }],
        tenders: [{ method: 'cash', amount: price }],
      });
    shifts.open(0);
    cashSale(7_407);
    shifts.close(7_407);
    const second = shifts.open(1_000);
    cashSale(1_450);
    // The cloud acknowledged nothing to this copy: every record goes again under a new epoch.
    ledger.moveToNewEpoch(0, 'restored');
    cashSale(350);
    expect(shifts.currentReport().totals).toMatchObject({ byTender: { cash: 1_800 }, expectedCash: 2_800 });
    // Retention may delete the moved originals (their copies keep the facts): the same report.
    expect(ledger.prune(new Date(Date.now() + 60_000))).toBeGreaterThan(0);
    expect(shifts.currentReport().totals).toMatchObject({ byTender: { cash: 1_800 }, expectedCash: 2_800 });
    const z = shifts.close(2_800);
    expect(z.shiftId).toBe(second.shiftId);
    expect(z.totals).toMatchObject({ sales: { amount: 1_800, count: 2 }, expectedCash: 2_800 });
    expect(z.difference).toBe(0);
  });

  it('refuses to close while a payment is unresolved', () => {
    const { db, shifts, sales } = setup();
    shifts.open(0);
    const open = sales.createSale({ lines: [{ name: 'x', qty: 1, unitPrice: 100 }] });
    db.prepare(
      `INSERT INTO payments (id, sale_id, method, channel, amount, status, created_at, updated_at)
       VALUES ('p1', ?, 'code', 'wechat', 100, 'pending', 'now', 'now')`,
    ).run(String(open.body.saleId));
    expect(codeOf(() => shifts.close(0))).toBe('PAYMENT_UNRESOLVED');
    db.prepare("UPDATE payments SET status = 'failed' WHERE id = 'p1'").run();
    expect(shifts.close(0).kind).toBe('Z');
  });
});
