import type { Migration } from './migration.js';

/**
 * Money to give back that is not a goods return: a QR paid after it was closed. Committed with the
 * `payment.succeeded` that learnt of it, sent to the acquirer until answered (same refundId).
 */
export const paymentReversalsMigration: Migration = {
  version: 7,
  name: 'payment-reversals',
  up(db) {
    db.exec(`
      CREATE TABLE payment_reversals (
        payment_id TEXT PRIMARY KEY REFERENCES payments (id),
        refund_id TEXT NOT NULL UNIQUE,
        amount INTEGER NOT NULL CHECK (amount > 0),
        reason TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'done')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX payment_reversals_pending ON payment_reversals (created_at) WHERE status = 'pending';
    `);
  },
};
