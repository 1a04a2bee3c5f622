import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/bus.js';
import { type BusinessConfig, DEFAULT_BUSINESS } from '../../../src/config/business.js';
import { moneyCheck } from '../../../src/doctor.js';
import { isPosError } from '../../../src/errors.js';
import { openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { SalesStore } from '../../../src/offline/sales-store.js';
import { ShiftStore } from '../../../src/offline/shift-store.js';
import type { CloudReply } from '../../../src/services/cloud-port.js';
import { CouponService } from '../../../src/services/coupon-service.js';
import { RefundService } from '../../../src/services/refund-service.js';
import { SaleService } from '../../../src/services/sale-service.js';
import { ShiftService } from '../../../src/services/shift-service.js';
import { tempDir } from '../../helpers/daemon.js';
import { FakeAcquirer } from '../../helpers/fake-acquirer.js';
import { silentLogger } from '../../helpers/test-log.js';

function setup(acquirer = new FakeAcquirer(), offline: 'refuse' | 'accept' = 'refuse', device = 'D1') {
  const dir = tempDir();
  const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
  const ledger = new Ledger({ db, dir, now: acquirer.now });
  const bus = new EventBus();
  const business: BusinessConfig = {
    ...DEFAULT_BUSINESS,
    coupons: {
      prefixes: ['CP'],
      offline,
      maxOfflineDiscountPerSale: 800,
      offlineWhitelist: [
        { code: 'CP-OFF-1', couponId: 'c-off', kind: 'amount', value: 500, minSpend: 2000 },
        { code: 'CP-OFF-BIG', couponId: 'c-big', kind: 'amount', value: 1000 },
      ],
      issueRules: [],
    },
  };
  const shifts = new ShiftService({ ledger, store: new ShiftStore(db), bus, now: acquirer.now });
  const store = new SalesStore(db);
  const sales = new SaleService({ ledger, store, shifts, bus, deviceId: device, now: acquirer.now });
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
  const records = (type: string) => ledger.recordsAfter(0, 1000).filter((r) => r.type === type);
  return { db, dir, ledger, sales, refunds, coupons, acquirer, open, bus, records };
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

  it('offline (policy accept) uses the whitelist once per terminal; a double use elsewhere is a recorded conflict', async () => {
    const acquirer = new FakeAcquirer();
    acquirer.online = false;
    acquirer.coupons.set('CP-OFF-1', {
      couponId: 'c-off',
      kind: 'amount',
      value: 500,
      consumedBy: 'other-terminal',
    });
    const t = setup(acquirer, 'accept');
    const conflicts: unknown[] = [];
    t.bus.on('coupon.conflict', (e) => conflicts.push(e.data));
    const saleId = t.open();
    expect((await t.coupons.apply(saleId, 'CP-OFF-1')).total).toBe(2500);
    t.sales.payCash(saleId, 2500);
    expect(await codeOf(t.coupons.apply(t.open(), 'CP-OFF-1'))).toBe('COUPON_INVALID');
    expect(t.ledger.recordsAfter(0, 20).find((r) => r.type === 'coupon.redeemed')!.body.offline).toBe(true);
    acquirer.goOnline();
    await settle();
    await t.coupons.consumePending();
    expect(t.coupons.conflicts()).toMatchObject([{ couponId: 'c-off', saleId }]);
    // Never silently dropped: a ledger record (to the cloud, in the local API) and an event.
    expect(t.records('coupon.conflict').map((r) => r.body)).toMatchObject([
      { couponId: 'c-off', saleId, discount: 500, code: 'ALREADY_USED', offline: true },
    ]);
    expect(conflicts).toMatchObject([{ couponId: 'c-off', saleId, code: 'ALREADY_USED' }]);
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

describe('coupon holds at the cloud (issue 12, case 6)', () => {
  function twoTerminals() {
    const acquirer = new FakeAcquirer();
    acquirer.coupons.set('CP-ONE', { couponId: 'c-one', kind: 'amount', value: 500 });
    return { acquirer, a: setup(acquirer, 'refuse', 'A1'), b: setup(acquirer, 'refuse', 'B1') };
  }

  it('two online terminals: the second apply is refused COUPON_RESERVED; the coupon is consumed once', async () => {
    const { acquirer, a, b } = twoTerminals();
    const saleA = a.open();
    await a.coupons.apply(saleA, 'CP-ONE');
    expect(acquirer.coupons.get('CP-ONE')!.heldBy).toBeTruthy();
    const saleB = b.open();
    expect(await codeOf(b.coupons.apply(saleB, 'CP-ONE'))).toBe('COUPON_RESERVED');
    expect(b.sales.getSale(saleB).total).toBe(3000);
    a.sales.payCash(saleA, 2500);
    await a.coupons.consumePending();
    const redeemed = a.records('coupon.redeemed')[0]!;
    expect(acquirer.coupons.get('CP-ONE')!.consumedBy).toBe(redeemed.body.redemptionId);
    expect(await codeOf(b.coupons.apply(b.open(), 'CP-ONE'))).toBe('COUPON_INVALID');
    expect(b.records('coupon.redeemed')).toHaveLength(0);
  });

  it('voiding an open sale, or removing the coupon, releases the hold: another terminal can use it', async () => {
    const { acquirer, a, b } = twoTerminals();
    const saleA = a.open();
    await a.coupons.apply(saleA, 'CP-ONE');
    a.sales.voidSale(saleA, 'customer left');
    await a.coupons.consumePending();
    expect(acquirer.coupons.get('CP-ONE')!.heldBy).toBeUndefined();
    expect(a.records('sale.voided')[0]!.body.couponReleased).toBeTruthy();
    const saleB = b.open();
    await b.coupons.apply(saleB, 'CP-ONE');
    const removed = b.coupons.remove(saleB);
    expect(removed.total).toBe(3000);
    expect(removed.doc.coupon).toBeUndefined();
    await b.coupons.consumePending();
    expect(acquirer.coupons.get('CP-ONE')!.heldBy).toBeUndefined();
    const again = a.open();
    expect((await a.coupons.apply(again, 'CP-ONE')).total).toBe(2500);
  });

  it('a reserve whose reply is lost: COUPON_UNCONFIRMED, its hold released; the retry gets the coupon', async () => {
    const { acquirer, a, b } = twoTerminals();
    acquirer.loseReplies.set('coupon.reserve', 1);
    const saleA = a.open();
    expect(await codeOf(a.coupons.apply(saleA, 'CP-ONE'))).toBe('COUPON_UNCONFIRMED');
    await a.coupons.consumePending();
    expect(acquirer.coupons.get('CP-ONE')!.heldBy).toBeUndefined();
    expect((await a.coupons.apply(saleA, 'CP-ONE')).total).toBe(2500);
    expect(await codeOf(b.coupons.apply(b.open(), 'CP-ONE'))).toBe('COUPON_RESERVED');
  });

  it('a coupon worth the whole sale completes it at total 0 without a tender, the coupon redeemed and consumed', async () => {
    const acquirer = new FakeAcquirer();
    acquirer.coupons.set('CP-ALL', { couponId: 'c-all', kind: 'amount', value: 5000 });
    const t = setup(acquirer);
    const saleId = t.open();
    const sale = await t.coupons.apply(saleId, 'CP-ALL');
    expect(sale).toMatchObject({ status: 'completed', total: 0 });
    expect(t.sales.getSale(saleId)).toMatchObject({ status: 'completed', total: 0, due: 0 });
    expect(t.records('sale.completed').map((r) => r.body)).toMatchObject([
      { saleId, total: 0, payments: [] },
    ]);
    expect(t.records('coupon.redeemed').map((r) => r.body)).toMatchObject([{ saleId, discount: 3000 }]);
    await t.coupons.consumePending();
    expect(acquirer.coupons.get('CP-ALL')!.consumedBy).toBe(
      t.records('coupon.redeemed')[0]!.body.redemptionId,
    );
  });

  it('voiding a completed sale gives its consumed coupon back at the cloud', async () => {
    const acquirer = new FakeAcquirer();
    acquirer.coupons.set('CP-BACK', { couponId: 'c-back', kind: 'amount', value: 500 });
    const t = setup(acquirer);
    const saleId = t.open();
    await t.coupons.apply(saleId, 'CP-BACK');
    t.sales.payCash(saleId, 2500);
    await t.coupons.consumePending();
    expect(acquirer.coupons.get('CP-BACK')!.consumedBy).toBeTruthy();
    t.sales.voidSale(saleId, undefined);
    await t.coupons.consumePending();
    expect(acquirer.coupons.get('CP-BACK')!.consumedBy).toBeUndefined();
  });

  it('a consume whose reply is lost, then a void: the coupon is given back at the cloud all the same (found in review)', async () => {
    const acquirer = new FakeAcquirer();
    acquirer.online = false;
    acquirer.coupons.set('CP-OFF-1', { couponId: 'c-off', kind: 'amount', value: 500 });
    const t = setup(acquirer, 'accept');
    const saleId = t.open();
    await t.coupons.apply(saleId, 'CP-OFF-1'); // offline: no hold at the cloud
    t.sales.payCash(saleId, 2500);
    acquirer.goOfflineAfter = 'coupon.consume'; // consumed at the cloud; the reply and the link are lost
    acquirer.goOnline();
    await t.coupons.consumePending();
    expect(acquirer.coupons.get('CP-OFF-1')!.consumedBy).toBeTruthy();
    t.sales.voidSale(saleId, undefined);
    acquirer.goOnline();
    await t.coupons.consumePending();
    expect(acquirer.coupons.get('CP-OFF-1')!.consumedBy).toBeUndefined();
  });

  it('the sale is paid in full while its coupon hold is on its way: refused, and the hold released at the cloud', async () => {
    const acquirer = new FakeAcquirer();
    acquirer.coupons.set('CP-RACE', { couponId: 'c-race', kind: 'amount', value: 500 });
    const t = setup(acquirer);
    const saleId = t.open();
    const request = acquirer.request.bind(acquirer);
    acquirer.request = async <T>(op: string, args: Record<string, unknown>): Promise<CloudReply<T>> => {
      if (op === 'coupon.reserve') t.sales.payCash(saleId, 3000); // the cashier took cash meanwhile
      return request<T>(op, args);
    };
    expect(await codeOf(t.coupons.apply(saleId, 'CP-RACE'))).toBe('SALE_NOT_OPEN');
    await t.coupons.consumePending();
    expect(acquirer.coupons.get('CP-RACE')).toMatchObject({ couponId: 'c-race' });
    expect(acquirer.coupons.get('CP-RACE')!.heldBy).toBeUndefined();
    expect(acquirer.coupons.get('CP-RACE')!.consumedBy).toBeUndefined();
    expect(t.records('coupon.redeemed')).toHaveLength(0);
    expect(t.sales.getSale(saleId)).toMatchObject({ status: 'completed', total: 3000 });
  });

  it('offline policy: refused by default (COUPON_OFFLINE); accepted from the whitelist up to the per-sale limit', async () => {
    const acquirer = new FakeAcquirer();
    acquirer.online = false;
    const refusing = setup(acquirer);
    expect(await codeOf(refusing.coupons.apply(refusing.open(), 'CP-OFF-1'))).toBe('COUPON_OFFLINE');
    const accepting = setup(acquirer, 'accept');
    expect(await codeOf(accepting.coupons.apply(accepting.open(), 'CP-OFF-BIG'))).toBe('COUPON_OFFLINE');
    expect(await codeOf(accepting.coupons.apply(accepting.open(), 'CP-NOT-LISTED'))).toBe('COUPON_INVALID');
    expect((await accepting.coupons.apply(accepting.open(), 'CP-OFF-1')).total).toBe(2500);
  });

  it('an issued code with a mistyped check character is refused before asking the cloud', async () => {
    const acquirer = new FakeAcquirer();
    const t = setup(acquirer);
    expect(await codeOf(t.coupons.apply(t.open(), 'CP0123456789ABC0'))).toBe('COUPON_INVALID');
    expect(acquirer.calls.filter((c) => c.op.startsWith('coupon.'))).toHaveLength(0);
  });
});

describe('coupon conflicts for the technician', () => {
  it('posd doctor lists coupon double uses in its money check', async () => {
    const acquirer = new FakeAcquirer();
    acquirer.online = false;
    acquirer.coupons.set('CP-OFF-1', {
      couponId: 'c-off',
      kind: 'amount',
      value: 500,
      consumedBy: 'elsewhere',
    });
    const t = setup(acquirer, 'accept');
    const saleId = t.open();
    await t.coupons.apply(saleId, 'CP-OFF-1');
    t.sales.payCash(saleId, 2500);
    acquirer.goOnline();
    await t.coupons.consumePending();
    expect(t.coupons.conflicts()).toHaveLength(1);
    expect(moneyCheck(t.dir)?.detail).toContain('COUPON CONFLICTS 1');
  });
});
