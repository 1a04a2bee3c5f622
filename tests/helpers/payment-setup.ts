import { join } from 'node:path';
import { EventBus } from '../../src/bus.js';
import { type BusinessConfig, DEFAULT_BUSINESS } from '../../src/config/business.js';
import { isPosError } from '../../src/errors.js';
import { openDatabase } from '../../src/offline/db.js';
import { Ledger } from '../../src/offline/ledger.js';
import { MIGRATIONS, type Migration } from '../../src/offline/migrations/index.js';
import { ReversalStore } from '../../src/offline/reversal-store.js';
import { SalesStore } from '../../src/offline/sales-store.js';
import { ShiftStore } from '../../src/offline/shift-store.js';
import { PaymentService } from '../../src/services/payment-service.js';
import { RefundService } from '../../src/services/refund-service.js';
import { SaleService } from '../../src/services/sale-service.js';
import { ShiftService } from '../../src/services/shift-service.js';
import { tempDir } from './daemon.js';
import { type Behaviour, FakeAcquirer } from './fake-acquirer.js';
import { silentLogger } from './test-log.js';

export const WECHAT = (last: string) => `13456789012345678${last}`;

/**
 * The money services on a real SQLite file, a fake acquirer and its fake clock. Pass the same
 * `dir` and `acquirer` again to model a restart of the daemon against the same acquirer.
 */
export function paymentSetup(
  behaviourOf: (code: string | undefined) => Behaviour = () => 'success',
  dir = tempDir(),
  acquirer = new FakeAcquirer(behaviourOf),
  business: BusinessConfig = DEFAULT_BUSINESS,
  migrations: readonly Migration[] = MIGRATIONS,
) {
  const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger(), migrations });
  const ledger = new Ledger({ db, dir, now: acquirer.now });
  const bus = new EventBus();
  const store = new SalesStore(db);
  const shifts = new ShiftService({ ledger, store: new ShiftStore(db), bus, now: acquirer.now });
  const sales = new SaleService({ ledger, store, shifts, bus, deviceId: 'D1', now: acquirer.now });
  const refunds = new RefundService({ ledger, store, sales, shifts, now: acquirer.now });
  const payments = new PaymentService({
    ledger,
    store,
    sales,
    refunds,
    reversals: new ReversalStore(db),
    cloud: acquirer,
    bus,
    log: silentLogger(),
    business: () => business,
    sleep: acquirer.sleep,
    now: acquirer.now,
    monotonic: acquirer.monotonic,
  });
  const events: Array<{ status: string; paymentId: string; codeUrl?: string }> = [];
  bus.on('payment.updated', (e) => events.push(e.data));
  const openSale = (unitPrice = 2500) =>
    String(sales.createSale({ lines: [{ name: 'Coffee', qty: 1, unitPrice }] }).body.saleId);
  const paymentStatus = (paymentId: string) =>
    (db.prepare('SELECT status FROM payments WHERE id = ?').get(paymentId) as { status: string }).status;
  return {
    db,
    dir,
    acquirer,
    ledger,
    bus,
    sales,
    refunds,
    payments,
    shifts,
    events,
    openSale,
    paymentStatus,
  };
}

export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isPosError(err) ? err.code : String(err);
  }
  return undefined;
}
