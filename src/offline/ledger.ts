import { v7 as uuidv7 } from 'uuid';
import type { LedgerRecord, RecordReject } from '../core/ledger-record.js';
import { isPosError, PosError } from '../errors.js';
import { canonicalJson, chainOfCanonicalBody, GENESIS_CHAIN } from './chain.js';
import type { Db } from './db.js';
import type { GroupCommit } from './group-commit.js';
import { currentEpoch, type EpochRow, insertEpoch, receiptSeriesOf } from './ledger-epochs.js';
import {
  findByBodyField,
  type LocalLedgerRecord,
  pruneRows,
  toLocalRecord,
  toRecord,
  verifyRows,
  type WireOutbox,
  wireOutbox,
} from './ledger-rows.js';
import { ledgerStatements } from './ledger-statements.js';
import { OutboxSummary, type Unsynced } from './outbox-summary.js';
import { RidersEndedTransaction, type RidingWrite, RidingWrites } from './riding-writes.js';
import { storageError } from './storage-errors.js';

export type { LocalLedgerRecord, SyncState, WireOutbox } from './ledger-rows.js';

const NO_RIDERS: readonly RidingWrite[] = [];

export interface LedgerOptions {
  db: Db;
  /** Where the database lives, to tell a full disk from a read-only one. */
  dir: string;
  now?: () => Date;
  newId?: () => string;
  /**
   * The daemon's group commit (decision 0005): append listeners hear of records, and the uplink
   * may read them, only once a flush has put them on disk. Without it every commit is durable.
   */
  groupCommit?: GroupCommit;
}

/** How long a write nobody waits for waits to ride in another transaction (decision 0005). */
export const RIDE_WITHIN_MS = 20;

/**
 * The append-only, hash-chained ledger and its outbox state. Facts are appended inside
 * `transact`, in the same SQLite transaction as the state they describe.
 *
 * A record's `seq` here is its row in the file, which runs on across epochs; on the wire (the
 * outbox methods: `lastSeq`, `ackedUpTo`, `applyAck`, `markSent`, `recordsJsonAfter`) seq counts
 * from 1 in the current epoch. They are equal until the file moves to a new epoch after a restore
 * (`moveToNewEpoch`); `outbox` is the wire view the uplink uses.
 */
export class Ledger {
  /** The current epoch: the wire seq of a row is its seq minus `base`. */
  private cur: EpochRow;
  private readonly db: Db;
  private readonly dir: string;
  private readonly now: () => Date;
  private readonly newId: () => string;
  private readonly appendListeners = new Set<(lastSeq: number) => void>();
  private readonly syncedListeners = new Set<() => void>();
  /** Per record type: work that must commit with the record (a receipt's print job). */
  private readonly recordHooks = new Map<string, Array<(record: LedgerRecord) => void>>();
  /** The last seq and chain; only this process writes the ledger (the state dir lock). */
  private tipCache: { seq: number; chain: string } | undefined;
  /** Built once: better-sqlite3's transaction() wrapper is costly to create per call. */
  private readonly runInTransaction;
  private readonly stmt;
  private readonly summary: OutboxSummary;
  private readonly groupCommit: GroupCommit | undefined;
  /** Under a group commit: the last row seq a flush has put on disk (what the uplink may send). */
  private durableTip: number | undefined;
  /** Under a group commit: writes nobody waits for, riding in the next transaction. */
  private readonly riding: RidingWrites | undefined;

  constructor({ db, dir, now = () => new Date(), newId = uuidv7, groupCommit }: LedgerOptions) {
    this.db = db;
    this.dir = dir;
    this.now = now;
    this.newId = newId;
    this.cur = this.ensureEpoch();
    this.groupCommit = groupCommit;
    this.runInTransaction = db.transaction((work: () => unknown) => work());
    this.stmt = ledgerStatements(db);
    this.summary = new OutboxSummary(db);
    if (groupCommit) {
      // Nothing is sendable until a first flush: rows a killed process left unflushed included.
      this.durableTip = 0;
      groupCommit.onFlush(() => {
        const tip = this.tip().seq;
        return () => {
          if (tip === this.durableTip) return;
          this.durableTip = tip;
          for (const listener of this.appendListeners) listener(this.lastSeq());
        };
      });
      groupCommit.durable().catch(() => {});
      this.riding = new RidingWrites({
        commitAlone: () => this.transact(() => {}),
        withinMs: RIDE_WITHIN_MS,
        log: groupCommit.log,
      });
    }
  }

