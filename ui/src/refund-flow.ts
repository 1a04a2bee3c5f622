import { api, newIdempotencyKey } from './api.js';
import type { RefundActions } from './cashier-actions.js';
import { type CashierContext, fetchSale } from './cashier-context.js';
import { formatMoney } from './money.js';
import type { RecentSales } from './recent-sales.js';

/** Refunding lines of a completed sale from the recent list: pick quantities, then one request. */
export class RefundFlow implements RefundActions {
  constructor(
    private readonly c: CashierContext,
    private readonly recent: RecentSales,
  ) {}

  async startRefund(saleId: string): Promise<void> {
    const s = this.c.s;
    try {
      s.refundSale = await fetchSale(saleId);
      s.refundQty = new Map();
      s.screen = 'refund';
    } catch (err) {
      this.c.fail(err);
      return;
    }
    this.c.render();
  }

  refundQty(lineNo: number, delta: number): void {
    const s = this.c.s;
    const line = s.refundSale?.lines.find((l) => l.lineNo === lineNo);
    if (!line) return;
    const next = Math.max(0, Math.min(line.qty, (s.refundQty.get(lineNo) ?? 0) + delta));
    s.refundQty.set(lineNo, next);
    this.c.render();
  }

  async confirmRefund(): Promise<void> {
    const s = this.c.s;
    const sale = s.refundSale;
    const lines = [...s.refundQty].filter(([, q]) => q > 0).map(([lineNo, qty]) => ({ lineNo, qty }));
    if (!sale || lines.length === 0) return;
    try {
      const r = await api<{ total?: number }>(
        'POST',
        `/api/v1/sales/${sale.saleId}/refunds`,
        { lines },
        {
          idempotencyKey: newIdempotencyKey(),
        },
      );
      await this.recent.refresh(sale.saleId);
      s.screen = 'recent';
      s.message = `${this.c.t.t('refunded')} ${formatMoney(r.total ?? 0)}`;
    } catch (err) {
      this.c.fail(err);
      return;
    }
    this.c.render();
  }
}
