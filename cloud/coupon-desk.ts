import type { OpResult } from './acquirer.js';
import type { CloudKv } from './cloud-kv.js';

/** A coupon at the cloud: who holds it (a reservation on an open sale) and who consumed it. */
export interface Coupon {
  couponId: string;
  kind: 'amount' | 'percent';
  value: number;
  minSpend?: number;
  validUntil?: string;
  consumedBy: string | null;
  heldBy?: { redemptionId: string; device: string; saleId: string; at: number } | null;
  /** Issued with a sale that was voided or refunded: never valid again. */
  revoked?: { reason: string; afterUse: boolean } | null;
  saleId?: string;
}

export type NewCoupon = {
  couponId: string;
  kind: 'amount' | 'percent';
  value: number;
  minSpend?: number;
  validUntil?: string;
  saleId?: string;
};

/** A reservation nobody completed or released stops blocking the coupon after this long. */
export const COUPON_HOLD_MS = 60 * 60 * 1000;

/**
 * The reference cloud's coupons: issued ones registered from the ledger, holds from apply to
 * completion, consumption at most once across terminals, release and revocation. Each change is
 * one IMMEDIATE transaction, so two cloud instances never both hand out one coupon.
 */
export class CouponDesk {
  constructor(
    private readonly store: CloudKv,
    private readonly now: () => number,
  ) {}

  /** A `coupon.issued` record's coupon; a second sight of it changes nothing (nor its use). */
  registerIssued(body: Record<string, unknown>): void {
    const code = String(body.code ?? '');
    if (!code || this.store.kvGet('coupon', code)) return;
    this.addCoupon(code, {
      couponId: String(body.couponId),
      kind: body.kind === 'percent' ? 'percent' : 'amount',
      value: Number(body.value),
      ...(typeof body.minSpend === 'number' ? { minSpend: body.minSpend } : {}),
      ...(typeof body.validUntil === 'string' ? { validUntil: body.validUntil } : {}),
      ...(typeof body.saleId === 'string' ? { saleId: body.saleId } : {}),
    });
  }

  /**
   * A `coupon.revoked` record: the coupon is never valid again. One already used before the
   * revocation stays used and is marked `afterUse` for the merchant to settle.
   */
  revokeIssued(body: Record<string, unknown>): void {
    const code = String(body.code ?? '');
    this.store.exclusive(() => {
      const c = this.coupon(code);
      if (!c || c.revoked) return;
      this.store.kvPut('coupon', code, {
        ...c,
        revoked: { reason: String(body.reason ?? 'revoked'), afterUse: c.consumedBy !== null },
      });
    });
  }

  addCoupon(code: string, coupon: NewCoupon): void {
    this.store.kvPut('coupon', code, { ...coupon, consumedBy: null });
  }

  /** A coupon as the cloud holds it now (tests, the demo). */
  coupon(code: string): Coupon | undefined {
    return this.store.kvGet<Coupon>('coupon', code);
  }

  /** Why a coupon cannot be taken by `redemptionId` now, or undefined when it can. */
  private couponRefusal(
    c: Coupon | undefined,
    redemptionId?: string,
  ): { code: string; reason: string } | undefined {
    if (!c) return { code: 'COUPON_UNKNOWN', reason: 'UNKNOWN' };
    if (c.revoked) return { code: 'COUPON_REVOKED', reason: 'REVOKED' };
    if (c.consumedBy && c.consumedBy !== redemptionId) return { code: 'ALREADY_USED', reason: 'USED' };
    if (c.validUntil && Date.parse(c.validUntil) < this.now())
      return { code: 'COUPON_EXPIRED', reason: 'EXPIRED' };
    const hold = c.heldBy;
    if (hold && hold.redemptionId !== redemptionId && this.now() - hold.at < COUPON_HOLD_MS)
      return { code: 'COUPON_RESERVED', reason: 'RESERVED' };
    return undefined;
  }

  private couponView(c: Coupon): Record<string, unknown> {
    return {
      valid: true,
      couponId: c.couponId,
      kind: c.kind,
      value: c.value,
      ...(c.minSpend ? { minSpend: c.minSpend } : {}),
      ...(c.validUntil ? { validUntil: c.validUntil } : {}),
    };
  }

  verify(args: Record<string, unknown>): OpResult {
    const c = this.coupon(String(args.code ?? ''));
    const refused = this.couponRefusal(c);
    if (refused)
      return {
        ok: true,
        result: { valid: false, ...(c ? { couponId: c.couponId } : {}), reason: refused.reason },
      };
    return { ok: true, result: this.couponView(c!) };
  }

  /**
   * Holds a coupon for one redemption on an open sale, in one IMMEDIATE transaction: a second
   * terminal is refused `COUPON_RESERVED`; the same redemption (a retry) or a new attempt from the
   * same sale (after an unanswered reserve) gets it.
   */
  reserve(device: string, args: Record<string, unknown>): OpResult {
    const code = String(args.code ?? '');
    const redemptionId = String(args.redemptionId ?? '');
    const saleId = String(args.saleId ?? '');
    if (!redemptionId || !saleId)
      return {
        ok: false,
        error: { code: 'INVALID_REQUEST', message: 'redemptionId and saleId are required' },
      };
    return this.store.exclusive((): OpResult => {
      const c = this.coupon(code);
      const sameSale = c?.heldBy?.device === device && c.heldBy.saleId === saleId;
      const refused = this.couponRefusal(c, sameSale ? c?.heldBy?.redemptionId : redemptionId);
      if (refused)
        return {
          ok: false,
          error: { code: refused.code, message: `coupon ${refused.reason.toLowerCase()}` },
        };
      if (c!.heldBy?.redemptionId !== redemptionId)
        this.store.kvPut('coupon', code, { ...c!, heldBy: { redemptionId, device, saleId, at: this.now() } });
      return { ok: true, result: this.couponView(c!) };
    });
  }

  /** Consumes a coupon for a completed sale, at most once across terminals (one IMMEDIATE transaction). */
  consume(device: string, args: Record<string, unknown>): OpResult {
    const code = String(args.code ?? '');
    const redemptionId = String(args.redemptionId ?? '');
    return this.store.exclusive((): OpResult => {
      const c = this.coupon(code);
      if (c?.consumedBy === redemptionId) return { ok: true, result: { consumed: true } };
      const refused = this.couponRefusal(c, redemptionId);
      if (refused)
        return {
          ok: false,
          error: { code: refused.code, message: `coupon ${refused.reason.toLowerCase()}` },
        };
      this.store.kvPut('coupon', code, {
        ...c!,
        consumedBy: redemptionId,
        heldBy: null,
        consumed: { device, saleId: String(args.saleId ?? '') },
      });
      return { ok: true, result: { consumed: true } };
    });
  }

  /** Lets go of a hold or a consumption by this redemption (its sale voided, refunded, or the coupon removed). */
  release(args: Record<string, unknown>): OpResult {
    const code = String(args.code ?? '');
    const redemptionId = String(args.redemptionId ?? '');
    return this.store.exclusive((): OpResult => {
      const c = this.coupon(code);
      if (!c) return { ok: false, error: { code: 'COUPON_UNKNOWN', message: 'no such coupon' } };
      const held = c.heldBy?.redemptionId === redemptionId;
      const consumed = c.consumedBy === redemptionId;
      if (held || consumed)
        this.store.kvPut('coupon', code, {
          ...c,
          ...(held ? { heldBy: null } : {}),
          ...(consumed ? { consumedBy: null } : {}),
        });
      return { ok: true, result: { released: held || consumed } };
    });
  }
}
