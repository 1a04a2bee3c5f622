import { api } from './api.js';
import type { RecentActions } from './cashier-actions.js';
import { type CashierContext, fetchSale, requestPrint } from './cashier-context.js';
import type { RecentSale, SaleView } from './cashier-state.js';

function toRecent(sale: SaleView, refunded: number): RecentSale {
  return {
    saleId: sale.saleId,
    total: sale.total,
    status: sale.status,
    ...(sale.receiptNo ? { receiptNo: sale.receiptNo } : {}),
    refunded,
  };
}

/** The sales of this session, as the daemon has them: reprint or void one (refunds: `RefundFlow`). */
export class RecentSales implements RecentActions {
  constructor(private readonly c: CashierContext) {}

  /** A sale just paid or voided on this screen: on the list, nothing refunded yet. */
  record(sale: SaleView): void {
    this.c.s.recent.set(sale.saleId, toRecent(sale, 0));
  }

  async refresh(saleId: string): Promise<void> {
    const sale = await fetchSale(saleId);
    if (sale.kind !== 'sale') return;
    const refunded = sale.refunds.reduce((sum, r) => sum + r.total, 0);
    this.c.s.recent.set(saleId, toRecent(sale, refunded));
  }

  /** After a restart or a gap: each listed sale as it is now. */
  async reload(): Promise<void> {
    for (const id of [...this.c.s.recent.keys()]) await this.refresh(id);
  }

  /** A `sale.updated` event: a sale (not a refund) that is no longer open changes on the list. */
  onSaleUpdated(d: Record<string, unknown>): void {
    const original = d.kind === 'refund' ? undefined : String(d.saleId);
    if (original && d.status !== 'open') void this.refresh(original).then(() => this.c.render());
  }

  showRecent(): void {
    if (this.c.s.screen === 'pay') return;
    this.c.s.screen = 'recent';
    this.c.render();
  }

  closeRecent(): void {
    this.c.s.receiptImage = undefined;
    this.c.s.screen = this.c.s.sale?.status === 'completed' ? 'done' : 'sell';
    this.c.render();
  }

  /** Shows the image of the sale's latest print job: what the paper shows (or would). */
  viewReceipt(saleId: string): void {
    const job = this.c.s.prints.get(saleId);
    this.c.s.receiptImage = job ? { saleId, jobId: job.jobId } : undefined;
    this.c.render();
  }

  closeReceipt(): void {
    this.c.s.receiptImage = undefined;
    this.c.render();
  }

  /** A completed sale's (or refund's) receipt again, marked as a reprint by the daemon. */
  async reprintSale(saleId: string): Promise<void> {
    await requestPrint(this.c, `/api/v1/sales/${encodeURIComponent(saleId)}/reprint`);
  }

  async voidSale(saleId: string): Promise<void> {
    try {
      await api('POST', `/api/v1/sales/${saleId}/void`, { reason: 'cashier void' });
      await this.refresh(saleId);
    } catch (err) {
      this.c.fail(err);
      return;
    }
    this.c.render();
  }
}
