export interface CartLine {
  sku?: string;
  name: string;
  qty: number;
  unitPrice: number;
}

export type OrderDiscount = { percentBp: number } | { amount: number } | undefined;

/** The cashier's cart before it becomes a sale; prices here are a preview, the daemon prices the sale. */
export class Cart {
  lines: CartLine[] = [];
  discount: OrderDiscount = undefined;

  add(item: { sku?: string; name: string; unitPrice: number }): void {
    const same = item.sku ? this.lines.find((l) => l.sku === item.sku) : undefined;
    if (same) same.qty += 1;
    else
      this.lines.push({
        ...(item.sku ? { sku: item.sku } : {}),
        name: item.name,
        qty: 1,
        unitPrice: item.unitPrice,
      });
  }

  changeQty(index: number, delta: number): void {
    const line = this.lines[index];
    if (!line) return;
    line.qty += delta;
    if (line.qty <= 0) this.lines.splice(index, 1);
  }

  clear(): void {
    this.lines = [];
    this.discount = undefined;
  }

  get subtotal(): number {
    return this.lines.reduce((s, l) => s + l.qty * l.unitPrice, 0);
  }

  get discountAmount(): number {
    const d = this.discount;
    if (!d) return 0;
    if ('amount' in d) return Math.min(d.amount, this.subtotal);
    return Math.floor((this.subtotal * d.percentBp) / 10_000);
  }

  get total(): number {
    return this.subtotal - this.discountAmount;
  }

  /** The body of `POST /api/v1/sales` (without tenders). */
  toSale(): { lines: CartLine[]; orderDiscount?: { percentBp: number } | { amount: number } } {
    return {
      lines: this.lines.map((l) => ({ ...l })),
      ...(this.discount ? { orderDiscount: this.discount } : {}),
    };
  }
}