  private ensureEpoch(): EpochRow {
    return this.db
      .transaction(() => {
        const existing = currentEpoch(this.db);
        if (existing) return existing;
        const epoch = this.newId();
        const at = this.now().toISOString();
        this.db.prepare("INSERT INTO meta (key, value) VALUES ('epoch', ?)").run(epoch);
        this.db.prepare("INSERT INTO meta (key, value) VALUES ('created_at', ?)").run(at);
        this.db.prepare('INSERT INTO ledger_head (one, pruned_chain) VALUES (1, ?)').run(GENESIS_CHAIN);
        insertEpoch(this.db, { epoch, base: 0, startedAt: at, reason: 'created' });
        return currentEpoch(this.db)!;
      })
      .immediate();
  }

  /** The epoch records are sent under now. */
  get epoch(): string {
    return this.cur.epoch;
  }

  /** The uplink's view of this ledger: seqs of the current epoch. */
  get outbox(): WireOutbox {
    return wireOutbox(this);
  }

  /**
   * Runs `work` as one IMMEDIATE transaction; append listeners hear of new records only after the
   * commit is durable (under a group commit: after the flush that covers it). Storage failures
   * come out as STORAGE_* errors with nothing written.
   */
  transact<T>(work: () => T): T {
    const riders = this.riding && !this.db.inTransaction ? this.riding.take() : NO_RIDERS;
    try {
      return this.commit(riders, work);
    } catch (err) {
      if (!(err instanceof RidersEndedTransaction)) throw err;
      this.riding!.ended(riders, err.culprit); // it waits apart; the host runs now, without them
      return this.commit(NO_RIDERS, work);
    }
  }

  private commit<T>(riders: readonly RidingWrite[], work: () => T): T {
    let before = 0;
    let failedRiders = NO_RIDERS;
    let result: T;
    try {
      before = this.tip().seq; // may read the file (after a rollback): inside, so riders are kept
      result = this.runInTransaction.immediate(() => {
        if (riders.length > 0) failedRiders = this.runRiders(riders);
        const out = work();
        // A fault that ended SQLite's transaction was swallowed in `work`: fail it (what ran after
        // it autocommitted and stays; each catch inside a transaction must rethrow such a fault).
        if (!this.db.inTransaction)
          throw new PosError('STORAGE_FAILED', 'the transaction ended under a write');
        return out;
      }) as T;
    } catch (err) {
      this.afterRollback();
      if (err instanceof RidersEndedTransaction) throw err;
      const failure = storageError(err, this.dir);
      // Riders do not ride again into a disk that refused the transaction they were in.
      if (isPosError(failure) && failure.code.startsWith('STORAGE_')) this.riding?.setAside(riders);
      else this.riding?.putBack(riders);
      throw failure;
    }
    if (riders.length > 0) this.riding!.settled(riders, failedRiders);
    if (this.groupCommit) {
      this.groupCommit.committed();
      return result;
    }
    const after = this.tip().seq;
    if (after !== before) for (const listener of this.appendListeners) listener(this.lastSeq());
    return result;
  }

  /**
   * A write nobody waits for (a receipt marked printed): under a group commit it rides in the next
   * transaction, or commits alone within RIDE_WITHIN_MS; `committed` runs once it is (decision 0005).
   */
  ride(write: () => void, committed?: () => void): void {
    if (!this.riding) {
      this.transact(write);
      committed?.();
      return;
    }
    this.riding.add({ write, ...(committed ? { committed } : {}) });
  }

  /** Commits the writes still waiting to ride, and takes no more lazily (the daemon stops). */
  settleRiders(): void {
    this.riding?.settle();
  }

  /** Each rider in a savepoint of its own: one that fails leaves the chain's cached tip unknown. */
  private runRiders(riders: readonly RidingWrite[]): readonly RidingWrite[] {
    const savepoint = (write: () => void) => this.runInTransaction(write);
    return this.riding!.runInside(
      riders,
      savepoint,
      () => this.db.inTransaction,
      () => this.afterRollback(),
    );
  }

  /** What a rollback (of a transaction or a savepoint) may have moved: read again. */
  private afterRollback(): void {
    this.tipCache = undefined; // rolled-back appends moved it
    try {
      this.cur = currentEpoch(this.db) ?? this.cur; // and a rolled-back move
      this.summary.rolledBackTo(this.tip().seq);
    } catch {
      this.summary.forget(); // the file cannot be read now: count again from scratch later
    }
  }

  /**
   * Resolves once every commit made so far is on disk: what a reply, a request to the cloud or
   * a receipt on paper that speaks of them waits for. At once without a group commit.
   */
  durable(): Promise<void> {
    return this.groupCommit ? this.groupCommit.durable() : Promise.resolve();
  }

  /** As `durable()`, riding with the next flush a reply starts (at the latest `withinMs` from now). */
  durableSoon(withinMs: number): Promise<void> {
    return this.groupCommit ? this.groupCommit.durableSoon(withinMs) : Promise.resolve();
  }

  /** False once a storage fault ended the transaction a hook runs in (SQLite rolled it all back). */
  get inTransaction(): boolean {
    return this.db.inTransaction;
  }

