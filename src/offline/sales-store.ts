import type { AppliedPayment, PricedSale } from '../core/sale.js';
import type { Db } from './db.js';

export type SaleKind = 'sale' | 'refund';
export type SaleStatus = 'open' | 'completed' | 'voided';

/** What a sale row's JSON document holds beyond its columns. */
export interface SaleDoc extends PricedSale {
  originalReceiptNo?: string;
  reason?: string;
  /**
   * A refund that returned less than asked (a channel refused its part): what was asked. Its lines
   * and total are then what was returned; its quantities are not counted as refunded, so the rest
   * of the same lines stays refundable.
   */
  partial?: { requestedTotal: number };
  /** The at-counter online order this sale pays (its lines and prices are the order's). */
  orderId?: string;
  /** The member the sale is for (points are awarded by the cloud from the ledger). */
  memberId?: string;
  /** A coupon applied as the order discount. */
  coupon?: {
    redemptionId: string;
    couponId: string;
    code: string;
    kind: 'amount' | 'percent';
    value: number;
  };
}

export interface SaleRecord {
  id: string;
  kind: SaleKind;
  originalSaleId: string | null;
  status: SaleStatus;
  currency: string;
  total: number;
  receiptNo: string | null;
  shiftId: string | null;
  doc: SaleDoc;
  createdAt: string;
  completedAt: string | null;
  voidedAt: string | null;
}

interface SaleRow {
  id: string;
  kind: SaleKind;
  original_sale_id: string | null;
  status: SaleStatus;
  currency: string;
  total: number;
  receipt_no: string | null;
  shift_id: string | null;
  doc: string;
  created_at: string;
  completed_at: string | null;
  voided_at: string | null;
}

interface PaymentRow {
  id: string;
  method: AppliedPayment['method'];
  channel: string;
  amount: number;
  change: number;
  status: AppliedPayment['status'];
}

type StoredPaymentRow = PaymentRow & { sale_id: string; doc: string; created_at: string };

/** A payment row with its sale and its JSON document (acquirer references, QR url, …). */
export interface StoredPayment extends AppliedPayment {
  saleId: string;
  doc: Record<string, unknown>;
  /** When the payment was committed (the code-payment rule's window runs from here). */
  createdAt: string;
}

function toStoredPayment(r: StoredPaymentRow): StoredPayment {
  return {
    paymentId: r.id,
    saleId: r.sale_id,
    method: r.method,
    channel: r.channel,
    amount: r.amount,
    change: r.change,
    status: r.status,
    doc: JSON.parse(r.doc) as Record<string, unknown>,
    createdAt: r.created_at,
  };
}

/** Row access for sales, payments, counters and idempotency records; callers own the transaction. */
export class SalesStore {
  private readonly stmt;

