import { ledgerMigration } from './0001-ledger.js';
import { salesMigration } from './0002-sales.js';
import { cloudStateMigration } from './0003-cloud-state.js';
import { redemptionsMigration } from './0004-redemptions.js';
import { rechargesMigration } from './0005-recharges.js';
import { printQueueMigration } from './0006-print-queue.js';
import { paymentReversalsMigration } from './0007-payment-reversals.js';
import { ledgerEpochsMigration } from './0008-ledger-epochs.js';
import { redemptionHoldsMigration } from './0009-redemption-holds.js';
import { syncWatermarksMigration } from './0010-sync-watermarks.js';
import { storeAppsMigration } from './0011-store-apps.js';
import { paymentWatchIndexesMigration } from './0012-payment-watch-indexes.js';
import { compatibilityMarkMigration } from './0013-compatibility-mark.js';
import { salesSeqMigration } from './0014-sales-seq.js';
import { printJobsPrintingMigration } from './0015-print-jobs-printing.js';
import { printJobsSeqMigration } from './0016-print-jobs-seq.js';
import type { Migration } from './migration.js';

export type { Migration } from './migration.js';

/** In order; each version exactly once. A new migration is appended, never edited once shipped. */
export const MIGRATIONS: readonly Migration[] = [
  ledgerMigration,
  salesMigration,
  cloudStateMigration,
  redemptionsMigration,
  rechargesMigration,
  printQueueMigration,
  paymentReversalsMigration,
  ledgerEpochsMigration,
  redemptionHoldsMigration,
  syncWatermarksMigration,
  storeAppsMigration,
  paymentWatchIndexesMigration,
  compatibilityMarkMigration,
  salesSeqMigration,
  printJobsPrintingMigration,
  printJobsSeqMigration,
];
