import type pg from 'pg';
import type { IncomingRecord } from '../store.js';

/**
 * Whether a failed message is its own fault or the database's: a message refused while the
 * database answers is set aside by the caller; with the database away it goes back to the broker
 * after a pause that grows (100 ms doubling to 5 s), not in a requeue storm.
 */
export class StoreHealth {
  /** Failures in a row with the database away. */
  private away = 0;

  constructor(private readonly pool: pg.Pool) {}

  /** The database takes a query now. */
  async answers(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      this.away = 0;
      return true;
    } catch {
      return false;
    }
  }

  /** Waits before messages are given back to the broker, which would hand them straight back. */
  async pause(): Promise<void> {
    const ms = Math.min(5_000, 100 * 2 ** Math.min(this.away, 6));
    this.away += 1;
    await new Promise((r) => setTimeout(r, ms));
  }
}

/** A `P/up/ledger` payload: its epoch and the records with a seq, chain and id; or undefined. */
export function parseBatch(payload: Buffer): { epoch: string; records: IncomingRecord[] } | undefined {
  let batch: { epoch?: unknown; records?: unknown };
  try {
    batch = JSON.parse(payload.toString('utf8')) as typeof batch;
  } catch {
    return undefined;
  }
  if (typeof batch !== 'object' || batch === null) return undefined;
  if (typeof batch.epoch !== 'string' || !Array.isArray(batch.records)) return undefined;
  const records = (batch.records as IncomingRecord[]).filter(
    (r) => Number.isSafeInteger(r?.seq) && typeof r.chain === 'string' && typeof r.id === 'string',
  );
  return { epoch: batch.epoch, records };
}
