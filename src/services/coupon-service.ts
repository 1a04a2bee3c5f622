import { v7 as uuidv7 } from 'uuid';
import { checkIssuedCode, normaliseTyped } from '../core/coupon-code.js';
import { describeError, PosError } from '../errors.js';
import type { SaleRecord } from '../offline/sales-store.js';
import type { CloudWorkOptions } from './cloud-work-options.js';
import { RetryDrain } from './retry-drain.js';
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
  cloud_hold: number;
  detail: string | null;
}

declare module '../bus.js' {
  interface PosEvents {
    /** The cloud found a coupon this terminal redeemed already used elsewhere (the discount was given). */
    'coupon.conflict': {
      redemptionId: string;
      couponId: string;
      saleId: string;
      code: string;
      message: string;
    };
  }
}

export interface CouponServiceOptions extends CloudWorkOptions {
  sales: SaleService;
}

/**
 * Coupons on a sale. Online, applying one reserves it at the cloud (`coupon.reserve`, keyed on the
 * redemption id) so no other terminal can take it; removing it or voiding the sale releases the
 * hold (`coupon.release`); completing the sale redeems it in the completing transaction and
 * consumes it at the cloud (`coupon.consume`, same id). Offline, `coupons.offline` decides: refuse,
 * or accept a whitelisted coupon up to a discount limit; a double use the cloud finds later is
 * recorded as `coupon.conflict` and listed for the technician.
 */
