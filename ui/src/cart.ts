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
    // Half up, as the daemon prices it (applyBasisPoints in src/core/money.ts).
    return Number((BigInt(this.subtotal) * BigInt(d.percentBp) + 5000n) / 10000n);
  }

  get total(): number {
    return this.subtotal - this.discountAmount;
  }

  /**
   * Each line's amount after its share of the order discount, shared out by largest remainder as
   * the daemon prices a sale (src/core/sale.ts), so the lines add up to the total.
   */
  netAmounts(): number[] {
    const gross = this.lines.map((l) => l.qty * l.unitPrice);
    const sum = gross.reduce((a, b) => a + b, 0);
    const off = this.discountAmount;
    if (off === 0 || sum === 0) return gross;
    const parts = gross.map((g) => BigInt(off) * BigInt(g));
    const shares = parts.map((p) => Number(p / BigInt(sum)));
    let left = off - shares.reduce((a, b) => a + b, 0);
    const order = parts
      .map((p, i) => ({ i, rem: p % BigInt(sum) }))
      .sort((a, b) => (a.rem === b.rem ? a.i - b.i : a.rem > b.rem ? -1 : 1));
    for (const { i } of order) {
      if (left === 0) break;
      shares[i]! += 1;
      left -= 1;
    }
    return gross.map((g, i) => g - shares[i]!);
  }

  /** The body of `POST /api/v1/sales` (without tenders). */
  toSale(): { lines: CartLine[]; orderDiscount?: { percentBp: number } | { amount: number } } {
    return {
      lines: this.lines.map((l) => ({ ...l })),
      ...(this.discount ? { orderDiscount: this.discount } : {}),
    };
  }
}
