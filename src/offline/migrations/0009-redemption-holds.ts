import type { Migration } from './migration.js';

/**
 * A redemption whose coupon the cloud may hold (reserved or consumed) for it: when the redemption
 * is released on the terminal, the hold is released at the cloud too, then cleared here.
 */
export const redemptionHoldsMigration: Migration = {
  version: 9,
  name: 'redemption-holds',
  up(db) {
    db.exec(`
      ALTER TABLE redemptions ADD COLUMN cloud_hold INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX redemptions_to_sync ON redemptions (status, cloud_hold);
    `);
  },
};
