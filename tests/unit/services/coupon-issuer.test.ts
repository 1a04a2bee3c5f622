import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/bus.js';
import { type BusinessConfig, DEFAULT_BUSINESS } from '../../../src/config/business.js';
import { isPosError } from '../../../src/errors.js';
import { openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { SalesStore } from '../../../src/offline/sales-store.js';
import { ShiftStore } from '../../../src/offline/shift-store.js';
import { CouponIssuer, type IssuedCoupon } from '../../../src/services/coupon-issuer.js';
import { SaleService } from '../../../src/services/sale-service.js';
import { ShiftService } from '../../../src/services/shift-service.js';
import { tempDir } from '../../helpers/daemon.js';
import { silentLogger } from '../../helpers/test-log.js';

const NOW = new Date('2026-11-29T02:00:00.000Z');

function setup(device = 'D1', dir = tempDir()) {
  const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
  const now = () => NOW;
  const ledger = new Ledger({ db, dir, now });
  const bus = new EventBus();
  const business: BusinessConfig = {
    ...DEFAULT_BUSINESS,
    coupons: {
      ...DEFAULT_BUSINESS.coupons,
      issueRules: [
        { ruleId: 'small', kind: 'amount', value: 300, validDays: 7, afterSpend: 5_000 },
        { ruleId: 'big', kind: 'percent', value: 1000, minSpend: 10_000, validDays: 30, afterSpend: 20_000 },
        { ruleId: 'gift', kind: 'amount', value: 1_000, validDays: 1 },
      ],
    },
  };
  const store = new SalesStore(db);
  const shifts = new ShiftService({ ledger, store: new ShiftStore(db), bus, now });
  const sales = new SaleService({ ledger, store, shifts, bus, deviceId: device, now });
  const issuer = new CouponIssuer({
    ledger,
    store,
    sales,
    bus,
    log: silentLogger(),
    deviceId: device,
    business: () => business,
    now,
  });
  const announced: IssuedCoupon[] = [];
  bus.on('coupon.issued', (e) => announced.push(e.data));
  const cashSale = (unitPrice: number) =>
    sales.createSale({
      lines: [{ name: 'Gift box', qty: 1, unitPrice }],
      tenders: [{ method: 'cash', amount: unitPrice }],
    }).body;
  const issued = () => ledger.recordsAfter(0, 1000).filter((r) => r.type === 'coupon.issued');
  return { db, ledger, issuer, announced, cashSale, issued };
}

describe('coupon issuing', () => {
  it('a sale of at least afterSpend issues the highest rule met, recorded with the sale, announced after it', () => {
    const t = setup();
    t.cashSale(4_999); // below every rule
    expect(t.issued()).toHaveLength(0);
    const sale = t.cashSale(25_000);
    const [record] = t.issued();
    expect(record!.body).toMatchObject({
      ruleId: 'big',
      kind: 'percent',
      value: 1000,
      minSpend: 10_000,
      code: 'CPD1000001',
      saleId: sale.saleId,
      validUntil: '2026-12-29T02:00:00.000Z',
    });
    // In the completing transaction: right after the sale's own record.
    const types = t.ledger.recordsAfter(0, 1000).map((r) => r.type);
    expect(types.indexOf('coupon.issued')).toBe(types.lastIndexOf('sale.completed') + 1);
    expect(t.announced.map((c) => c.code)).toEqual(['CPD1000001']);
    t.cashSale(6_000);
    expect(t.issued().map((r) => [r.body.ruleId, r.body.code])).toEqual([
      ['big', 'CPD1000001'],
      ['small', 'CPD1000002'],
    ]);
  });

  it('by hand: a known rule issues one, tied to a sale if named; unknown rules and sales are refused', () => {
    const t = setup('T7');
    const coupon = t.issuer.issue('gift');
    expect(coupon).toMatchObject({
      code: 'CPT7000001',
      value: 1_000,
      validUntil: '2026-11-30T02:00:00.000Z',
    });
    expect(t.announced).toEqual([coupon]);
    for (const [rule, sale, code] of [
      ['nope', undefined, 'NOT_FOUND'],
      ['gift', 'no-such-sale', 'SALE_NOT_FOUND'],
    ] as const) {
      try {
        t.issuer.issue(rule, sale);
        throw new Error('issued');
      } catch (err) {
        expect(isPosError(err, code)).toBe(true);
      }
    }
    expect(t.issued()).toHaveLength(1);
  });

  it('codes are gapless per device and never collide between terminals, across restarts', () => {
    const dir = tempDir();
    const a = setup('A1', dir);
    a.issuer.issue('gift');
    a.db.close();
    const again = setup('A1', dir);
    const b = setup('B1');
    expect(again.issuer.issue('gift').code).toBe('CPA1000002');
    expect(b.issuer.issue('gift').code).toBe('CPB1000001');
  });
});
