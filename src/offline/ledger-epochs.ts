import type { Db } from './db.js';

/** One life of the ledger on the wire (mqtt-v1: `epoch`, seq from 1). */
export interface EpochRow {
  n: number;
  epoch: string;
  /** The row seq before this epoch's seq 1: seq on the wire = row seq − base. */
  base: number;
  /** Set once the ledger moved off a restored copy: receipt numbers carry it. */
  receipt_series: string | null;
}

/** The epoch records are appended under now. */
export function currentEpoch(db: Db): EpochRow | undefined {
  return db
    .prepare<[], EpochRow>('SELECT n, epoch, base, receipt_series FROM ledger_epochs ORDER BY n DESC LIMIT 1')
    .get();
}

/** Every epoch of this file, oldest first. */
export function allEpochs(db: Db): EpochRow[] {
  return db
    .prepare<[], EpochRow>('SELECT n, epoch, base, receipt_series FROM ledger_epochs ORDER BY n')
    .all();
}

/** The epoch a row belongs to. */
export function epochOfRow(epochs: readonly EpochRow[], seq: number): EpochRow {
  let found = epochs[0]!;
  for (const e of epochs) if (e.base < seq) found = e;
  return found;
}

export function insertEpoch(
  db: Db,
  e: {
    epoch: string;
    base: number;
    startedAt: string;
    reason: string;
    previous?: string;
    resentFrom?: number;
    receiptSeries?: string;
  },
): void {
  db.prepare(
    `INSERT INTO ledger_epochs (epoch, base, started_at, reason, previous, resent_from, receipt_series)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    e.epoch,
    e.base,
    e.startedAt,
    e.reason,
    e.previous ?? null,
    e.resentFrom ?? null,
    e.receiptSeries ?? null,
  );
}

/**
 * The receipt series of an epoch after a restore: eight hex digits of its (random) UUIDv7 tail,
 * so a receipt number made after the move cannot repeat one the lost database printed.
 */
export function receiptSeriesOf(epoch: string): string {
  return epoch.replaceAll('-', '').slice(-8).toUpperCase();
}
