import { v7 as uuidv7 } from 'uuid';
import type { LedgerRecord, OutboxSource, RecordReject } from '../core/ledger-record.js';
import { canonicalJson, chainOf, chainOfCanonicalBody, GENESIS_CHAIN } from './chain.js';
import type { Db } from './db.js';
import { storageError } from './storage-errors.js';

export type SyncState = 'pending' | 'sent' | 'synced' | 'rejected';

export interface LocalLedgerRecord extends LedgerRecord {
  sync: SyncState;
  syncError?: { code: string; message: string };
}

interface Row {
  seq: number;
  id: string;
  type: string;
  at: string;
  body: string;
  chain: string;
  sync: SyncState;
  sync_code: string | null;
  sync_message: string | null;
}

interface Head {
  acked_up_to: number;
  pruned_up_to: number;
  pruned_chain: string;
}

export interface LedgerOptions {
  db: Db;
  /** Where the database lives, to tell a full disk from a read-only one. */
  dir: string;
  now?: () => Date;
  newId?: () => string;
}

/**
 * The append-only, hash-chained ledger and its outbox state. Facts are appended inside
 * `transact`, in the same SQLite transaction as the state they describe.
 */
export class Ledger implements OutboxSource {
  readonly epoch: string;
  private readonly db: Db;
  private readonly dir: string;
  private readonly now: () => Date;
  private readonly newId: () => string;
  private readonly appendListeners = new Set<(lastSeq: number) => void>();
  /** Per record type: work that must commit with the record (a receipt's print job). */
  private readonly recordHooks = new Map<string, Array<(record: LedgerRecord) => void>>();
  /** The last seq and chain; only this process writes the ledger (the state dir lock). */
  private tipCache: { seq: number; chain: string } | undefined;
  /** Built once: better-sqlite3's transaction() wrapper is costly to create per call. */
  private readonly runInTransaction;
  private readonly stmt;

