import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/bus.js';
import { isPosError } from '../../../src/errors.js';
import { openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { SalesStore } from '../../../src/offline/sales-store.js';
import { ShiftStore } from '../../../src/offline/shift-store.js';
import { RefundService } from '../../../src/services/refund-service.js';
import { SaleService } from '../../../src/services/sale-service.js';
import { ShiftService } from '../../../src/services/shift-service.js';
import { tempDir } from '../../helpers/daemon.js';
import { silentLogger } from '../../helpers/test-log.js';

function setup(deviceId = 'D1') {
  const dir = tempDir();
  const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
  const ledger = new Ledger({ db, dir });
  const bus = new EventBus();
  const shifts = new ShiftService({ ledger, store: new ShiftStore(db), bus });
  const store = new SalesStore(db);
  const sales = new SaleService({ ledger, store, shifts, bus, deviceId });
  const refunds = new RefundService({ ledger, store, sales, shifts });
  return { db, ledger, sales, refunds, bus, shifts };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isPosError(err) ? err.code : String(err);
  }
  return undefined;
}

const cashSale = {
  lines: [{ name: 'A', qty: 1, unitPrice: 500 }],
  tenders: [{ method: 'cash', amount: 500 }],
};

describe('sale service', () => {
  it('refuses to void once the shift of the sale is closed, and allows it while open', () => {
    const { db, sales } = setup();
    db.prepare(
      "INSERT INTO shifts (id, status, opened_at) VALUES ('s1', 'open', '2026-01-01T00:00:00Z')",
    ).run();
    const a = sales.createSale(cashSale).body;
    const b = sales.createSale(cashSale).body;
    expect(sales.voidSale(String(a.saleId), undefined).status).toBe('voided');
    db.prepare(
      "UPDATE shifts SET status = 'closed', closed_at = '2026-01-01T10:00:00Z' WHERE id = 's1'",
    ).run();
    expect(codeOf(() => sales.voidSale(String(b.saleId), undefined))).toBe('VOID_NOT_ALLOWED');
  });

  it('refuses to void a sale with a captured non-cash payment', () => {
    const { db, sales } = setup();
    const open = sales.createSale({ lines: [{ name: 'A', qty: 1, unitPrice: 500 }] }).body;
    db.prepare(
      `INSERT INTO payments (id, sale_id, method, channel, amount, status, created_at, updated_at)
       VALUES ('p1', ?, 'code', 'wechat', 500, 'succeeded', 'now', 'now')`,
    ).run(String(open.saleId));
    expect(codeOf(() => sales.voidSale(String(open.saleId), undefined))).toBe('VOID_NOT_ALLOWED');
  });

  it("tells a sale's paid and change as its view does, whatever its payments (the customer display's figures)", () => {
    const { db, sales } = setup();
    const row = db.prepare(
      `INSERT INTO payments (id, sale_id, method, channel, amount, change, status, created_at, updated_at)
       VALUES (?, ?, 'code', 'wechat', ?, 0, ?, 'now', 'now')`,
    );
    const payment = fc.oneof(
      fc.record({ kind: fc.constant('card' as const), amount: fc.integer({ min: 1, max: 3000 }) }),
      fc.record({ kind: fc.constant('cash' as const), amount: fc.integer({ min: 1, max: 5000 }) }),
      fc.record({
        kind: fc.constant('row' as const),
        amount: fc.integer({ min: 1, max: 3000 }),
        status: fc.constantFrom('succeeded', 'failed', 'pending', 'unknown', 'reversed'),
      }),
    );
    let n = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6000 }), fc.array(payment, { maxLength: 6 }), (price, paid) => {
        const saleId = String(
          sales.createSale({ lines: [{ name: 'A', qty: 1, unitPrice: price }] }).body.saleId,
        );
        for (const p of paid) {
          try {
            if (p.kind === 'card') sales.payCard(saleId, p.amount, undefined);
            else if (p.kind === 'cash') sales.payCash(saleId, p.amount);
            else row.run(`p${n++}`, saleId, p.amount, p.status);
          } catch (err) {
            if (!isPosError(err)) throw err; // refused (sale complete, payment unresolved…): nothing written
          }
        }
        const view = sales.getSale(saleId);
        expect(sales.tenderedOf(saleId)).toEqual({ paid: view.paid, change: view.change });
      }),
      { numRuns: 150 },
    );
  });

  it('numbers receipts gaplessly across sales and refunds, prefixed by the device', () => {
    const { sales, refunds, ledger } = setup('T2');
    const nos: string[] = [];
    for (let i = 0; i < 3; i++) nos.push(String(sales.createSale(cashSale).body.receiptNo));
    expect(codeOf(() => sales.createSale({ ...cashSale, tenders: [{ method: 'cash', amount: 1 }] }))).toBe(
      'TENDER_INSUFFICIENT',
    );
    const sale = sales.createSale(cashSale).body;
    nos.push(String(sale.receiptNo));
    nos.push(String(refunds.refund(String(sale.saleId), { lines: [{ lineNo: 1, qty: 1 }] }).body.receiptNo));
    expect(nos).toEqual(['T2-000001', 'T2-000002', 'T2-000003', 'T2-000004', 'T2-000005']);
    expect(ledger.verify()).toBeUndefined();
  });

  it('records payment and sale in one transaction and announces only committed sales', () => {
    const { sales, ledger, bus } = setup();
    const heard: string[] = [];
    bus.on('sale.updated', (e) => heard.push(`${e.data.status}:${e.data.receiptNo}`));
    sales.createSale(cashSale);
    expect(ledger.recordsAfter(0, 10).map((r) => r.type)).toEqual([
      'shift.opened',
      'payment.succeeded',
      'sale.completed',
    ]);
    expect(heard).toEqual(['completed:D1-000001']);
  });

  it('completes a fully discounted sale at once, with nothing to pay', () => {
    const { sales } = setup();
    const r = sales.createSale({
      lines: [{ name: 'Gift', qty: 1, unitPrice: 800, discount: { percentBp: 10_000 } }],
    });
    expect(r.body).toMatchObject({ status: 'completed', total: 0, change: 0 });
  });
});

describe('receipt numbers across terminals', () => {
  it('two terminals selling offline never produce the same receipt number', () => {
    const a = setup('T1');
    const b = setup('T2');
    const numbers = new Set<string>();
    for (let i = 0; i < 50; i++) {
      for (const t of [a, b]) {
        const no = String(t.sales.createSale(cashSale).body.receiptNo);
        expect(numbers.has(no)).toBe(false);
        numbers.add(no);
      }
    }
    expect(numbers.size).toBe(100);
  });
});

describe('a sale with nothing to pay (issue 12, case 12)', () => {
  it('refuses cash tendered on a zero-total sale with a code and records nothing; without a tender it completes', () => {
    const { sales, ledger } = setup();
    const free = { lines: [{ name: 'Sample', qty: 1, unitPrice: 0 }] };
    expect(codeOf(() => sales.createSale({ ...free, tenders: [{ method: 'cash', amount: 500 }] }))).toBe(
      'NOTHING_TO_PAY',
    );
    expect(ledger.recordsAfter(0, 100)).toHaveLength(0);
    const done = sales.createSale(free).body;
    expect(done).toMatchObject({ status: 'completed', total: 0 });
    const types = ledger.recordsAfter(0, 100).map((r) => r.type);
    expect(types).toContain('sale.completed');
    expect(types).not.toContain('payment.succeeded');
  });
});
