import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { EventBus } from '../bus.js';
import type { BusinessConfig } from '../config/business.js';
import { CODE_RANDOM_BYTES, makeCouponCode } from '../core/coupon-code.js';
import { describeError, PosError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Ledger } from '../offline/ledger.js';
import type { SalesStore } from '../offline/sales-store.js';
import { tolerateInTransaction } from '../offline/storage-errors.js';
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
  /** The spend that earned it (rules with `afterSpend`): a refund below it revokes the coupon. */
  afterSpend?: number;
}

declare module '../bus.js' {
  interface PosEvents {
    /** A coupon the terminal issued: the customer screen shows its QR. */
    'coupon.issued': IssuedCoupon;
    /** A coupon the terminal issued no longer holds: its sale was voided or refunded. */
    'coupon.revoked': { couponId: string; code: string; saleId: string; reason: string };
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
  /** Random bytes for codes (a CSPRNG; tests may pin it). */
  random?: (size: number) => Uint8Array;
}

/**
 * Coupons the terminal gives out, by the business config's issue rules: by hand, or in the
 * transaction that completes a sale of at least a rule's `afterSpend` (the highest such rule).
 * Each is a `coupon.issued` ledger record, so the cloud learns it with the sale; its code is the
 * first coupon prefix and 65 random bits with a check character (core/coupon-code), checked
 * against the coupons this terminal issued before. A coupon earned by a sale is revoked
 * (`coupon.revoked`) in the transaction that voids the sale or refunds it below what earned it.
 */
export class CouponIssuer {
  private readonly now: () => Date;
  private readonly newId: () => string;
  private readonly random: (size: number) => Uint8Array;
  private readonly revokedBySale = new Map<string, IssuedCoupon[]>();
  /** Issued in a completing transaction, announced once the sale is (committed and) announced. */
  private readonly bySale = new Map<string, IssuedCoupon>();

  constructor(private readonly o: CouponIssuerOptions) {
    this.now = o.now ?? (() => new Date());
    this.newId = o.newId ?? uuidv7;
    this.random = o.random ?? randomBytes;
    o.sales.onReversedInTransaction((sale, how) => {
      // What a rolled-back attempt left here was never committed: never announced.
      this.revokedBySale.delete(sale.id);
      const reason = how.kind === 'voided' ? 'sale.voided' : 'refund.completed';
      const revoked = this.revokeInTransaction(sale.id, how.kind === 'voided' ? -1 : how.netAfter, reason);
      if (revoked.length > 0) this.revokedBySale.set(sale.id, revoked);
    });
    o.sales.onCompletedInTransaction((sale) => {
      this.bySale.delete(sale.id); // left by a completion that rolled back: never committed
      if (sale.kind !== 'sale') return;
      const rule = this.o
        .business()
        .coupons.issueRules.filter((r) => r.afterSpend !== undefined && sale.total >= r.afterSpend)
        .sort((a, b) => (b.afterSpend ?? 0) - (a.afterSpend ?? 0))[0];
      if (!rule) return;
      // A coupon is a gift: failing to make one never refuses the sale.
      tolerateInTransaction(
        this.o.ledger,
        () => this.bySale.set(sale.id, this.issueInTransaction(rule, sale.id)),
        (err) =>
          this.o.log.error(
            { saleId: sale.id, ruleId: rule.ruleId, err: describeError(err) },
            'coupon not issued',
          ),
      );
    });
    o.bus.on('sale.updated', ({ data }) => {
      const coupon = data.status === 'completed' ? this.bySale.get(data.saleId) : undefined;
      if (coupon) {
        this.bySale.delete(data.saleId);
        o.bus.emit('coupon.issued', coupon);
      }
      const saleId = data.kind === 'refund' ? undefined : data.saleId;
      for (const key of saleId ? [saleId] : [...this.revokedBySale.keys()]) {
        for (const c of this.revokedBySale.get(key) ?? [])
          o.bus.emit('coupon.revoked', {
            couponId: c.couponId,
            code: c.code,
            saleId: key,
            reason: 'reversed',
          });
        this.revokedBySale.delete(key);
      }
    });
  }