  constructor({ db, dir, now = () => new Date(), newId = uuidv7 }: LedgerOptions) {
    this.db = db;
    this.dir = dir;
    this.now = now;
    this.newId = newId;
    this.epoch = this.ensureEpoch();
    this.runInTransaction = db.transaction((work: () => unknown) => work());
    this.stmt = {
      head: db.prepare<[], Head>(
        'SELECT acked_up_to, pruned_up_to, pruned_chain FROM ledger_head WHERE one = 1',
      ),
      last: db.prepare<[], { seq: number; chain: string }>(
        'SELECT seq, chain FROM ledger ORDER BY seq DESC LIMIT 1',
      ),
      insert: db.prepare<[number, string, string, string, string, string]>(
        'INSERT INTO ledger (seq, id, type, at, body, chain) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      after: db.prepare<[number, number], Row>('SELECT * FROM ledger WHERE seq > ? ORDER BY seq LIMIT ?'),
      bySeq: db.prepare<[number], Row>('SELECT * FROM ledger WHERE seq = ?'),
      markSent: db.prepare<[number, number]>(
        "UPDATE ledger SET sync = 'sent' WHERE seq BETWEEN ? AND ? AND sync = 'pending'",
      ),
      markSynced: db.prepare<[string, number, number]>(
        "UPDATE ledger SET sync = 'synced', synced_at = ? WHERE seq > ? AND seq <= ? AND sync IN ('pending', 'sent')",
      ),
      markRejected: db.prepare<[string, string, string, number]>(
        "UPDATE ledger SET sync = 'rejected', sync_code = ?, sync_message = ?, synced_at = ? WHERE seq = ?",
      ),
      setAcked: db.prepare<[number]>(
        'UPDATE ledger_head SET acked_up_to = max(acked_up_to, ?) WHERE one = 1',
      ),
      unsynced: db.prepare<[number], { n: number; oldest: string | null }>(
        "SELECT count(*) AS n, min(at) AS oldest FROM ledger WHERE seq > ? AND sync IN ('pending', 'sent')",
      ),
      unsyncedSales: db.prepare<[number], { total: number; n: number }>(
        "SELECT coalesce(sum(json_extract(body, '$.total')), 0) AS total, count(*) AS n FROM ledger WHERE seq > ? AND type = 'sale.completed' AND sync IN ('pending', 'sent')",
      ),
      rejectedCount: db.prepare<[], { n: number }>(
        "SELECT count(*) AS n FROM ledger WHERE sync = 'rejected'",
      ),
      rejected: db.prepare<[], Row>("SELECT * FROM ledger WHERE sync = 'rejected' ORDER BY seq"),
    };
  }

  private ensureEpoch(): string {
    return this.db
      .transaction(() => {
        const row = this.db
          .prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'epoch'")
          .get();
        if (row) return row.value;
        const epoch = this.newId();
        this.db.prepare("INSERT INTO meta (key, value) VALUES ('epoch', ?)").run(epoch);
        this.db
          .prepare("INSERT INTO meta (key, value) VALUES ('created_at', ?)")
          .run(this.now().toISOString());
        this.db.prepare('INSERT INTO ledger_head (one, pruned_chain) VALUES (1, ?)').run(GENESIS_CHAIN);
        return epoch;
      })
      .immediate();
  }

  /**
   * Runs `work` as one IMMEDIATE transaction; append listeners hear of new records only after the
   * commit is durable. Storage failures come out as STORAGE_* errors with nothing written.
   */
  transact<T>(work: () => T): T {
    const before = this.lastSeq();
    let result: T;
    try {
      result = this.runInTransaction.immediate(work) as T;
    } catch (err) {
      this.tipCache = undefined; // the rolled-back appends moved it
      throw storageError(err, this.dir);
    }
    const after = this.lastSeq();
    if (after !== before) for (const listener of this.appendListeners) listener(after);
    return result;
  }

  /** Appends one fact; must run inside `transact`. */
  append(type: string, body: Record<string, unknown>): LedgerRecord {
    if (!this.db.inTransaction) throw new Error('Ledger.append must run inside Ledger.transact');
    const prev = this.tip();
    const seq = prev.seq + 1;
    const id = this.newId();
    const at = this.now().toISOString();
    // Stored as its canonical JSON: one serialisation serves storage and the chain.
    const bodyText = canonicalJson(body);
    const chain = chainOfCanonicalBody(prev.chain, seq, id, type, at, bodyText);
    this.stmt.insert.run(seq, id, type, at, bodyText, chain);
    this.tipCache = { seq, chain };
    const record = { seq, id, type, at, body, chain };
    const hooks = this.recordHooks.get(type);
    if (hooks) for (const hook of hooks) hook(record);
    return record;
  }

  /** The last record, or the pruned head when pruning emptied the table. */
  private tip(): { seq: number; chain: string } {
    if (this.tipCache) return this.tipCache;
    const last = this.stmt.last.get();
    if (last) {
      this.tipCache = last;
      return last;
    }
    const head = this.stmt.head.get()!;
    return { seq: head.pruned_up_to, chain: head.pruned_chain };
  }

  /** When this database (and its epoch) was created. */
  createdAt(): Date {
    const row = this.db
      .prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'created_at'")
      .get();
    return new Date(row?.value ?? 0);
  }

  /** Sum of sale totals the cloud has not acknowledged yet (the offline exposure). */
  unsyncedSalesTotal(): number {
    return this.unsyncedSales().amount;
  }

  unsyncedSales(): { amount: number; count: number } {
    const head = this.stmt.head.get()!;
    const row = this.stmt.unsyncedSales.get(head.acked_up_to)!;
    return { amount: row.total, count: row.n };
  }

  lastSeq(): number {
    return this.tip().seq;
  }

  ackedUpTo(): number {
    return this.stmt.head.get()!.acked_up_to;
  }

  /** The newest record of `type` whose body has `field` = `value` (a scan: rare lookups, e.g. reprints). */
  findLatest(type: string, field: string, value: string): LedgerRecord | undefined {
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(field)) throw new Error(`bad body field ${field}`);
    const row = this.db
      .prepare<[string, string], Row>(
        `SELECT * FROM ledger WHERE type = ? AND json_extract(body, '$.${field}') = ? ORDER BY seq DESC LIMIT 1`,
      )
      .get(type, value);
    return row ? toRecord(row) : undefined;
  }

  recordsAfter(afterSeq: number, limit: number): LedgerRecord[] {
    return this.stmt.after.all(afterSeq, limit).map(toRecord);
  }

  /** Records as uplink JSON, built from the stored canonical body text without parsing it. */
  recordsJsonAfter(afterSeq: number, limit: number): Array<{ seq: number; json: string }> {
    return this.stmt.after.all(afterSeq, limit).map((r) => ({
      seq: r.seq,
      json: `{"seq":${r.seq},"id":${JSON.stringify(r.id)},"type":${JSON.stringify(r.type)},"at":${JSON.stringify(r.at)},"body":${r.body},"chain":${JSON.stringify(r.chain)}}`,
    }));
  }

  /** For the local API and the technician: records with their sync state. */
  page(afterSeq: number, limit: number): LocalLedgerRecord[] {
    return this.stmt.after.all(afterSeq, limit).map(toLocalRecord);
  }

