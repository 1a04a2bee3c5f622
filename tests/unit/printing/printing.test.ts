import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/bus.js';
import { type BusinessConfig, DEFAULT_BUSINESS } from '../../../src/config/business.js';
import { loadConfig } from '../../../src/config/load.js';
import { openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { SalesStore } from '../../../src/offline/sales-store.js';
import { ShiftStore } from '../../../src/offline/shift-store.js';
import { Printing } from '../../../src/printing/printing.js';
import { jobDocument, templateOptions } from '../../../src/printing/receipt-jobs.js';
import { SaleService } from '../../../src/services/sale-service.js';
import { ShiftService } from '../../../src/services/shift-service.js';
import { tempDir } from '../../helpers/daemon.js';
import { silentLogger } from '../../helpers/test-log.js';
import { endTransactionOnInsert } from '../../helpers/transaction-fault.js';

function setup(business: () => BusinessConfig, autoPrint = true) {
  const dir = tempDir();
  const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
  const ledger = new Ledger({ db, dir });
  const bus = new EventBus();
  const { config } = loadConfig({
    base: {
      device: { tenant: 't1', id: 'D1' },
      stateDir: dir,
      printer: { uri: 'tcp://127.0.0.1:9', autoPrint },
    },
    env: {},
  });
  const printing = new Printing({
    config,
    db,
    ledger,
    bus,
    log: silentLogger(),
    business,
    cloudOnline: () => true,
    ticketPrinted: () => {},
  });
  const shifts = new ShiftService({ ledger, store: new ShiftStore(db), bus });
  const sales = new SaleService({ ledger, store: new SalesStore(db), shifts, bus, deviceId: 'D1' });
  const cashSale = () =>
    sales.createSale({
      lines: [{ name: 'Tea', qty: 1, unitPrice: 500 }],
      tenders: [{ method: 'cash', amount: 500 }],
    });
  return { printing, ledger, sales, cashSale, db };
}

describe('print jobs made with the facts', () => {
  it('a completed sale has its receipt job, copies as configured', () => {
    const t = setup(() => ({ ...DEFAULT_BUSINESS, receipt: { copies: 2 } }));
    const sale = t.cashSale().body;
    expect(t.printing.service.pending().map((j) => [j.kind, j.refId])).toEqual([
      ['sale', sale.saleId],
      ['sale', sale.saleId],
    ]);
  });

  it('a receipt that cannot be made never refuses the sale', () => {
    const t = setup(() => ({
      ...DEFAULT_BUSINESS,
      receipt: undefined as unknown as BusinessConfig['receipt'],
    }));
    const r = t.cashSale();
    expect(r.status).toBe(201);
    expect(t.ledger.recordsAfter(0, 10).map((x) => x.type)).toContain('sale.completed');
    expect(t.printing.service.pending()).toEqual([]);
  });

  it('a storage fault while making the receipt fails the sale whole: nothing of it, not even its reply, is kept', () => {
    const t = setup(() => DEFAULT_BUSINESS);
    const diskBack = endTransactionOnInsert(t.db, 'print_jobs');
    const input = {
      lines: [{ name: 'Tea', qty: 1, unitPrice: 500 }],
      tenders: [{ method: 'cash', amount: 500 }],
    };
    expect(() => t.sales.createSale(input, 'key-1')).toThrow();
    const count = (table: string) =>
      t.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number };
    expect([count('sales').n, count('payments').n, count('idempotency').n, count('ledger').n]).toEqual([
      0, 0, 0, 0,
    ]);
    // The retry under the same key, once the disk is back, is the sale, with its receipt.
    diskBack();
    const retry = t.sales.createSale(input, 'key-1');
    expect(retry.body.status).toBe('completed');
    expect(t.printing.service.pending().map((j) => j.refId)).toEqual([retry.body.saleId]);
  });

  it('with receipts off, a cash sale still opens the drawer', () => {
    const t = setup(() => DEFAULT_BUSINESS, false);
    t.cashSale();
    expect(t.printing.service.pending().map((j) => j.kind)).toEqual(['drawer']);
  });

  it('a sale voided after cash was taken prints a void slip with the cash returned; nothing else does', () => {
    const t = setup(() => DEFAULT_BUSINESS);
    const open = t.sales.createSale({ lines: [{ name: 'Tea', qty: 2, unitPrice: 1500 }] }).body;
    const saleId = String(open.saleId);
    t.sales.payCash(saleId, 2000);
    t.sales.voidSale(saleId, '顾客取消');
    // A sale voided with nothing paid gives nothing back: no slip.
    const empty = t.sales.createSale({ lines: [{ name: 'Tea', qty: 1, unitPrice: 500 }] }).body;
    t.sales.voidSale(String(empty.saleId), '顾客取消');
    const jobs = t.printing.service.pending();
    expect(jobs.map((j) => [j.kind, j.refId])).toEqual([['void', saleId]]);
    const doc = jobDocument('void', jobs[0]!.payload, templateOptions(DEFAULT_BUSINESS, false));
    const text = doc.blocks.map((b) =>
      b.type === 'text' ? b.text : b.type === 'row' ? `${b.left} ${b.right}` : b.type,
    );
    expect(text[0]).toBe('drawer');
    expect(text).toContain('作废单');
    expect(text).toContain('原因: 顾客取消');
    expect(text).toContain('退还现金 -\uFFE520.00');
  });
});
