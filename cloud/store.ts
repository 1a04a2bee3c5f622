import Database from 'better-sqlite3';
import type { LedgerRecord } from '../src/core/ledger-record.js';
import { createRootLogger } from '../src/log.js';
import { canonicalJson, chainOfCanonicalBody, GENESIS_CHAIN } from '../src/offline/chain.js';
import { Checkpointer, type CheckpointRun } from '../src/offline/checkpointer.js';
import { INVALID_RECORD } from './ledger-batch.js';

/**
 * A record as the device uplinks it (mqtt-v1 "Ledger uplink"). From `parseLedgerBatch`: `bodyText`,
 * the body's canonical text, and `fault` on a stand-in for one whose fields cannot be stored as
 * sent (stored as rejected).
 */
export type IncomingRecord = LedgerRecord & { bodyText?: string; fault?: string };

export interface IngestResult {
  ackedUpTo: number;
  rejected: Array<{ seq: number; code: string; message: string }>;
  stored: number;
  duplicates: number;
  /** Records of this batch now held as facts (new or seen before in this epoch), in seq order. */
  facts: IncomingRecord[];
}

/** A records row, in the insert's column order. */
type RowValues = [
  string,
  string,
  string,
  number,
  string,
  string,
  string,
  string,
  string,
  string,
  string | null,
  string | null,
];

/** Row changes between the thread's WAL checkpoints (2,000 records of a batch: about 1.3 MB of WAL). */
const CHECKPOINT_EVERY_CHANGES = 2_000;
/**
 * WAL pages past which a commit checkpoints itself, as SQLite does by default (1,000): the bound
 * on the WAL whatever the rows weigh (large config documents, one record per commit).
 */
const WAL_BACKSTOP_PAGES = 2_000;

/** 64 rows of 12 values: well under SQLite's 32,766 variables. */
const MAX_ROWS_PER_INSERT = 64;

/** Records by seq (a device sends them in order: then no copy). */
function inSeqOrder(records: readonly IncomingRecord[]): readonly IncomingRecord[] {
  for (let i = 1; i < records.length; i++)
    if (records[i]!.seq < records[i - 1]!.seq) return [...records].sort((a, b) => a.seq - b.seq);
  return records;
}

/** A stored ledger record as a row, in the SQLite and the PostgreSQL store alike (body as JSON text). */
export interface RecordRow {
  epoch: string;
  seq: number;
  id: string;
  type: string;
  at: string;
  body: string;
  chain: string;
  status: string;
}

/**
 * The reference cloud's store: records keyed on (tenant, device, epoch, seq), stored only in
 * contiguous order with the chain verified. Several cloud instances may share the file: each batch
 * is one IMMEDIATE transaction.
 */
export class CloudStore {
  readonly db: Database.Database;
  private readonly stmt;
  /** Built once: better-sqlite3's transaction() wrapper is costly to make per call (per record, for points). */
  private readonly runInTransaction;
  /** WAL checkpoints on a worker thread: a batch's commit never copies the WAL into the file. */
  private readonly checkpoints: Checkpointer;