  /** True under a group commit: commits become durable later, by `durable()`. */
  get groupsCommits(): boolean {
    return this.groupCommit !== undefined;
  }

  /** Appends one fact; must run inside `transact`. */
  append(type: string, body: Record<string, unknown>): LedgerRecord {
    if (!this.db.inTransaction) throw new Error('Ledger.append must run inside Ledger.transact');
    const id = this.newId();
    const at = this.now().toISOString();
    // Stored as its canonical JSON: one serialisation serves storage and the chain.
    const { seq, chain } = this.insertChained(id, type, at, canonicalJson(body));
    const record = { seq, id, type, at, body, chain };
    const hooks = this.recordHooks.get(type);
    if (hooks) for (const hook of hooks) hook(record);
    return record;
  }

  /** Writes the next row, chained under the current epoch's seq. */
  private insertChained(
    id: string,
    type: string,
    at: string,
    bodyText: string,
  ): { seq: number; chain: string } {
    const prev = this.tip();
    const seq = prev.seq + 1;
    const chain = chainOfCanonicalBody(prev.chain, seq - this.cur.base, id, type, at, bodyText);
    this.stmt.insert.run(seq, id, type, at, bodyText, chain);
    this.tipCache = { seq, chain };
    return { seq, chain };
  }

  /** The last row, or the pruned head when pruning emptied the table; an epoch starts at genesis. */
  private tip(): { seq: number; chain: string } {
    if (this.tipCache) return this.tipCache;
    const head = this.stmt.head.get()!;
    const last = this.stmt.last.get() ?? { seq: head.pruned_up_to, chain: head.pruned_chain };
    const tip = last.seq <= this.cur.base ? { seq: this.cur.base, chain: GENESIS_CHAIN } : last;
    this.tipCache = tip;
    return tip;
  }

  /**
   * mqtt-v1 "Restored database": this file is a restored copy. Starts a new epoch now: every
   * record after `storedUpTo` (wire seq: what the cloud holds) is appended again under it with
   * the same id, type, time and body, re-chained from seq 1; the original row stays, marked
   * `moved_to` its copy. Receipt numbers take the new epoch's series from now on.
   */
  moveToNewEpoch(storedUpTo: number, reason: string): { epoch: string; resent: number } {
    return this.transact(() => {
      const previous = this.cur;
      const from = previous.base + Math.max(0, Math.min(storedUpTo, this.lastSeq())) + 1;
      const moving = this.stmt.after.all(from - 1, Number.MAX_SAFE_INTEGER);
      const epoch = this.newId();
      const base = this.tip().seq;
      insertEpoch(this.db, {
        epoch,
        base,
        startedAt: this.now().toISOString(),
        reason,
        previous: previous.epoch,
        resentFrom: from,
        receiptSeries: receiptSeriesOf(epoch),
      });
      this.cur = currentEpoch(this.db)!;
      this.tipCache = { seq: base, chain: GENESIS_CHAIN };
      this.summary.forget();
      // Everything up to the new base is settled: synced, rejected, or moved to a copy.
      this.stmt.resetAcked.run(base, base);
      for (const row of moving) {
        const copy = this.insertChained(row.id, row.type, row.at, row.body);
        this.stmt.markMoved.run(copy.seq, row.seq);
      }
      return { epoch, resent: moving.length };
    });
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
    const u = this.unsynced(this.stmt.head.get()!.acked_up_to);
    return { amount: u.salesTotal, count: u.sales };
  }

  /** Unsynced records above the ack (a row seq), kept by the summary up to the tip. */
  private unsynced(ack: number): Unsynced {
    return this.summary.read(ack, this.tip().seq);
  }

  /** The last seq of the current epoch (wire). */
  lastSeq(): number {
    return this.tip().seq - this.cur.base;
  }

  /** The highest seq of the current epoch the cloud acknowledged (wire). */
  ackedUpTo(): number {
    return Math.max(0, this.stmt.head.get()!.acked_up_to - this.cur.base);
  }

  /** The newest record of `type` whose body has `field` = `value` (a scan: rare lookups, e.g. reprints). */
  findLatest(type: string, field: string, value: string): LedgerRecord | undefined {
    return findByBodyField(this.db, type, field, value, 'latest')[0];
  }

  /** Every record of `type` whose body has `field` = `value`, oldest first (a scan: rare lookups). */
  findAll(type: string, field: string, value: string): LedgerRecord[] {
    return findByBodyField(this.db, type, field, value, 'all');
  }

  /** Facts after row `afterSeq`, each once (a record moved to a later epoch is read as its copy). */
  recordsAfter(afterSeq: number, limit: number): LedgerRecord[] {
    return this.stmt.factsAfter.all(afterSeq, limit).map((r) => toRecord(r));
  }

