import type pg from 'pg';

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
