import type { EventBus } from './bus.js';
import type { BusinessConfig } from './config/business.js';
import { type Logger, moduleLogger } from './log.js';
import type { Db } from './offline/db.js';
import type { Ledger } from './offline/ledger.js';
import { ReversalStore } from './offline/reversal-store.js';
import type { SalesStore } from './offline/sales-store.js';
import { type CloudPort, realSleep } from './services/cloud-port.js';
import { CouponIssuer } from './services/coupon-issuer.js';
import { CouponService } from './services/coupon-service.js';
import { MemberService } from './services/member-service.js';
import { offlineGuard } from './services/offline-guard.js';
import { PaymentService } from './services/payment-service.js';
import { RefundService } from './services/refund-service.js';
import { SaleService } from './services/sale-service.js';
import type { ShiftService } from './services/shift-service.js';

export interface MoneyServicesDeps {
  db: Db;
  ledger: Ledger;
  store: SalesStore;
  shifts: ShiftService;
  cloud: CloudPort;
  bus: EventBus;
  log: Logger;
  deviceId: string;
  business: () => BusinessConfig;
  now: () => Date;
}

export interface MoneyServices {
  sales: SaleService;
  refunds: RefundService;
  payments: PaymentService;
  coupons: CouponService;
  couponIssuer: CouponIssuer;
  members: MemberService;
}

/** The services that move money, over one ledger database and one cloud link. */
export function buildMoneyServices(d: MoneyServicesDeps): MoneyServices {
  const { db, ledger, store, shifts, cloud, bus, log, business, now } = d;
  const sales = new SaleService({
    ledger,
    store,
    shifts,
    bus,
    deviceId: d.deviceId,
    currency: () => business().currency,
    // The merchant's offline limits apply while a configured cloud link is down.
    guard: offlineGuard(cloud, ledger, business, now),
    now,
  });
  const refunds = new RefundService({ ledger, store, sales, shifts, now });
  const payments = new PaymentService({
    ledger,
    store,
    sales,
    refunds,
    reversals: new ReversalStore(db),
    cloud,
    bus,
    log: moduleLogger(log, 'payments'),
    business,
    sleep: realSleep,
    now,
  });
  const coupons = new CouponService({
    db,
    ledger,
    sales,
    cloud,
    bus,
    log: moduleLogger(log, 'coupons'),
    business,
    sleep: realSleep,
    now,
  });
  const couponIssuer = new CouponIssuer({
    ledger,
    store,
    sales,
    bus,
    log: moduleLogger(log, 'coupons'),
    deviceId: d.deviceId,
    business,
    now,
  });
  const members = new MemberService({
    db,
    ledger,
    store,
    shifts,
    cloud,
    bus,
    log: moduleLogger(log, 'members'),
    business,
    sleep: realSleep,
    now,
  });
  return { sales, refunds, payments, coupons, couponIssuer, members };
}