  constructor(db: Db) {
    this.stmt = {
      receiptSeries: db.prepare<[], { series: string | null }>(
        'SELECT receipt_series AS series FROM ledger_epochs ORDER BY n DESC LIMIT 1',
      ),
      insertSale: db.prepare(
        // seq: the next after the highest (the write lock orders inserts), whatever the clock says.
        `INSERT INTO sales (id, kind, original_sale_id, status, currency, total, receipt_no, shift_id, doc, created_at, completed_at, seq)
         VALUES (@id, @kind, @originalSaleId, @status, @currency, @total, @receiptNo, @shiftId, @doc, @createdAt, @completedAt,
                 (SELECT coalesce(max(seq), 0) + 1 FROM sales))`,
      ),
      getSale: db.prepare<[string], SaleRow>('SELECT * FROM sales WHERE id = ?'),
      complete: db.prepare<[string, string, string]>(
        "UPDATE sales SET status = 'completed', receipt_no = ?, completed_at = ? WHERE id = ? AND status = 'open'",
      ),
      updateOpen: db.prepare<[number, string, string]>(
        "UPDATE sales SET total = ?, doc = ? WHERE id = ? AND status = 'open'",
      ),
      voidSale: db.prepare<[string, string]>(
        "UPDATE sales SET status = 'voided', voided_at = ? WHERE id = ?",
      ),
      // Newest first by sequence, not by id: ids are UUIDv7, made from a clock that can go back.
      seqOf: db.prepare<[string], { seq: number | null }>('SELECT seq FROM sales WHERE id = ?'),
      recentSales: db.prepare<[{ below: number; limit: number }], SaleRow>(
        `SELECT * FROM sales WHERE kind = 'sale' AND seq < @below ORDER BY seq DESC LIMIT @limit`,
      ),
      // By the end of the receipt number: a scan of the receipt-number index (small), not the table.
      recentByReceiptEnd: db.prepare<[{ below: number; fragment: string; limit: number }], SaleRow>(
        `SELECT * FROM sales WHERE id IN (
           SELECT id FROM sales WHERE receipt_no > ''
             AND substr(receipt_no, -length(@fragment)) = @fragment)
         AND kind = 'sale' AND seq < @below ORDER BY seq DESC LIMIT @limit`,
      ),
      saleByReceipt: db.prepare<[string], SaleRow>('SELECT * FROM sales WHERE receipt_no = ?'),
      refundsOf: db.prepare<[string], SaleRow>(
        "SELECT * FROM sales WHERE original_sale_id = ? AND kind = 'refund' ORDER BY created_at, id",
      ),
      insertPayment: db.prepare(
        `INSERT INTO payments (id, sale_id, method, channel, amount, change, status, doc, created_at, updated_at)
         VALUES (@id, @saleId, @method, @channel, @amount, @change, @status, @doc, @at, @at)`,
      ),
      getPayment: db.prepare<[string], StoredPaymentRow>(
        'SELECT id, sale_id, method, channel, amount, change, status, doc, created_at FROM payments WHERE id = ?',
      ),
      setPaymentStatus: db.prepare<[string, string, string, string]>(
        'UPDATE payments SET status = ?, doc = ?, updated_at = ? WHERE id = ?',
      ),
      paymentsWithDoc: db.prepare<[string], StoredPaymentRow>(
        'SELECT id, sale_id, method, channel, amount, change, status, doc, created_at FROM payments WHERE sale_id = ? ORDER BY created_at, id',
      ),
      unresolvedPayments: db.prepare<[], StoredPaymentRow>(
        "SELECT id, sale_id, method, channel, amount, change, status, doc, created_at FROM payments WHERE status IN ('pending', 'unknown')",
      ),
      lateChecks: db.prepare<[], StoredPaymentRow>(
        "SELECT id, sale_id, method, channel, amount, change, status, doc, created_at FROM payments WHERE json_extract(doc, '$.lateCheck') = 1",
      ),
      watchedQrs: db.prepare<[], StoredPaymentRow>(
        "SELECT id, sale_id, method, channel, amount, change, status, doc, created_at FROM payments WHERE json_extract(doc, '$.watchUntil') IS NOT NULL",
      ),
      paymentsOf: db.prepare<[string], PaymentRow>(
        'SELECT id, method, channel, amount, change, status FROM payments WHERE sale_id = ? ORDER BY created_at, id',
      ),
      // As paidAmount() and a view's change: succeeded payments net of change; change of them all.
      tendered: db.prepare<[string], { paid: number; change: number }>(
        `SELECT coalesce(sum(CASE WHEN status = 'succeeded' THEN amount - change END), 0) AS paid,
                coalesce(sum(change), 0) AS change
         FROM payments WHERE sale_id = ?`,
      ),
      nextCounter: db.prepare<[string], { value: number }>(
        `INSERT INTO counters (name, value) VALUES (?, 1)
         ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value`,
      ),
      shiftStatus: db.prepare<[string], { status: string }>('SELECT status FROM shifts WHERE id = ?'),
      getIdem: db.prepare<[string], { request_hash: string; status: number; response: string }>(
        'SELECT request_hash, status, response FROM idempotency WHERE key = ?',
      ),
      putIdem: db.prepare<[string, string, number, string, string]>(
        'INSERT INTO idempotency (key, request_hash, status, response, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
    };
  }

  insertSale(sale: SaleRecord): void {
    this.stmt.insertSale.run({ ...sale, doc: JSON.stringify(sale.doc) });
  }

  getSale(id: string): SaleRecord | undefined {
    const row = this.stmt.getSale.get(id);
    return row ? toSale(row) : undefined;
  }

  updateOpenSale(id: string, total: number, doc: SaleDoc): void {
    this.stmt.updateOpen.run(total, JSON.stringify(doc), id);
  }

  markCompleted(id: string, receiptNo: string, at: string): void {
    this.stmt.complete.run(receiptNo, at, id);
  }

  markVoided(id: string, at: string): void {
    this.stmt.voidSale.run(at, id);
  }

  /**
   * Sales (not refunds), newest first by sequence, recorded before the sale `before` (none when no
   * such sale), whose receipt number ends with `fragment`.
   */
  recentSales(limit: number, before?: string, fragment?: string): SaleRecord[] {
    const below = before === undefined ? Number.MAX_SAFE_INTEGER : this.stmt.seqOf.get(before)?.seq;
    if (below === undefined || below === null) return [];
    const rows =
      fragment === undefined
        ? this.stmt.recentSales.all({ below, limit })
        : this.stmt.recentByReceiptEnd.all({ below, fragment, limit });
    return rows.map(toSale);
  }

  saleByReceipt(receiptNo: string): SaleRecord | undefined {
    const row = this.stmt.saleByReceipt.get(receiptNo);
    return row ? toSale(row) : undefined;
  }

  refundsOf(id: string): SaleRecord[] {
    return this.stmt.refundsOf.all(id).map(toSale);
  }

  insertPayment(saleId: string, p: AppliedPayment, at: string, doc: Record<string, unknown> = {}): void {
    this.stmt.insertPayment.run({ ...p, id: p.paymentId, saleId, at, doc: JSON.stringify(doc) });
  }

  getPayment(paymentId: string): StoredPayment | undefined {
    const r = this.stmt.getPayment.get(paymentId);
    return r ? toStoredPayment(r) : undefined;
  }

  setPaymentStatus(paymentId: string, status: string, doc: Record<string, unknown>, at: string): void {
    this.stmt.setPaymentStatus.run(status, JSON.stringify(doc), at, paymentId);
  }

  paymentsWithDocOf(saleId: string): StoredPayment[] {
    return this.stmt.paymentsWithDoc.all(saleId).map(toStoredPayment);
  }

  /** Electronic payments whose outcome is not known yet (to resume after a restart). */
  unresolvedPayments(): StoredPayment[] {
    return this.stmt.unresolvedPayments.all().map(toStoredPayment);
  }

  /** Closed QR payments a SUCCESS notify named, not yet confirmed or ruled out by a query. */
  lateChecks(): StoredPayment[] {
    return this.stmt.lateChecks.all().map(toStoredPayment);
  }

  /** Closed QR payments still queried for a payment made after their close. */
  watchedQrs(): StoredPayment[] {
    return this.stmt.watchedQrs.all().map(toStoredPayment);
  }

  /** What a sale's payments took (net of change) and the change they gave, without reading them. */
  tendered(saleId: string): { paid: number; change: number } {
    return this.stmt.tendered.get(saleId)!;
  }

  paymentsOf(saleId: string): AppliedPayment[] {
    return this.stmt.paymentsOf.all(saleId).map((r) => ({
      paymentId: r.id,
      method: r.method,
      channel: r.channel,
      amount: r.amount,
      change: r.change,
      status: r.status,
    }));
  }

  /** Next value of a gapless counter; gapless because it rolls back with the transaction. */
  next(counter: string): number {
    return this.stmt.nextCounter.get(counter)!.value;
  }

  /**
   * The next receipt number: `{device}-{n}` (n gapless, six digits at least). After the ledger
   * moved off a restored copy, `{device}-{series}-{n}`: the epoch's series keeps every number
   * made since apart from those the lost database printed (docs/protocol.md "Restored database").
   */
  nextReceiptNo(deviceId: string): string {
    const n = String(this.next('receipt')).padStart(6, '0');
    const series = this.stmt.receiptSeries.get()?.series;
    return series ? `${deviceId}-${series}-${n}` : `${deviceId}-${n}`;
  }

  shiftClosed(shiftId: string): boolean {
    return this.stmt.shiftStatus.get(shiftId)?.status === 'closed';
  }

  idempotent(key: string): { requestHash: string; status: number; response: unknown } | undefined {
    const row = this.stmt.getIdem.get(key);
    return row
      ? { requestHash: row.request_hash, status: row.status, response: JSON.parse(row.response) }
      : undefined;
  }

  rememberIdempotent(key: string, requestHash: string, status: number, response: unknown, at: string): void {
    this.stmt.putIdem.run(key, requestHash, status, JSON.stringify(response), at);
  }
}

function toSale(row: SaleRow): SaleRecord {
  return {
    id: row.id,
    kind: row.kind,
    originalSaleId: row.original_sale_id,
    status: row.status,
    currency: row.currency,
    total: row.total,
    receiptNo: row.receipt_no,
    shiftId: row.shift_id,
    doc: JSON.parse(row.doc) as SaleDoc,
    createdAt: row.created_at,
    completedAt: row.completed_at,
    voidedAt: row.voided_at,
  };
}
