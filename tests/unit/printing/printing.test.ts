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
import { SaleService } from '../../../src/services/sale-service.js';
import { ShiftService } from '../../../src/services/shift-service.js';
import { tempDir } from '../../helpers/daemon.js';
import { silentLogger } from '../../helpers/test-log.js';

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
  return { printing, ledger, cashSale };
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

  it('with receipts off, a cash sale still opens the drawer', () => {
    const t = setup(() => DEFAULT_BUSINESS, false);
    t.cashSale();
    expect(t.printing.service.pending().map((j) => j.kind)).toEqual(['drawer']);
  });
});