  get(seq: number): LocalLedgerRecord | undefined {
    const row = this.stmt.bySeq.get(seq);
    return row ? toLocalRecord(row) : undefined;
  }

  rejected(): LocalLedgerRecord[] {
    return this.stmt.rejected.all().map(toLocalRecord);
  }

  markSent(fromSeq: number, toSeq: number): void {
    this.transact(() => this.stmt.markSent.run(fromSeq, toSeq));
  }

  applyAck(upTo: number, rejected: readonly RecordReject[]): void {
    const at = this.now().toISOString();
    const last = this.lastSeq();
    const bounded = Math.min(upTo, last);
    const previous = this.ackedUpTo();
    if (bounded <= previous) return;
    this.transact(() => {
      // The cloud's reject list is cumulative: those at or below the previous ack are applied already.
      for (const r of rejected) {
        if (r.seq > previous && r.seq <= bounded) this.stmt.markRejected.run(r.code, r.message, at, r.seq);
      }
      this.stmt.markSynced.run(at, previous, bounded);
      this.stmt.setAcked.run(bounded);
    });
  }

  /** Runs `hook` inside the transaction of every record of `type`, after the record is written. */
  onRecordInTransaction(type: string, hook: (record: LedgerRecord) => void): void {
    const hooks = this.recordHooks.get(type) ?? [];
    hooks.push(hook);
    this.recordHooks.set(type, hooks);
  }

  onAppend(listener: (lastSeq: number) => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  /** Outbox figures for P/up/state, doctor and the UI badge. */
  figures(): {
    lastSeq: number;
    ackedUpTo: number;
    outboxDepth: number;
    rejected: number;
    oldestUnsyncedAt?: string;
  } {
    const head = this.stmt.head.get()!;
    // Everything at or below the ack is synced or rejected, so the scan starts there.
    const unsynced = this.stmt.unsynced.get(head.acked_up_to)!;
    const out: ReturnType<Ledger['figures']> = {
      lastSeq: this.lastSeq(),
      ackedUpTo: head.acked_up_to,
      outboxDepth: unsynced.n,
      rejected: this.stmt.rejectedCount.get()!.n,
    };
    if (unsynced.oldest) out.oldestUnsyncedAt = unsynced.oldest;
    return out;
  }

  /**
   * Deletes synced records older than the cutoff, only as a prefix of the ledger: it stops at the
   * first record that is unsynced or rejected, so those are never deleted.
   */
  prune(olderThan: Date): number {
    return this.transact(() => {
      const cutoff = olderThan.toISOString();
      const firstKept = this.db
        .prepare<[string], { seq: number | null }>(
          "SELECT min(seq) AS seq FROM ledger WHERE sync <> 'synced' OR at >= ?",
        )
        .get(cutoff)!.seq;
      const limit = firstKept === null ? this.lastSeq() : firstKept - 1;
      const lastPruned = this.db
        .prepare<[number], { chain: string }>('SELECT chain FROM ledger WHERE seq = ?')
        .get(limit);
      const { changes } = this.db.prepare('DELETE FROM ledger WHERE seq <= ?').run(limit);
      if (changes > 0 && lastPruned) {
        this.db
          .prepare('UPDATE ledger_head SET pruned_up_to = ?, pruned_chain = ? WHERE one = 1')
          .run(limit, lastPruned.chain);
      }
      return changes;
    });
  }

  /** The chain as stored, from the first kept record; returns the first bad seq, or undefined. */
  verify(): number | undefined {
    const head = this.stmt.head.get()!;
    let prev = head.pruned_chain;
    let expectSeq = head.pruned_up_to + 1;
    for (const row of this.db.prepare<[], Row>('SELECT * FROM ledger ORDER BY seq').iterate()) {
      if (row.seq !== expectSeq) return expectSeq;
      if (chainOf(prev, toRecord(row)) !== row.chain) return row.seq;
      prev = row.chain;
      expectSeq += 1;
    }
    return undefined;
  }
}

function toRecord(row: Row): LedgerRecord {
  return {
    seq: row.seq,
    id: row.id,
    type: row.type,
    at: row.at,
    body: JSON.parse(row.body) as Record<string, unknown>,
    chain: row.chain,
  };
}

function toLocalRecord(row: Row): LocalLedgerRecord {
  const record: LocalLedgerRecord = { ...toRecord(row), sync: row.sync };
  if (row.sync === 'rejected')
    record.syncError = { code: row.sync_code ?? 'REJECTED', message: row.sync_message ?? '' };
  return record;
}