  /** The row that holds now the fact first written at row `seq` (a move re-appends it); none once pruned. */
  factRow(seq: number): number | undefined {
    let row = this.stmt.bySeq.get(seq);
    while (row && row.moved_to !== null) row = this.stmt.bySeq.get(row.moved_to);
    return row?.seq;
  }

  /** Records of the current epoch after wire seq `afterSeq`, as uplink JSON (no body parse). */
  recordsJsonAfter(afterSeq: number, limit: number): Array<{ seq: number; json: string }> {
    const base = this.cur.base;
    // Under a group commit only flushed records go out: a seq the cloud holds is never reused.
    const upTo = this.durableTip ?? Number.MAX_SAFE_INTEGER;
    return this.stmt.afterJson
      .all(base, afterSeq + base, upTo, limit)
      .map(([seq, json]) => ({ seq: seq - base, json }));
  }

  /** For the local API and the technician: facts (each once) with their sync state, by row. */
  page(afterSeq: number, limit: number): LocalLedgerRecord[] {
    const head = this.stmt.head.get()!;
    return this.stmt.factsAfter.all(afterSeq, limit).map((r) => toLocalRecord(r, head));
  }

  get(seq: number): LocalLedgerRecord | undefined {
    const row = this.stmt.bySeq.get(seq);
    return row ? toLocalRecord(row, this.stmt.head.get()!) : undefined;
  }

  rejected(): LocalLedgerRecord[] {
    const head = this.stmt.head.get()!;
    return this.stmt.rejected.all().map((r) => toLocalRecord(r, head));
  }

  /** Wire seqs of the current epoch up to `toSeq` were PUBACKed (informational; a watermark). */
  markSent(_fromSeq: number, toSeq: number): void {
    const base = this.cur.base;
    this.transact(() => this.stmt.markSent.run(Math.min(toSeq, this.lastSeq()) + base));
  }

  /**
   * A cloud ack of the current epoch (wire seqs). With `sentUpTo` (the uplink's: what it had
   * PUBACKed in this process) it marks synced only records this database has put on the wire: a
   * restored copy's own records are never synced by an ack that speaks of the lost database's.
   */
  applyAck(upTo: number, rejected: readonly RecordReject[], sentUpTo?: number): void {
    const at = this.now().toISOString();
    const base = this.cur.base;
    const last = this.lastSeq();
    const previous = this.ackedUpTo();
    let bounded = Math.min(upTo, last);
    if (sentUpTo !== undefined) {
      // What earlier processes had PUBACKed (the sent watermark) was on the wire too.
      const sentBefore = Math.max(previous, this.stmt.head.get()!.sent_up_to - base);
      bounded = Math.min(bounded, Math.max(sentUpTo, sentBefore));
    }
    if (bounded <= previous) return;
    this.transact(() => {
      // The cloud's reject list is cumulative: those at or below the previous ack are applied already.
      for (const r of rejected) {
        if (r.seq > previous && r.seq <= bounded)
          this.stmt.markRejected.run(r.code, r.message, at, r.seq + base);
      }
      // Synced is the watermark: one row written, whatever the number of records acked.
      this.stmt.setAcked.run(bounded + base);
    });
    for (const listener of this.syncedListeners) listener();
  }

  /** Called after an ack marked records synced (the UI's unsynced badge follows it). */
  onSynced(listener: () => void): () => void {
    this.syncedListeners.add(listener);
    return () => this.syncedListeners.delete(listener);
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
    // Everything at or below the ack is synced or rejected.
    const ack = this.stmt.head.get()!.acked_up_to;
    const unsynced = this.unsynced(ack);
    const out: ReturnType<Ledger['figures']> = {
      lastSeq: this.lastSeq(),
      ackedUpTo: this.ackedUpTo(),
      outboxDepth: unsynced.records,
      rejected: this.stmt.rejectedCount.get()!.n,
    };
    const oldest = unsynced.records > 0 ? this.summary.oldestAt(ack) : undefined;
    if (oldest) out.oldestUnsyncedAt = oldest;
    return out;
  }

  /**
   * Deletes synced records older than the cutoff, only as a prefix of the ledger: it stops at the
   * first record that is unsynced or rejected, so those are never deleted (a record moved to a
   * later epoch may go: its copy is the one that waits for the cloud).
   */
  prune(olderThan: Date): number {
    return this.transact(() => {
      const acked = this.stmt.head.get()!.acked_up_to;
      const changes = pruneRows(this.db, acked, olderThan.toISOString(), this.tip().seq);
      this.tipCache = undefined;
      if (changes > 0) this.summary.forget();
      return changes;
    });
  }

  /**
   * The chain as stored, from the first kept record, each row under its epoch's seq (an epoch
   * starts again at genesis); returns the first bad row seq, or undefined.
   */
  verify(): number | undefined {
    return verifyRows(this.db, this.stmt.head.get()!);
  }
}
