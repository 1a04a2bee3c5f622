import type { SaleRecord } from '../offline/sales-store.js';

/** How a completed sale was reversed: voided, or refunded down to `netAfter`. */
export type Reversal = { kind: 'voided' } | { kind: 'refunded'; netAfter: number };

/**
 * Where coupons, loyalty and receipts join a sale's transactions: each hook runs inside the
 * transaction that completes, voids or refunds the sale, so what it records commits with it.
 */
export class SaleHooks {
  protected readonly completionHooks: Array<(sale: SaleRecord, receiptNo: string) => void> = [];
  private readonly releaseHooks: Array<(redemptionId: string) => void> = [];
  private readonly reversalHooks: Array<(sale: SaleRecord, how: Reversal) => void> = [];

  /** Runs inside the transaction that voids a sale with a coupon or fully refunds one. */
  onCouponReleasedInTransaction(hook: (redemptionId: string) => void): void {
    this.releaseHooks.push(hook);
  }

  /** Inside the transaction of a full refund: the sale's coupon goes back to the customer. */
  releaseCouponInTransaction(redemptionId: string): void {
    for (const hook of this.releaseHooks) hook(redemptionId);
  }

  /** Inside the transaction of a refund: whatever the sale earned that its net no longer earns goes. */
  reversedInTransaction(sale: SaleRecord, how: Reversal): void {
    for (const hook of this.reversalHooks) hook(sale, how);
  }

  /** Runs inside the transaction that voids a completed sale or completes a refund of one. */
  onReversedInTransaction(hook: (sale: SaleRecord, how: Reversal) => void): void {
    this.reversalHooks.push(hook);
  }

  /** Runs inside the transaction that completes a sale, after its `sale.completed` record. */
  onCompletedInTransaction(hook: (sale: SaleRecord, receiptNo: string) => void): void {
    this.completionHooks.push(hook);
  }
}
