import { v7 as uuidv7 } from 'uuid';
import type { EventBus } from '../bus.js';
import type { BusinessConfig } from '../config/business.js';
import { PosError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Db } from '../offline/db.js';
import type { Ledger } from '../offline/ledger.js';
import type { SaleRecord } from '../offline/sales-store.js';
import type { CloudPort, Sleep } from './cloud-port.js';
import type { SaleService } from './sale-service.js';

/** `coupon.verify` result (mqtt-v1); `percent` values are basis points (1500 = 15 % off). */
export interface CouponInfo {
  valid: boolean;
  couponId: string;
  kind: 'amount' | 'percent';
  value: number;
  minSpend?: number;
  validUntil?: string;
  reason?: string;
}

type RedemptionStatus = 'reserved' | 'redeemed' | 'consumed' | 'conflict' | 'released';

interface RedemptionRow {
  id: string;
  code: string;
  coupon_id: string;
  sale_id: string;
  status: RedemptionStatus;
  offline: number;
  discount: number;
}

export interface CouponServiceOptions {
  db: Db;
  ledger: Ledger;
  sales: SaleService;
  cloud: CloudPort;
  bus: EventBus;
  log: Logger;
  business: () => BusinessConfig;
  sleep: Sleep;
  now?: () => Date;
  newId?: () => string;
}

/**
 * Coupons: verified online (or against the offline whitelist pushed in config), applied as the
 * sale's order discount with the minimum spend checked on the after-discount subtotal, redeemed in
 * the completing transaction, consumed at the cloud with a stable redemptionId. A double use of a
 * whitelisted coupon across offline terminals comes back as a conflict at reconciliation.
 */
export class CouponService {
  private readonly o: CouponServiceOptions;
  private readonly now: () => Date;
  private readonly newId: () => string;
  private readonly stmt;
  private consuming = false;

  constructor(options: CouponServiceOptions) {
    this.o = options;
    this.now = options.now ?? (() => new Date());
    this.newId = options.newId ?? uuidv7;
    const db = options.db;
    this.stmt = {
      activeByCode: db.prepare<[string], RedemptionRow>(
        "SELECT * FROM redemptions WHERE code = ? AND status IN ('reserved', 'redeemed', 'consumed', 'conflict')",
      ),
      bySale: db.prepare<[string], RedemptionRow>(
        "SELECT * FROM redemptions WHERE sale_id = ? AND status <> 'released'",
      ),
      insert: db.prepare(
        `INSERT INTO redemptions (id, code, coupon_id, sale_id, status, offline, discount, created_at, updated_at)
         VALUES (@id, @code, @couponId, @saleId, 'reserved', @offline, @discount, @at, @at)`,
      ),
      setStatus: db.prepare<[RedemptionStatus, string | null, string, string]>(
        'UPDATE redemptions SET status = ?, detail = coalesce(?, detail), updated_at = ? WHERE id = ?',
      ),
      setDiscount: db.prepare<[number, string]>('UPDATE redemptions SET discount = ? WHERE id = ?'),
      toConsume: db.prepare<[], RedemptionRow>(
        "SELECT * FROM redemptions WHERE status = 'redeemed' ORDER BY created_at",
      ),
      conflicts: db.prepare<[], RedemptionRow & { detail: string | null }>(
        "SELECT * FROM redemptions WHERE status = 'conflict' ORDER BY created_at",
      ),
    };
    options.sales.onCompletedInTransaction((sale) => this.redeemInTransaction(sale));
    options.sales.onCouponReleasedInTransaction((id) =>
      this.stmt.setStatus.run('released', null, this.now().toISOString(), id),
    );
    options.bus.on('sale.updated', (e) => {
      if (e.data.status === 'completed') void this.consumePending();
    });
    options.cloud.onOnline(() => void this.consumePending());
  }

  /** Looks a coupon up: online at the cloud, offline in the whitelist from config. */
  async verify(code: string): Promise<CouponInfo & { offline: boolean }> {
    if (this.o.cloud.isOnline()) {
      const reply = await this.o.cloud.request<CouponInfo>(
        'coupon.verify',
        { code },
        this.o.business().payments.requestTimeoutMs,
      );
      if (reply.kind === 'ok') return { ...reply.result, offline: false };
      if (reply.kind === 'error')
        throw new PosError('COUPON_INVALID', `coupon refused: ${reply.message}`, { code: reply.code });
    }
    const listed = this.o.business().coupons.offlineWhitelist.find((c) => c.code === code);
    if (!listed) {
      throw new PosError(
        'COUPON_INVALID',
        'the cloud cannot be reached and this coupon is not valid offline',
      );
    }
    return { valid: true, ...listed, offline: true };
  }

