import type { SalesStore } from '../offline/sales-store.js';
import { type SaleView, saleView } from './sale-view.js';

export interface SaleListQuery {
  limit: number;
  /** Only sales recorded before this sale, by sequence (the previous page's `next`). */
  before?: string;
  /** The sale with exactly this receipt number (a refund's number finds its sale). */
  receiptNo?: string;
  /** Sales whose receipt number ends with this text (its last digits). */
  q?: string;
}

/** Recent sales from the ledger database, newest first: the cashier's list survives a reload. */
export function listSales(store: SalesStore, query: SaleListQuery): { sales: SaleView[]; next?: string } {
  if (query.receiptNo !== undefined) {
    const found = store.saleByReceipt(query.receiptNo);
    const sale =
      found?.kind === 'refund' && found.originalSaleId ? store.getSale(found.originalSaleId) : found;
    return { sales: sale ? [saleView(store, sale)] : [] };
  }
  // One more than asked tells whether there is a next page.
  const rows = store.recentSales(query.limit + 1, query.before, query.q);
  const page = rows.slice(0, query.limit);
  const sales = page.map((r) => saleView(store, r));
  return rows.length > query.limit ? { sales, next: page.at(-1)!.id } : { sales };
}
