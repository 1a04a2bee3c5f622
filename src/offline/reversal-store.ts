import type { Db } from './db.js';

export interface PaymentReversal {
  paymentId: string;
  refundId: string;
  amount: number;
  reason: string;
  status: 'pending' | 'done';
  attempts: number;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  payment_id: string;
  refund_id: string;
  amount: number;
  reason: string;
  status: 'pending' | 'done';
  attempts: number;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

function toReversal(r: Row): PaymentReversal {
  return {
    paymentId: r.payment_id,
    refundId: r.refund_id,
    amount: r.amount,
    reason: r.reason,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Rows of `payment_reversals`: one per payment at most; callers own the transaction. */
export class ReversalStore {
  private readonly stmt;

  constructor(db: Db) {
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO payment_reversals (payment_id, refund_id, amount, reason, status, created_at, updated_at)
         VALUES (@paymentId, @refundId, @amount, @reason, 'pending', @at, @at) ON CONFLICT DO NOTHING`,
      ),
      get: db.prepare<[string], Row>('SELECT * FROM payment_reversals WHERE payment_id = ?'),
      pending: db.prepare<[], Row>(
        "SELECT * FROM payment_reversals WHERE status = 'pending' ORDER BY created_at, payment_id",
      ),
      attempt: db.prepare<[string | null, string, string]>(
        'UPDATE payment_reversals SET attempts = attempts + 1, last_error = ?, updated_at = ? WHERE payment_id = ?',
      ),
      done: db.prepare<[string, string]>(
        "UPDATE payment_reversals SET status = 'done', last_error = NULL, updated_at = ? WHERE payment_id = ? AND status = 'pending'",
      ),
    };
  }

  /** Inserts the reversal of a payment unless it has one; returns the stored row (the first one). */
  insert(r: {
    paymentId: string;
    refundId: string;
    amount: number;
    reason: string;
    at: string;
  }): PaymentReversal {
    this.stmt.insert.run(r);
    return this.get(r.paymentId)!;
  }

  get(paymentId: string): PaymentReversal | undefined {
    const row = this.stmt.get.get(paymentId);
    return row ? toReversal(row) : undefined;
  }

  pending(): PaymentReversal[] {
    return this.stmt.pending.all().map(toReversal);
  }

  attempted(paymentId: string, error: string | null, at: string): void {
    this.stmt.attempt.run(error, at, paymentId);
  }

  /** Marks it done; false when it already was (another run finished it). */
  markDone(paymentId: string, at: string): boolean {
    return this.stmt.done.run(at, paymentId).changes === 1;
  }
}
