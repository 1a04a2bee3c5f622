import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/bus.js';
import { type BusinessConfig, DEFAULT_BUSINESS } from '../../../src/config/business.js';
import { isPosError } from '../../../src/errors.js';
import { openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { SalesStore } from '../../../src/offline/sales-store.js';
import { ShiftStore } from '../../../src/offline/shift-store.js';
import { offlineGuard } from '../../../src/services/offline-guard.js';
import { SaleService } from '../../../src/services/sale-service.js';
import { ShiftService } from '../../../src/services/shift-service.js';
import { tempDir } from '../../helpers/daemon.js';
import { FakeAcquirer } from '../../helpers/fake-acquirer.js';
import { silentLogger } from '../../helpers/test-log.js';

function setup(offline: Partial<BusinessConfig['offline']> = {}) {
  const dir = tempDir();
  const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
  const cloud = new FakeAcquirer();
  const ledger = new Ledger({ db, dir, now: cloud.now });
  const bus = new EventBus();
  const business: BusinessConfig = {
    ...DEFAULT_BUSINESS,
    offline: { ...DEFAULT_BUSINESS.offline, ...offline },
  };
  const shifts = new ShiftService({ ledger, store: new ShiftStore(db), bus, now: cloud.now });
  const sales = new SaleService({
    ledger,
    store: new SalesStore(db),
    shifts,
    bus,
    deviceId: 'D1',
    now: cloud.now,
    guard: offlineGuard(cloud, ledger, () => business, cloud.now),
  });
  return { cloud, ledger, sales };
}

const sale = (unitPrice: number) => ({
  lines: [{ name: 'x', qty: 1, unitPrice }],
  tenders: [{ method: 'cash', amount: unitPrice }],
});

function refusal(fn: () => unknown): { code: string; limit?: unknown; message: string } | undefined {
  try {
    fn();
  } catch (err) {
    if (isPosError(err)) return { code: err.code, limit: err.context.limit, message: err.message };
    throw err;
  }
  return undefined;
}

describe('offline rules', () => {
  it('apply only while the configured link is down', () => {
    const t = setup({ maxOfflineAmountPerSale: 1000 });
    expect(t.sales.createSale(sale(5000)).status).toBe(201);
    t.cloud.online = false;
    t.cloud.lastOnline = t.cloud.now();
    expect(refusal(() => t.sales.createSale(sale(5000)))).toMatchObject({
      code: 'OFFLINE_LIMIT',
      limit: 'maxOfflineAmountPerSale',
    });
    expect(t.sales.createSale(sale(1000)).status).toBe(201);
  });

  it('caps the unsynced total, counting sales made before the link dropped', () => {
    const t = setup({ maxOfflineTotal: 10_000, maxOfflineAmountPerSale: 10_000 });
    t.sales.createSale(sale(4000)); // online, not yet acknowledged by the cloud
    t.cloud.online = false;
    t.cloud.lastOnline = t.cloud.now();
    t.sales.createSale(sale(5000));
    const r = refusal(() => t.sales.createSale(sale(2000)));
    expect(r).toMatchObject({ code: 'OFFLINE_LIMIT', limit: 'maxOfflineTotal' });
    expect(r?.message).toContain('100.00');
    t.ledger.applyAck(t.ledger.lastSeq(), []); // synced before the link dropped again
    expect(t.sales.createSale(sale(2000)).status).toBe(201);
  });

  it('stops selling after the maximum offline hours, and refuses tenders not allowed offline', () => {
    const t = setup({ maxOfflineHours: 2, tenders: ['cash'] });
    t.cloud.online = false;
    t.cloud.lastOnline = t.cloud.now();
    t.cloud.clock += 3 * 3_600_000;
    expect(refusal(() => t.sales.createSale(sale(100)))).toMatchObject({ limit: 'maxOfflineHours' });
    const card = setup({ tenders: ['cash'] });
    card.cloud.online = false;
    card.cloud.lastOnline = card.cloud.now();
    const open = card.sales.createSale({ lines: [{ name: 'x', qty: 1, unitPrice: 100 }] });
    expect(open.body.status).toBe('open');
    expect(card.sales.payCash(String(open.body.saleId), 100).status).toBe(201);
  });
});
