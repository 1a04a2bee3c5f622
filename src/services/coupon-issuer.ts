import { v7 as uuidv7 } from 'uuid';
import type { EventBus } from '../bus.js';
import type { BusinessConfig } from '../config/business.js';
import { describeError, PosError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Ledger } from '../offline/ledger.js';
import type { SalesStore } from '../offline/sales-store.js';
import type { SaleService } from './sale-service.js';

type IssueRule = BusinessConfig['coupons']['issueRules'][number];

export interface IssuedCoupon {
  couponId: string;
  code: string;
  ruleId: string;
  kind: 'amount' | 'percent';
  value: number;
  minSpend?: number;
  validUntil: string;
  saleId?: string;
}

declare module '../bus.js' {
  interface PosEvents {
    /** A coupon the terminal issued: the customer screen shows its QR. */
    'coupon.issued': IssuedCoupon;
  }
}

export interface CouponIssuerOptions {
  ledger: Ledger;
  store: SalesStore;
  sales: SaleService;
  bus: EventBus;
  log: Logger;
  deviceId: string;
  business: () => BusinessConfig;
  now?: () => Date;
  newId?: () => string;
}

/**
 * Coupons the terminal gives out, by the business config's issue rules: by hand, or in the
 * transaction that completes a sale of at least a rule's `afterSpend` (the highest such rule).
 * Each is a `coupon.issued` ledger record, so the cloud learns it with the sale; its code is the
 * first coupon prefix, the device id and a gapless per-device number, so terminals never collide.
 */
export class CouponIssuer {
  private readonly now: () => Date;
  private readonly newId: () => string;
  /** Issued in a completing transaction, announced once the sale is (committed and) announced. */
  private readonly bySale = new Map<string, IssuedCoupon>();

  constructor(private readonly o: CouponIssuerOptions) {
    this.now = o.now ?? (() => new Date());
    this.newId = o.newId ?? uuidv7;
    o.sales.onCompletedInTransaction((sale) => {
      if (sale.kind !== 'sale') return;
      const rule = this.o
        .business()
        .coupons.issueRules.filter((r) => r.afterSpend !== undefined && sale.total >= r.afterSpend)
        .sort((a, b) => (b.afterSpend ?? 0) - (a.afterSpend ?? 0))[0];
      if (!rule) return;
      try {
        this.bySale.set(sale.id, this.issueInTransaction(rule, sale.id));
      } catch (err) {
        // A coupon is a gift: failing to make one never refuses the sale.
        this.o.log.error(
          { saleId: sale.id, ruleId: rule.ruleId, err: describeError(err) },
          'coupon not issued',
        );
      }
    });
    o.bus.on('sale.updated', ({ data }) => {
      const coupon = data.status === 'completed' ? this.bySale.get(data.saleId) : undefined;
      if (!coupon) return;
      this.bySale.delete(data.saleId);
      o.bus.emit('coupon.issued', coupon);
    });
  }

  /** Issues one coupon of `ruleId` now (the cashier hands it out), optionally tied to a sale. */
  issue(ruleId: string, saleId?: string): IssuedCoupon {
    const rule = this.o.business().coupons.issueRules.find((r) => r.ruleId === ruleId);
    if (!rule) throw new PosError('NOT_FOUND', `no coupon issue rule ${ruleId}`);
    if (saleId !== undefined && !this.o.store.getSale(saleId))
      throw new PosError('SALE_NOT_FOUND', `no sale ${saleId}`);
    const coupon = this.o.ledger.transact(() => this.issueInTransaction(rule, saleId));
    this.o.bus.emit('coupon.issued', coupon);
    return coupon;
  }

  /** A coupon this terminal issued, by its code (for its QR on the customer screen). */
  issued(code: string): IssuedCoupon | undefined {
    const record = this.o.ledger.findLatest('coupon.issued', 'code', code);
    return record ? (record.body as unknown as IssuedCoupon) : undefined;
  }

  private issueInTransaction(rule: IssueRule, saleId: string | undefined): IssuedCoupon {
    const number = this.o.store.next('coupon.issued');
    const prefix = this.o.business().coupons.prefixes[0] ?? 'CP';
    const now = this.now();
    const coupon: IssuedCoupon = {
      couponId: this.newId(),
      code: `${prefix}${this.o.deviceId}${String(number).padStart(6, '0')}`,
      ruleId: rule.ruleId,
      kind: rule.kind,
      value: rule.value,
      ...(rule.minSpend !== undefined ? { minSpend: rule.minSpend } : {}),
      validUntil: new Date(now.getTime() + rule.validDays * 86_400_000).toISOString(),
      ...(saleId !== undefined ? { saleId } : {}),
    };
    this.o.ledger.append('coupon.issued', { ...coupon });
    return coupon;
  }
}