  /** Issues one coupon of `ruleId` now (the cashier hands it out), optionally tied to a sale. */
  issue(ruleId: string, saleId?: string, idempotencyKey?: string): IssuedCoupon {
    let issued: IssuedCoupon | undefined;
    // Once per Idempotency-Key: a retry after a lost reply gets the same coupon, not a second one.
    const reply = this.o.sales.once<IssuedCoupon>(
      idempotencyKey,
      'POST /coupons/issue',
      { ruleId, ...(saleId !== undefined ? { saleId } : {}) },
      () => {
        const rule = this.o.business().coupons.issueRules.find((r) => r.ruleId === ruleId);
        if (!rule) throw new PosError('NOT_FOUND', `no coupon issue rule ${ruleId}`);
        if (saleId !== undefined && !this.o.store.getSale(saleId))
          throw new PosError('SALE_NOT_FOUND', `no sale ${saleId}`);
        issued = this.issueInTransaction(rule, saleId);
        return { status: 201, body: issued };
      },
    );
    if (issued) this.o.bus.emit('coupon.issued', issued);
    return reply.body;
  }

  /** A coupon this terminal issued, by its code (for its QR on the customer screen). */
  issued(code: string): IssuedCoupon | undefined {
    const record = this.o.ledger.findLatest('coupon.issued', 'code', code);
    return record ? (record.body as unknown as IssuedCoupon) : undefined;
  }

  /**
   * Inside the transaction that voids a sale (`netAfter` -1) or completes a refund of it: revokes
   * the coupons the sale earned that it no longer earns (a void or a full refund: all of them; a
   * partial refund: those whose `afterSpend` the sale's net no longer reaches).
   */
  private revokeInTransaction(saleId: string, netAfter: number, reason: string): IssuedCoupon[] {
    const revoked: IssuedCoupon[] = [];
    for (const coupon of this.issuedForSale(saleId)) {
      // A partial refund keeps a coupon whose spend the sale still reaches (or that no spend earned).
      const spend = coupon.afterSpend ?? this.ruleSpend(coupon.ruleId);
      const keep = netAfter > 0 && (spend === undefined || netAfter >= spend);
      if (keep || this.o.ledger.findLatest('coupon.revoked', 'couponId', coupon.couponId)) continue;
      this.o.ledger.append('coupon.revoked', {
        couponId: coupon.couponId,
        code: coupon.code,
        saleId,
        reason,
        ...(netAfter >= 0 ? { netAfter } : {}),
      });
      revoked.push(coupon);
    }
    return revoked;
  }

  private issuedForSale(saleId: string): IssuedCoupon[] {
    return this.o.ledger
      .findAll('coupon.issued', 'saleId', saleId)
      .map((r) => r.body as unknown as IssuedCoupon);
  }

  private ruleSpend(ruleId: string): number | undefined {
    return this.o.business().coupons.issueRules.find((r) => r.ruleId === ruleId)?.afterSpend;
  }

  /** A fresh random code, drawn again in the (astronomically rare) case this terminal issued it before. */
  private newCode(prefix: string): string {
    for (;;) {
      const code = makeCouponCode(prefix, this.random(CODE_RANDOM_BYTES));
      if (!this.o.ledger.findLatest('coupon.issued', 'code', code)) return code;
    }
  }

  private issueInTransaction(rule: IssueRule, saleId: string | undefined): IssuedCoupon {
    const prefix = this.o.business().coupons.prefixes[0] ?? 'CP';
    const now = this.now();
    const coupon: IssuedCoupon = {
      couponId: this.newId(),
      code: this.newCode(prefix),
      ruleId: rule.ruleId,
      kind: rule.kind,
      value: rule.value,
      ...(rule.minSpend !== undefined ? { minSpend: rule.minSpend } : {}),
      validUntil: new Date(now.getTime() + rule.validDays * 86_400_000).toISOString(),
      ...(saleId !== undefined ? { saleId } : {}),
      ...(saleId !== undefined && rule.afterSpend !== undefined ? { afterSpend: rule.afterSpend } : {}),
    };
    this.o.ledger.append('coupon.issued', { ...coupon });
    return coupon;
  }
}
