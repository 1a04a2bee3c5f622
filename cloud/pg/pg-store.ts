import pg from 'pg';
import type { IncomingRecord } from '../store.js';
import { type IngestBatch, type IngestOutcome, ingestGroup } from './pg-ingest.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS records (
    tenant text NOT NULL, device text NOT NULL, epoch text NOT NULL, seq bigint NOT NULL,
    id text NOT NULL, type text NOT NULL, at text NOT NULL, body text NOT NULL, chain text NOT NULL,
    status text NOT NULL, reject_code text, reject_message text,
    PRIMARY KEY (tenant, device, epoch, seq)
  );
  CREATE INDEX IF NOT EXISTS records_id ON records (tenant, device, id);
  -- The body as the device chained it (canonical text): jsonb refuses a NUL and reorders keys.
  DO $$ BEGIN
    IF (SELECT data_type FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'records' AND column_name = 'body') = 'jsonb'
    THEN ALTER TABLE records ALTER COLUMN body TYPE text USING body::text; END IF;
  END $$;
  CREATE TABLE IF NOT EXISTS heads (
    tenant text NOT NULL, device text NOT NULL, epoch text NOT NULL,
    acked_up_to bigint NOT NULL, last_chain text NOT NULL, rejects integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, device, epoch)
  );
  CREATE TABLE IF NOT EXISTS kv (
    scope text NOT NULL, key text NOT NULL, value jsonb NOT NULL, PRIMARY KEY (scope, key)
  );
  CREATE TABLE IF NOT EXISTS order_seq (
    tenant text NOT NULL, device text NOT NULL, last bigint NOT NULL, PRIMARY KEY (tenant, device)
  );
  CREATE TABLE IF NOT EXISTS orders (
    tenant text NOT NULL, device text NOT NULL, down_seq bigint NOT NULL, order_id text NOT NULL,
    doc jsonb NOT NULL, PRIMARY KEY (tenant, device, down_seq)
  );
  CREATE INDEX IF NOT EXISTS orders_at_counter ON orders (tenant, (doc->>'pickupCode'))
    WHERE doc->>'payment' = 'at-counter';
`;

/** Serialization failure and deadlock: the transaction is run again. */
const RETRYABLE = new Set(['40001', '40P01']);

export type Isolation = 'READ COMMITTED' | 'SERIALIZABLE';

// bigint columns come back as numbers (seqs and downSeqs are far below 2^53).
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/**
 * The reference cloud's store on PostgreSQL: the same records, heads, documents and orders as the
 * SQLite `CloudStore`, shared by any number of cloud instances. Ledger batches take row locks on
 * their heads (READ COMMITTED, `FOR UPDATE`); money operations run SERIALIZABLE; both are run
 * again on a serialization failure or deadlock.
 */
export class PgStore {
  readonly pool: pg.Pool;
  /** Transactions run again after a serialization failure or deadlock (for reports). */
  retries = 0;

  constructor(url: string, poolSize = 8) {
    this.pool = new pg.Pool({ connectionString: url, max: poolSize });
    // An idle client whose server went away must not take the process down.
    this.pool.on('error', () => {});
  }

  /** Creates the tables (once, whichever instance comes first). */
  async migrate(): Promise<void> {
    await this.tx('READ COMMITTED', async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(2200)');
      await c.query(SCHEMA);
    });
  }

  async end(): Promise<void> {
    await this.pool.end();
  }

  /** `work` as one transaction at `isolation`, run again on a serialization failure or deadlock. */
  async tx<T>(isolation: Isolation, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const c = await this.pool.connect();
      let broken = false;
      try {
        await c.query(`BEGIN ISOLATION LEVEL ${isolation}`);
        const result = await work(c);
        await c.query('COMMIT');
        return result;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {
          broken = true;
        });
        const code = (err as { code?: string }).code;
        if (!code || !RETRYABLE.has(code) || attempt >= 20) throw err;
        this.retries += 1;
        await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
      } finally {
        c.release(broken);
      }
    }
  }

  /** Stores ledger batches in one transaction; see `ingestGroup`. */
  ingest(batches: readonly IngestBatch[]): Promise<IngestOutcome[]> {
    return this.tx('READ COMMITTED', (c) => ingestGroup(c, batches));
  }

  async kvGet<T>(scope: string, key: string): Promise<T | undefined> {
    const res = await this.pool.query<{ value: T }>('SELECT value FROM kv WHERE scope = $1 AND key = $2', [
      scope,
      key,
    ]);
    return res.rows[0]?.value;
  }

  /** Keeps the config envelope if it is newer than the one held (two instances: the newest wins). */
  async putNewerConfig(key: string, envelope: { version: number }): Promise<void> {
    await this.pool.query(
      `INSERT INTO kv (scope, key, value) VALUES ('config', $1, $2::jsonb)
       ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value
       WHERE (kv.value->>'version')::bigint < (excluded.value->>'version')::bigint`,
      [key, JSON.stringify(envelope)],
    );
  }

  /** The device's next downSeq and the order under it, in one statement each on its counter row. */
  async addOrder(tenant: string, device: string, order: { id: string }): Promise<number> {
    return this.tx('READ COMMITTED', async (c) => {
      const res = await c.query<{ last: number }>(
        `INSERT INTO order_seq (tenant, device, last) VALUES ($1, $2, 1)
         ON CONFLICT (tenant, device) DO UPDATE SET last = order_seq.last + 1 RETURNING last`,
        [tenant, device],
      );
      const downSeq = res.rows[0]!.last;
      await c.query(
        'INSERT INTO orders (tenant, device, down_seq, order_id, doc) VALUES ($1, $2, $3, $4, $5)',
        [tenant, device, downSeq, order.id, JSON.stringify(order)],
      );
      return downSeq;
    });
  }

  async ordersSince(
    tenant: string,
    device: string,
    since: number,
  ): Promise<Array<{ downSeq: number; order: unknown }>> {
    const res = await this.pool.query<{ down_seq: number; doc: unknown }>(
      'SELECT down_seq, doc FROM orders WHERE tenant = $1 AND device = $2 AND down_seq > $3 ORDER BY down_seq LIMIT 500',
      [tenant, device, since],
    );
    return res.rows.map((r) => ({ downSeq: r.down_seq, order: r.doc }));
  }

  /** The device's records as stored, each once (as `CloudStore.records`). */
  async records(
    tenant: string,
    device: string,
  ): Promise<Array<IncomingRecord & { epoch: string; status: string }>> {
    const res = await this.pool.query<
      Omit<IncomingRecord, 'body'> & { body: string; epoch: string; status: string }
    >(
      `SELECT epoch, seq, id, type, at, body, chain, status FROM records
       WHERE tenant = $1 AND device = $2 AND status <> 'duplicate' ORDER BY epoch, seq`,
      [tenant, device],
    );
    return res.rows.map((r) => ({ ...r, body: JSON.parse(r.body) as IncomingRecord['body'] }));
  }

  async facts(
    tenant: string,
    device: string,
  ): Promise<Array<IncomingRecord & { epoch: string; status: string }>> {
    return (await this.records(tenant, device)).filter((r) => r.status === 'ok');
  }

  async countRecords(): Promise<number> {
    const res = await this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM records');
    return res.rows[0]!.n;
  }
}
