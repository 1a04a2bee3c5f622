import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/bus.js';
import { type BusinessConfig, DEFAULT_BUSINESS } from '../../../src/config/business.js';
import { isPosError } from '../../../src/errors.js';
import { openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { SalesStore } from '../../../src/offline/sales-store.js';
import { ShiftStore } from '../../../src/offline/shift-store.js';
import { CouponService } from '../../../src/services/coupon-service.js';
import { RefundService } from '../../../src/services/refund-service.js';
import { SaleService } from '../../../src/services/sale-service.js';
import { ShiftService } from '../../../src/services/shift-service.js';
import { tempDir } from '../../helpers/daemon.js';
import { FakeAcquirer } from '../../helpers/fake-acquirer.js';
import { silentLogger } from '../../helpers/test-log.js';

function setup(acquirer = new FakeAcquirer()) {
  const dir = tempDir();
  const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
  const ledger = new Ledger({ db, dir, now: acquirer.now });
  const bus = new EventBus();
  const business: BusinessConfig = {
    ...DEFAULT_BUSINESS,
    coupons: {
      prefixes: ['CP'],
      offlineWhitelist: [{ code: 'CP-OFF-1', couponId: 'c-off', kind: 'amount', value: 500, minSpend: 2000 }],
      issueRules: [],
    },
  };
  const shifts = new ShiftService({ ledger, store: new ShiftStore(db), bus, now: acquirer.now });
  const store = new SalesStore(db);
  const sales = new SaleService({ ledger, store, shifts, bus, deviceId: 'D1', now: acquirer.now });
  const refunds = new RefundService({ ledger, store, sales, shifts, now: acquirer.now });
  const coupons = new CouponService({
    db,
    ledger,
    sales,
    cloud: acquirer,
    bus,
    log: silentLogger(),
    business: () => business,
    sleep: acquirer.sleep,
    now: acquirer.now,
  });
  const open = (lines = [{ name: 'Tea', qty: 2, unitPrice: 1500 }]) =>
    String(sales.createSale({ lines }).body.saleId);
  return { db, ledger, sales, refunds, coupons, acquirer, open };
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return isPosError(err) ? err.code : String(err);
  }
  return undefined;
}

const settle = () => new Promise((r) => setImmediate(r));

describe('coupons', () => {
  it('verifies online, applies as the order discount, redeems with the sale, consumes once', async () => {
    const acquirer = new FakeAcquirer();
    acquirer.coupons.set('CP-100', { couponId: 'c-1', kind: 'percent', value: 1000, minSpend: 2000 });
    const t = setup(acquirer);
    const saleId = t.open();
    const sale = await t.coupons.apply(saleId, 'CP-100');
    expect(sale.total).toBe(2700);
    expect(sale.doc.orderDiscount).toBe(300);
    t.sales.payCash(saleId, 3000);
    await settle();
    const redeemed = t.ledger.recordsAfter(0, 20).find((r) => r.type === 'coupon.redeemed')!;
    expect(redeemed.body).toMatchObject({ couponId: 'c-1', saleId, discount: 300 });
    expect(acquirer.coupons.get('CP-100')!.consumedBy).toBe(redeemed.body.redemptionId);
    expect(await codeOf(t.coupons.apply(t.open(), 'CP-100'))).toBe('COUPON_INVALID');
  });

  it('checks minimum spend on the subtotal after line discounts', async () => {
    const acquirer = new FakeAcquirer();
    acquirer.coupons.set('CP-MIN', { couponId: 'c-2', kind: 'amount', value: 500, minSpend: 3000 });
    const t = setup(acquirer);
    const saleId = String(
      t.sales.createSale({ lines: [{ name: 'x', qty: 1, unitPrice: 3200, discount: { amount: 300 } }] }).body
        .saleId,
    );
    expect(await codeOf(t.coupons.apply(saleId, 'CP-MIN'))).toBe('COUPON_INVALID');
    const ok = t.open([{ name: 'y', qty: 1, unitPrice: 3000 }]);
    expect((await t.coupons.apply(ok, 'CP-MIN')).total).toBe(2500);
  });

  it('offline uses the whitelist once per terminal; a double use elsewhere is flagged at reconciliation', async () => {
    const acquirer = new FakeAcquirer();
    acquirer.online = false;
    acquirer.coupons.set('CP-OFF-1', {
      couponId: 'c-off',
      kind: 'amount',
      value: 500,
      consumedBy: 'other-terminal',
    });
    const t = setup(acquirer);
    const saleId = t.open();
    expect((await t.coupons.apply(saleId, 'CP-OFF-1')).total).toBe(2500);
    t.sales.payCash(saleId, 2500);
    expect(await codeOf(t.coupons.apply(t.open(), 'CP-OFF-1'))).toBe('COUPON_INVALID');
    expect(t.ledger.recordsAfter(0, 20).find((r) => r.type === 'coupon.redeemed')!.body.offline).toBe(true);
    acquirer.goOnline();
    await settle();
    await t.coupons.consumePending();
    expect(t.coupons.conflicts()).toMatchObject([{ couponId: 'c-off', saleId }]);
  });

  it('a full refund releases the coupon, recorded in the refund', async () => {
    const acquirer = new FakeAcquirer();
    acquirer.coupons.set('CP-5', { couponId: 'c-5', kind: 'amount', value: 500 });
    const t = setup(acquirer);
    const saleId = t.open();
    await t.coupons.apply(saleId, 'CP-5');
    t.sales.payCash(saleId, 2500);
    await settle();
    const refund = t.refunds.refund(saleId, { lines: [{ lineNo: 1, qty: 2 }] });
    expect(refund.body.total).toBe(2500);
    const rec = t.ledger.recordsAfter(0, 50).find((r) => r.type === 'refund.completed')!;
    expect(rec.body.couponReleased).toBeTruthy();
    expect(t.db.prepare('SELECT status FROM redemptions').get()).toEqual({ status: 'released' });
  });

  it('refuses a coupon once a payment was taken', async () => {
    const acquirer = new FakeAcquirer();
    acquirer.coupons.set('CP-7', { couponId: 'c-7', kind: 'amount', value: 100 });
    const t = setup(acquirer);
    const saleId = t.open();
    t.sales.payCash(saleId, 1000);
    expect(await codeOf(t.coupons.apply(saleId, 'CP-7'))).toBe('CONFLICT');
  });
});
