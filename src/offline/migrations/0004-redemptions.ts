import type { Migration } from './migration.js';

/** Coupon redemptions: reserved on a sale, consumed at the cloud, or flagged as a double use. */
export const redemptionsMigration: Migration = {
  version: 4,
  name: 'redemptions',
  up(db) {
    db.exec(`
      CREATE TABLE redemptions (
        id TEXT PRIMARY KEY,
        code TEXT NOT NULL,
        coupon_id TEXT NOT NULL,
        sale_id TEXT NOT NULL REFERENCES sales (id),
        status TEXT NOT NULL CHECK (status IN ('reserved', 'redeemed', 'consumed', 'conflict', 'released')),
        offline INTEGER NOT NULL DEFAULT 0,
        discount INTEGER NOT NULL DEFAULT 0,
        detail TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX redemptions_by_code ON redemptions (code);
      CREATE INDEX redemptions_by_sale ON redemptions (sale_id);
    `);
  },
};
