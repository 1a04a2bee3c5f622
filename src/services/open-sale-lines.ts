import { type Discount, type LineInput, priceSale } from '../core/sale.js';
import { PosError } from '../errors.js';
import type { Ledger } from '../offline/ledger.js';
import type { SalesStore } from '../offline/sales-store.js';
import type { SaleService } from './sale-service.js';
import { type SaleView, saleView } from './sale-view.js';

export interface OpenSaleLinesDeps {
  ledger: Ledger;
  store: SalesStore;
  sales: SaleService;
}

/**
 * The cashier went back from the pay screen to the cart and changed it: the open sale takes the
 * new lines, priced again. Only while nothing was paid (no payment row at all), and not for an
 * online order (its prices are the order's) or a sale holding a coupon (remove it first). An open
 * sale is not in the ledger yet (its completion or void is), so nothing is recorded.
 */
export function replaceOpenSaleLines(
  d: OpenSaleLinesDeps,
  saleId: string,
  input: { lines: LineInput[]; orderDiscount?: Discount },
): SaleView {
  d.ledger.transact(() => {
    const sale = d.sales.mustGet(saleId);
    if (sale.kind !== 'sale' || sale.status !== 'open')
      throw new PosError('SALE_NOT_OPEN', `sale ${saleId} is ${sale.status}`);
    if (sale.doc.orderId)
      throw new PosError(
        'ORDER_PRICED',
        'the sale of an online order keeps the prices the customer agreed to',
      );
    if (sale.doc.coupon) throw new PosError('CONFLICT', 'remove the coupon before changing the lines');
    if (d.store.paymentsOf(saleId).length > 0)
      throw new PosError('CONFLICT', 'a payment was taken: the lines cannot change');
    const priced = priceSale(input.lines, input.orderDiscount);
    d.store.updateOpenSale(saleId, priced.total, {
      ...priced,
      ...(sale.doc.memberId ? { memberId: sale.doc.memberId } : {}),
    });
  });
  d.sales.announceSale(saleId);
  return saleView(d.store, d.sales.mustGet(saleId));
}