export class CouponService {
  private readonly o: CouponServiceOptions;
  private readonly now: () => Date;
  private readonly newId: () => string;
  private readonly stmt;
  private readonly drain: RetryDrain;

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
      byId: db.prepare<[string], RedemptionRow>('SELECT * FROM redemptions WHERE id = ?'),
      insert: db.prepare(
        `INSERT INTO redemptions (id, code, coupon_id, sale_id, status, offline, discount, cloud_hold, created_at, updated_at)
         VALUES (@id, @code, @couponId, @saleId, @status, @offline, @discount, @hold, @at, @at)`,
      ),
      setStatus: db.prepare<[RedemptionStatus, string | null, string, string]>(
        'UPDATE redemptions SET status = ?, detail = coalesce(?, detail), updated_at = ? WHERE id = ?',
      ),
      setHold: db.prepare<[number, string, string]>(
        'UPDATE redemptions SET cloud_hold = ?, updated_at = ? WHERE id = ?',
      ),
      setDiscount: db.prepare<[number, string]>('UPDATE redemptions SET discount = ? WHERE id = ?'),
      toSync: db.prepare<[], RedemptionRow>(
        "SELECT * FROM redemptions WHERE status = 'redeemed' OR (status = 'released' AND cloud_hold = 1) ORDER BY created_at, id",
      ),
      conflicts: db.prepare<[], RedemptionRow>(
        "SELECT * FROM redemptions WHERE status = 'conflict' ORDER BY created_at",
      ),
    };
    this.drain = new RetryDrain({
      cloud: options.cloud,
      sleep: options.sleep,
      step: () => this.syncStep(),
      onError: (err) => options.log.error({ err: describeError(err) }, 'coupon sync pass failed'),
    });
    options.sales.onCompletedInTransaction((sale) => this.redeemInTransaction(sale));
    options.sales.onCouponReleasedInTransaction((id) =>
      this.stmt.setStatus.run('released', null, this.now().toISOString(), id),
    );
    options.bus.on('sale.updated', (e) => {
      if (e.data.status !== 'open') void this.drain.kick();
    });
  }

  /** Looks a coupon up without holding it: online at the cloud, offline by the offline policy. */
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
    return { ...this.offlineInfo(code), offline: true };
  }

  /** Applies a coupon to an open sale without payments (reserving it at the cloud); the re-priced sale. */
  async apply(saleId: string, typed: string): Promise<SaleRecord> {
    const code = this.readCode(typed);
    this.o.ledger.transact(() => this.checkApplicable(saleId, code));
    const redemptionId = this.newId();
    const { info, held } = await this.reserve(redemptionId, code, saleId);
    let sale: SaleRecord;
    try {
      sale = this.o.ledger.transact(() => this.applyInTransaction(saleId, code, redemptionId, info, held));
    } catch (err) {
      if (held) this.keepForRelease(redemptionId, code, info.couponId, saleId);
      throw err;
    }
    this.o.sales.announceSale(saleId);
    return sale;
  }

  /** Takes the coupon off an open sale without payments; the cloud's hold is released. */
  remove(saleId: string): SaleRecord {
    const sale = this.o.ledger.transact(() => {
      const r = this.stmt.bySale.get(saleId);
      if (r?.status !== 'reserved') throw new PosError('NOT_FOUND', 'this sale has no coupon to remove');
      const repriced = this.o.sales.repriceOpenSale(saleId, undefined, { coupon: undefined });
      this.stmt.setStatus.run('released', null, this.now().toISOString(), r.id);
      return repriced;
    });
    this.o.sales.announceSale(saleId);
    void this.drain.kick();
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

  /** Consumes redeemed coupons and releases holds at the cloud (same redemption id on every retry). */
  consumePending(): Promise<void> {
    return this.drain.kick();
  }

  /** The typed code, read as an issued code where it has that shape; a mistyped check is refused here. */
  private readCode(typed: string): string {
    for (const prefix of this.o.business().coupons.prefixes) {
      const code = normaliseTyped(prefix, typed);
      if (checkIssuedCode(prefix, code) === 'bad-check')
        throw new PosError('COUPON_INVALID', 'this coupon code is mistyped (its check character fails)');
      if (code !== typed) return code;
    }
    return typed;
  }

  private checkApplicable(saleId: string, code: string): void {
    const sale = this.o.sales.getSale(saleId);
    if (sale.status !== 'open' || sale.kind !== 'sale')
      throw new PosError('SALE_NOT_OPEN', `sale ${saleId} is ${sale.status}`);
    if (sale.payments.length > 0)
      throw new PosError('CONFLICT', 'a discount cannot change once a payment was taken');
    if (this.stmt.bySale.get(saleId)) throw new PosError('CONFLICT', 'this sale already has a coupon');
    if (this.stmt.activeByCode.get(code)) throw new PosError('COUPON_INVALID', 'coupon already used');
  }

  /** Online: a hold at the cloud (or, from a cloud without holds, a plain verify). Offline: the policy. */
  private async reserve(
    redemptionId: string,
    code: string,
    saleId: string,
  ): Promise<{ info: CouponInfo & { offline: boolean }; held: boolean }> {
    if (!this.o.cloud.isOnline()) return { info: { ...this.offlineInfo(code), offline: true }, held: false };
    const reply = await this.o.cloud.request<CouponInfo>(
      'coupon.reserve',
      { redemptionId, code, saleId },
      this.o.business().payments.requestTimeoutMs,
    );
    if (reply.kind === 'ok') {
      const info = { ...reply.result, offline: false };
      if (!info.valid) throw new PosError('COUPON_INVALID', `coupon not valid: ${info.reason ?? 'refused'}`);
      return { info, held: true };
    }
    if (reply.kind === 'unknown') {
      // The cloud may hold it for this id: release that hold; the cashier tries again.
      this.keepForRelease(redemptionId, code, '', saleId);
      throw new PosError('COUPON_UNCONFIRMED', 'the cloud did not answer: apply the coupon again');
    }
    if (reply.code === 'UNKNOWN_OP') {
      const info = await this.verify(code);
      if (!info.valid) throw new PosError('COUPON_INVALID', `coupon not valid: ${info.reason ?? 'refused'}`);
      return { info, held: false };
    }
    if (reply.code === 'COUPON_RESERVED')
      throw new PosError('COUPON_RESERVED', 'this coupon is on a sale at another terminal', {
        code: reply.code,
      });
    throw new PosError('COUPON_INVALID', `coupon refused: ${reply.message}`, { code: reply.code });
  }

  private offlineInfo(code: string): CouponInfo {
    const policy = this.o.business().coupons;
    if (policy.offline !== 'accept')
      throw new PosError('COUPON_OFFLINE', 'the cloud cannot be reached: coupons are not accepted offline');
    const listed = policy.offlineWhitelist.find((c) => c.code === code);
    if (!listed)
      throw new PosError(
        'COUPON_INVALID',
        'the cloud cannot be reached and this coupon is not valid offline',
      );
    return { valid: true, ...listed };
  }

  private applyInTransaction(
    saleId: string,
    code: string,
    redemptionId: string,
    info: CouponInfo & { offline: boolean },
    held: boolean,
  ): SaleRecord {
    if (info.validUntil && Date.parse(info.validUntil) < this.now().getTime())
      throw new PosError('COUPON_INVALID', 'coupon expired');
    this.checkApplicable(saleId, code);
    const current = this.o.sales.getSale(saleId);
    // Minimum spend is on what the customer pays before the coupon: after line discounts.
    const base = current.subtotal - current.lineDiscountTotal;
    if (info.minSpend !== undefined && base < info.minSpend)
      throw new PosError('COUPON_INVALID', `minimum spend ${info.minSpend} not reached (${base})`);
    const discount =
      info.kind === 'amount'
        ? { amount: Math.min(info.value, base) }
        : { percentBp: Math.min(info.value, 10_000) };
    const repriced = this.o.sales.repriceOpenSale(saleId, discount, {
      coupon: { redemptionId, couponId: info.couponId, code, kind: info.kind, value: info.value },
    });
    const limit = this.o.business().coupons.maxOfflineDiscountPerSale;
    if (info.offline && repriced.doc.orderDiscount > limit)
      throw new PosError('COUPON_OFFLINE', `offline a coupon may take at most ${limit} off a sale`);
    this.stmt.insert.run({
      id: redemptionId,
      code,
      couponId: info.couponId,
      saleId,
      status: 'reserved',
      offline: info.offline ? 1 : 0,
      discount: repriced.doc.orderDiscount,
      hold: held ? 1 : 0,
      at: this.now().toISOString(),
    });
    // Nothing left to pay: the sale completes here, without a tender.
    const receiptNo = repriced.total === 0 ? this.o.sales.completeIfCovered(saleId) : undefined;
    return receiptNo ? { ...repriced, status: 'completed', receiptNo } : repriced;
  }

  /** A hold the cloud may have for a redemption that did not happen: queued for release. */
  private keepForRelease(redemptionId: string, code: string, couponId: string, saleId: string): void {
    this.o.ledger.transact(() =>
      this.stmt.insert.run({
        id: redemptionId,
        code,
        couponId,
        saleId,
        status: 'released',
        offline: 0,
        discount: 0,
        hold: 1,
        at: this.now().toISOString(),
      }),
    );
    void this.drain.kick();
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

  /** One pass: consume what was redeemed, release what was held and let go. */
  private async syncStep(): Promise<'done' | 'retry'> {
    const timeout = this.o.business().payments.requestTimeoutMs;
    for (const queued of this.stmt.toSync.all()) {
      const r = this.stmt.byId.get(queued.id);
      if (!r) continue;
      const at = () => this.now().toISOString();
      if (r.status === 'released') {
        const reply = await this.o.cloud.request(
          'coupon.release',
          { redemptionId: r.id, code: r.code },
          timeout,
        );
        if (reply.kind === 'unknown') return 'retry';
        // An error means the cloud holds nothing for this id: nothing left to release either way.
        this.o.ledger.transact(() => this.stmt.setHold.run(0, at(), r.id));
        continue;
      }
      if (r.status !== 'redeemed') continue;
      const reply = await this.o.cloud.request(
        'coupon.consume',
        { redemptionId: r.id, code: r.code, saleId: r.sale_id },
        timeout,
      );
      if (reply.kind === 'unknown') {
        // The cloud may have consumed it: a void before the retry must release it there.
        this.o.ledger.transact(() => this.stmt.setHold.run(1, at(), r.id));
        return 'retry';
      }
      if (reply.kind === 'ok') {
        this.o.ledger.transact(() => {
          // The cloud now holds the coupon for this id: a later void or full refund releases it.
          this.stmt.setHold.run(1, at(), r.id);
          if (this.stmt.byId.get(r.id)?.status === 'redeemed')
            this.stmt.setStatus.run('consumed', null, at(), r.id);
        });
        continue;
      }
      this.recordConflict(r, reply.code, reply.message);
    }
    return 'done';
  }

  /** Used elsewhere meanwhile (e.g. two offline terminals): the discount was given; never dropped. */
  private recordConflict(r: RedemptionRow, code: string, message: string): void {
    this.o.ledger.transact(() => {
      if (this.stmt.byId.get(r.id)?.status !== 'redeemed') return;
      this.stmt.setStatus.run('conflict', `${code}: ${message}`, this.now().toISOString(), r.id);
      this.o.ledger.append('coupon.conflict', {
        redemptionId: r.id,
        couponId: r.coupon_id,
        saleId: r.sale_id,
        discount: r.discount,
        code,
        message,
        ...(r.offline ? { offline: true } : {}),
      });
    });
    this.o.log.warn({ redemptionId: r.id, couponId: r.coupon_id, code }, 'coupon double use');
    this.o.bus.emit('coupon.conflict', {
      redemptionId: r.id,
      couponId: r.coupon_id,
      saleId: r.sale_id,
      code,
      message,
    });
  }
}