  /** Verifies and applies a coupon to an open sale without payments; returns the re-priced sale. */
  async apply(saleId: string, code: string): Promise<SaleRecord> {
    const info = await this.verify(code);
    if (!info.valid)
      throw new PosError('COUPON_INVALID', `coupon not valid${info.reason ? `: ${info.reason}` : ''}`);
    if (info.validUntil && Date.parse(info.validUntil) < this.now().getTime()) {
      throw new PosError('COUPON_INVALID', 'coupon expired');
    }
    const redemptionId = this.newId();
    const at = this.now().toISOString();
    const sale = this.o.ledger.transact(() => {
      if (this.stmt.activeByCode.get(code)) throw new PosError('COUPON_INVALID', 'coupon already used');
      if (this.stmt.bySale.get(saleId)) throw new PosError('CONFLICT', 'this sale already has a coupon');
      const current = this.o.sales.getSale(saleId);
      // Minimum spend is on what the customer pays before the coupon: after line discounts.
      const base = current.subtotal - current.lineDiscountTotal;
      if (info.minSpend !== undefined && base < info.minSpend) {
        throw new PosError('COUPON_INVALID', `minimum spend ${info.minSpend} not reached (${base})`);
      }
      const discount =
        info.kind === 'amount'
          ? { amount: Math.min(info.value, base) }
          : { percentBp: Math.min(info.value, 10_000) };
      const repriced = this.o.sales.repriceOpenSale(saleId, discount, {
        coupon: { redemptionId, couponId: info.couponId, code, kind: info.kind, value: info.value },
      });
      this.stmt.insert.run({
        id: redemptionId,
        code,
        couponId: info.couponId,
        saleId,
        offline: info.offline ? 1 : 0,
        discount: repriced.doc.orderDiscount,
        at,
      });
      return repriced;
    });
    this.o.sales.announceSale(saleId);
    return sale;
  }

  /** Redemptions the cloud reported as a second use of the same coupon (for the technician). */
  conflicts(): Array<{ redemptionId: string; couponId: string; saleId: string; detail: string | null }> {
    return this.stmt.conflicts.all().map((r) => ({
      redemptionId: r.id,
      couponId: r.coupon_id,
      saleId: r.sale_id,
      detail: r.detail,
    }));
  }

  /** In the completing transaction: the coupon's use becomes a ledger fact. */
  private redeemInTransaction(sale: SaleRecord): void {
    const r = this.stmt.bySale.get(sale.id);
    if (r?.status !== 'reserved') return;
    this.stmt.setDiscount.run(sale.doc.orderDiscount, r.id);
    this.stmt.setStatus.run('redeemed', null, this.now().toISOString(), r.id);
    this.o.ledger.append('coupon.redeemed', {
      redemptionId: r.id,
      couponId: r.coupon_id,
      saleId: sale.id,
      discount: sale.doc.orderDiscount,
      currency: sale.currency,
      ...(r.offline ? { offline: true } : {}),
    });
  }

  /** Consumes redeemed coupons at the cloud; the same redemptionId on every retry. */
  async consumePending(): Promise<void> {
    if (this.consuming || !this.o.cloud.isOnline()) return;
    this.consuming = true;
    try {
      for (const r of this.stmt.toConsume.all()) {
        const reply = await this.o.cloud.request(
          'coupon.consume',
          { redemptionId: r.id, code: r.code, saleId: r.sale_id },
          this.o.business().payments.requestTimeoutMs,
        );
        if (reply.kind === 'ok') this.stmt.setStatus.run('consumed', null, this.now().toISOString(), r.id);
        else if (reply.kind === 'error') {
          // Used elsewhere meanwhile (two offline terminals): the discount was given; flag it.
          this.stmt.setStatus.run(
            'conflict',
            `${reply.code}: ${reply.message}`,
            this.now().toISOString(),
            r.id,
          );
          this.o.log.warn(
            { redemptionId: r.id, couponId: r.coupon_id, code: reply.code },
            'coupon double use',
          );
        } else return;
      }
    } finally {
      this.consuming = false;
    }
  }
}