  constructor(file: string) {
    this.db = new Database(file, { timeout: 10_000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.checkpoints = new Checkpointer({
      db: this.db,
      file,
      log: createRootLogger('warn'),
      everyChanges: CHECKPOINT_EVERY_CHANGES,
    });
    this.db.pragma(`wal_autocheckpoint = ${WAL_BACKSTOP_PAGES}`);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS records (
        tenant TEXT NOT NULL, device TEXT NOT NULL, epoch TEXT NOT NULL, seq INTEGER NOT NULL,
        id TEXT NOT NULL, type TEXT NOT NULL, at TEXT NOT NULL, body TEXT NOT NULL, chain TEXT NOT NULL,
        status TEXT NOT NULL, reject_code TEXT, reject_message TEXT
      ) STRICT;
      -- Rows append to the rowid tree; the small unique index is the idempotency key.
      CREATE UNIQUE INDEX IF NOT EXISTS records_key ON records (tenant, device, epoch, seq);
      -- A fact resent under a new epoch (a restored database) is found by its id.
      CREATE INDEX IF NOT EXISTS records_id ON records (tenant, device, id);
      CREATE INDEX IF NOT EXISTS records_rejected ON records (tenant, device, epoch, seq) WHERE status = 'rejected';
      CREATE TABLE IF NOT EXISTS heads (
        tenant TEXT NOT NULL, device TEXT NOT NULL, epoch TEXT NOT NULL,
        acked_up_to INTEGER NOT NULL, last_chain TEXT NOT NULL,
        PRIMARY KEY (tenant, device, epoch)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS kv (
        scope TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (scope, key)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS orders (
        tenant TEXT NOT NULL, device TEXT NOT NULL, down_seq INTEGER NOT NULL, order_id TEXT NOT NULL,
        doc TEXT NOT NULL, PRIMARY KEY (tenant, device, down_seq)
      ) STRICT, WITHOUT ROWID;
    `);
    this.runInTransaction = this.db.transaction((work: () => unknown) => work());
    this.stmt = {
      head: this.db.prepare<[string, string, string], { acked_up_to: number; last_chain: string }>(
        'SELECT acked_up_to, last_chain FROM heads WHERE tenant = ? AND device = ? AND epoch = ?',
      ),
      putHead: this.db.prepare<[string, string, string, number, string]>(
        `INSERT INTO heads (tenant, device, epoch, acked_up_to, last_chain) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (tenant, device, epoch) DO UPDATE SET acked_up_to = excluded.acked_up_to, last_chain = excluded.last_chain`,
      ),
      otherEpoch: this.db.prepare<[string, string, string], { one: number }>(
        'SELECT 1 AS one FROM heads WHERE tenant = ? AND device = ? AND epoch <> ? LIMIT 1',
      ),
      held: this.db.prepare<[string, string, string, number], { id: string; chain: string; status: string }>(
        'SELECT id, chain, status FROM records WHERE tenant = ? AND device = ? AND epoch = ? AND seq = ?',
      ),
      heldElsewhere: this.db.prepare<[string, string, string, string], { epoch: string; seq: number }>(
        "SELECT epoch, seq FROM records WHERE tenant = ? AND device = ? AND id = ? AND epoch <> ? AND status = 'ok' LIMIT 1",
      ),
      rejected: this.db.prepare<
        [string, string, string],
        { seq: number; reject_code: string; reject_message: string }
      >(
        "SELECT seq, reject_code, reject_message FROM records WHERE tenant = ? AND device = ? AND epoch = ? AND status = 'rejected' ORDER BY seq DESC LIMIT 1000",
      ),
      kvGet: this.db.prepare<[string, string], { value: string }>(
        'SELECT value FROM kv WHERE scope = ? AND key = ?',
      ),
      kvPut: this.db.prepare<[string, string, string]>(
        'INSERT INTO kv (scope, key, value) VALUES (?, ?, ?) ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value',
      ),
      kvAll: this.db.prepare<[string], { key: string; value: string }>(
        'SELECT key, value FROM kv WHERE scope = ?',
      ),
      nextDownSeq: this.db.prepare<[string, string], { n: number }>(
        'SELECT coalesce(max(down_seq), 0) + 1 AS n FROM orders WHERE tenant = ? AND device = ?',
      ),
      putOrder: this.db.prepare<[string, string, number, string, string]>(
        'INSERT INTO orders (tenant, device, down_seq, order_id, doc) VALUES (?, ?, ?, ?, ?)',
      ),
      ordersSince: this.db.prepare<[string, string, number], { down_seq: number; doc: string }>(
        'SELECT down_seq, doc FROM orders WHERE tenant = ? AND device = ? AND down_seq > ? ORDER BY down_seq LIMIT 500',
      ),
    };
  }

  /** The last WAL checkpoints the thread made (tests, benchmarks). */
  checkpointRuns(): readonly CheckpointRun[] {
    return this.checkpoints.runs;
  }

  close(): void {
    this.checkpoints.close();
    this.db.close();
  }

  /**
   * Stores a batch in seq order. A record already held with the same id and chain is a duplicate;
   * one held with another id or chain is a `SEQ_CONFLICT` (a restored database): never stored, and
   * the batch stops there. A gap stops the batch too (the device sends again from the ack). A bad
   * chain is stored as rejected. A fact whose id is held under another epoch of the device (resent
   * after a restore) is stored as `duplicate`, so it keeps the epoch contiguous but counts once.
   */
  ingest(tenant: string, device: string, epoch: string, records: readonly IncomingRecord[]): IngestResult {
    return this.exclusive(() => {
      const head = this.stmt.head.get(tenant, device, epoch) ?? {
        acked_up_to: 0,
        last_chain: GENESIS_CHAIN,
      };
      let acked = head.acked_up_to;
      let prev = head.last_chain;
      let stored = 0;
      let duplicates = 0;
      const facts: IncomingRecord[] = [];
      const conflicts: IngestResult['rejected'] = [];
      // Only a device with another epoch (a restored database) can resend a fact held elsewhere.
      const otherEpochs = this.stmt.otherEpoch.get(tenant, device, epoch) !== undefined;
      // Rows of this batch, written together: one statement per up to 64 rows, not one per row.
      const rows: RowValues[] = [];
      for (const r of inSeqOrder(records)) {
        if (r.seq <= acked) {
          this.insertRows(rows.splice(0)); // a seq repeated in the batch finds its first copy
          const held = this.stmt.held.get(tenant, device, epoch, r.seq);
          if (held && held.id === r.id && held.chain === r.chain) {
            duplicates += 1;
            if (held.status === 'ok') facts.push(r);
            continue;
          }
          conflicts.push({
            seq: r.seq,
            code: 'SEQ_CONFLICT',
            message: `seq ${r.seq} of epoch ${epoch} is held with another record`,
          });
          break;
        }
        if (r.seq !== acked + 1) break; // a gap: the device sends again from the ack
        // One canonical form serves the chain and the stored body (a device sends it canonical).
        const body = r.bodyText ?? canonicalJson(r.body);
        let status = 'ok';
        let code: string | null = null;
        let message: string | null = null;
        if (r.fault) {
          status = 'rejected';
          code = INVALID_RECORD;
          message = r.fault;
        } else if (chainOfCanonicalBody(prev, r.seq, r.id, r.type, r.at, body) !== r.chain) {
          status = 'rejected';
          code = 'CHAIN_BROKEN';
          message = `chain of seq ${r.seq} does not follow seq ${r.seq - 1}`;
        } else if (otherEpochs && this.stmt.heldElsewhere.get(tenant, device, r.id, epoch)) {
          status = 'duplicate';
        }
        rows.push([tenant, device, epoch, r.seq, r.id, r.type, r.at, body, r.chain, status, code, message]);
        acked = r.seq;
        prev = r.chain;
        stored += 1;
        if (status === 'ok') facts.push(r);
      }
      this.insertRows(rows);
      this.stmt.putHead.run(tenant, device, epoch, acked, prev);
      const rejected = this.stmt.rejected
        .all(tenant, device, epoch)
        .reverse()
        .map((x) => ({ seq: x.seq, code: x.reject_code, message: x.reject_message }));
      return { ackedUpTo: acked, rejected: [...rejected, ...conflicts], stored, duplicates, facts };
    });
  }

  /** Multi-row inserts by row count: 64, 32, … 1 (at most seven statements). */
  private readonly insertStatements = new Map<number, Database.Statement>();

  /** Writes rows with as few statements as their count allows. */
  private insertRows(rows: readonly RowValues[]): void {
    let at = 0;
    for (let size = MAX_ROWS_PER_INSERT; size >= 1; size >>= 1) {
      while (rows.length - at >= size) {
        let stmt = this.insertStatements.get(size);
        if (!stmt) {
          stmt = this.db.prepare(
            `INSERT OR IGNORE INTO records (tenant, device, epoch, seq, id, type, at, body, chain, status, reject_code, reject_message)
             VALUES ${Array.from({ length: size }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
          );
          this.insertStatements.set(size, stmt);
        }
        stmt.run(rows.slice(at, at + size).flat());
        at += size;
      }
    }
  }

  /** Each fact the device sent, once (a record resent under a later epoch is not repeated). */
  facts(tenant: string, device: string): Array<IncomingRecord & { epoch: string; status: string }> {
    return this.records(tenant, device).filter((r) => r.status === 'ok');
  }

  /**
   * The device's records as stored, each once: a fact it resent under a later epoch (stored there as
   * `duplicate` to keep that epoch contiguous) appears under the epoch that first held it.
   */
  records(tenant: string, device: string): Array<IncomingRecord & { epoch: string; status: string }> {
    return this.db
      .prepare<[string, string], RecordRow>(
        "SELECT epoch, seq, id, type, at, body, chain, status FROM records WHERE tenant = ? AND device = ? AND status <> 'duplicate' ORDER BY epoch, seq",
      )
      .all(tenant, device)
      .map((r) => ({ ...r, body: JSON.parse(r.body) as Record<string, unknown> }));
  }

  countRecords(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n;
  }

  kvGet<T>(scope: string, key: string): T | undefined {
    const row = this.stmt.kvGet.get(scope, key);
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  kvPut(scope: string, key: string, value: unknown): void {
    this.stmt.kvPut.run(scope, key, JSON.stringify(value));
    this.committed();
  }

  /** After a write outside `exclusive` (its own commit, or part of one): a checkpoint when due. */
  private committed(): void {
    if (!this.db.inTransaction) this.checkpoints.flushed();
  }

  /** Inside a transaction: `work` as a savepoint, rolled back alone if it throws. */
  savepoint<T>(work: () => T): T {
    return this.runInTransaction(work) as T;
  }

  /**
   * Runs `work` as one IMMEDIATE transaction (instances sharing the file take turns); inside a
   * transaction already, as part of it.
   */
  exclusive<T>(work: () => T): T {
    // Inside one already (a group of ledger batches, each its own savepoint): part of it.
    if (this.db.inTransaction) return work();
    const result = this.runInTransaction.immediate(work) as T;
    this.checkpoints.flushed();
    return result;
  }

  kvDelete(scope: string, key: string): void {
    this.db.prepare<[string, string]>('DELETE FROM kv WHERE scope = ? AND key = ?').run(scope, key);
    this.committed();
  }

  kvAll<T>(scope: string): Array<{ key: string; value: T }> {
    return this.stmt.kvAll.all(scope).map((r) => ({ key: r.key, value: JSON.parse(r.value) as T }));
  }

  addOrder(tenant: string, device: string, order: { id: string }): number {
    const downSeq = this.db
      .transaction(() => {
        const n = this.stmt.nextDownSeq.get(tenant, device)!.n;
        this.stmt.putOrder.run(tenant, device, n, order.id, JSON.stringify(order));
        return n;
      })
      .immediate();
    this.committed();
    return downSeq;
  }

  /** At-counter orders of the tenant with this pickup code, newest first (any device). */
  atCounterOrders(tenant: string, pickupCode: string): Array<{ device: string; order: { id: string } }> {
    return this.db
      .prepare<[string, string], { device: string; doc: string }>(
        `SELECT device, doc FROM orders WHERE tenant = ? AND json_extract(doc, '$.payment') = 'at-counter'
         AND json_extract(doc, '$.pickupCode') = ? ORDER BY down_seq DESC`,
      )
      .all(tenant, pickupCode)
      .map((r) => ({ device: r.device, order: JSON.parse(r.doc) as { id: string } }));
  }

  /** The tenant's at-counter order with this id (our reading: `orders.lookup` may name it). */
  atCounterOrder(tenant: string, orderId: string): { device: string; order: { id: string } } | undefined {
    const r = this.db
      .prepare<[string, string], { device: string; doc: string }>(
        `SELECT device, doc FROM orders WHERE tenant = ? AND json_extract(doc, '$.payment') = 'at-counter'
         AND json_extract(doc, '$.id') = ? ORDER BY down_seq DESC LIMIT 1`,
      )
      .get(tenant, orderId);
    return r ? { device: r.device, order: JSON.parse(r.doc) as { id: string } } : undefined;
  }

  ordersSince(tenant: string, device: string, since: number): Array<{ downSeq: number; order: unknown }> {
    return this.stmt.ordersSince
      .all(tenant, device, since)
      .map((r) => ({ downSeq: r.down_seq, order: JSON.parse(r.doc) }));
  }
}
