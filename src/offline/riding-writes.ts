import type { Logger } from '../log.js';

/** A write nobody waits for, and what to do once it is committed. */
export interface RidingWrite {
  write: () => void;
  committed?: () => void;
}

export interface RidingWritesOptions {
  /** Commits the writes given in a transaction of their own (when no other comes in time). */
  commitAlone: () => void;
  /** How long a write waits for another transaction to ride in. */
  withinMs: number;
  log: Logger;
  now?: () => number;
}

/**
 * A riding write met a storage fault (disk full, I/O error), which ends SQLite's whole
 * transaction, not only the write's savepoint: nothing of the host has run yet (riding writes go
 * first), so the host runs again without them.
 */
export class RidersEndedTransaction extends Error {
  constructor(
    readonly fault: unknown,
    readonly culprit: RidingWrite,
  ) {
    super('a riding write ended the transaction');
  }
}

/** The longest a failed write waits before it is tried again. */
const MAX_RETRY_MS = 5_000;
/** At stop, how many more commits the writes taken with one that ends the transaction get. */
const SETTLE_ROUNDS = 8;

/**
 * Writes nobody waits for (a receipt marked printed) ride in the next transaction somebody makes
 * (decision 0005): one commit instead of two. When none comes within `withinMs` they commit alone.
 * A write taken into a transaction that rolls back is put back. One that fails is set aside: the
 * timer's own commit tries it again, with backoff, so a failing write does not keep riding in sales.
 */
export class RidingWrites {
  private queue: RidingWrite[] = [];
  private failed: RidingWrite[] = [];
  /** When the failed ones may be tried again. */
  private retryAt = 0;
  /** Set-asides in a row: each waits twice as long (a failing disk is not hammered). */
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  /** Inside the timer's own commit (or the last one, at stop): no timer is armed meanwhile. */
  private alone = false;
  /**
   * What the timer's own transaction takes, once (a transaction a callback starts meanwhile takes
   * the fresh ones only): `retry` the failed writes, `all` (at stop) everything.
   */
  private nextTake: 'retry' | 'fresh' | 'all' | undefined;
  /** What the last take was: a clean retry ends the backoff. */
  private lastTake: 'retry' | 'fresh' | 'all' = 'fresh';
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly o: RidingWritesOptions) {
    this.now = o.now ?? (() => performance.now()); // monotonic: a clock stepped back delays nothing
  }

  get pending(): number {
    return this.queue.length + this.failed.length;
  }

  add(w: RidingWrite): void {
    if (this.stopped)
      this.o.log.error('a riding write after stop: not committed (a receipt prints again, marked)');
    this.queue.push(w);
    this.arm();
  }

  /** The writes to run in the transaction about to start, in the order they came. */
  take(): readonly RidingWrite[] {
    const mode = this.nextTake ?? 'fresh';
    this.nextTake = undefined;
    this.lastTake = mode;
    let taken: RidingWrite[];
    if (mode === 'retry') {
      taken = this.failed;
      this.failed = [];
    } else if (mode === 'all') {
      taken = [...this.failed, ...this.queue];
      this.failed = [];
      this.queue = [];
    } else {
      taken = this.queue;
      this.queue = [];
    }
    return taken.length > 0 ? taken : NONE;
  }

  /**
   * Inside the transaction: each write in a savepoint of its own (`savepoint` runs it in one), so
   * one that throws rolls back alone (`rolledBack` then) and neither the others nor the host fail.
   * If the transaction is gone after it (`inTransaction` false), RidersEndedTransaction.
   */
  runInside(
    writes: readonly RidingWrite[],
    savepoint: (write: () => void) => void,
    inTransaction: () => boolean,
    rolledBack: () => void,
  ): RidingWrite[] {
    const failed: RidingWrite[] = [];
    for (const w of writes) {
      try {
        // A write that swallows a fault ending the transaction still throws here: its savepoint's
        // RELEASE finds no transaction.
        savepoint(w.write);
      } catch (err) {
        if (!inTransaction()) throw new RidersEndedTransaction(err, w);
        failed.push(w);
        rolledBack();
        this.o.log.error({ err: describe(err) }, 'a riding write failed; it is tried again later');
      }
    }
    return failed;
  }

  /** Their transaction committed: the others are told, in order; the failed ones are set aside. */
  settled(writes: readonly RidingWrite[], failed: readonly RidingWrite[]): void {
    if (failed.length > 0) this.setAside(failed);
    else if (this.lastTake === 'retry') this.failures = 0;
    for (const w of writes) {
      if (failed.includes(w)) continue;
      try {
        w.committed?.();
      } catch (err) {
        this.o.log.error({ err: describe(err) }, 'after a riding write');
      }
    }
  }

  /** Taken writes whose transaction rolled back for its own reasons: again, first. */
  putBack(writes: readonly RidingWrite[]): void {
    if (writes.length === 0) return;
    this.queue = [...writes, ...this.queue];
    this.arm();
  }

  /**
   * `culprit` ended the transaction they were taken into: it waits apart; the others ride again
   * (one that failed before fails in its own savepoint, harmless to a host; left behind the culprit
   * it would wait for as long as the culprit keeps failing).
   */
  ended(writes: readonly RidingWrite[], culprit: RidingWrite): void {
    this.putBack(writes.filter((w) => w !== culprit));
    this.setAside([culprit]);
  }

  /** Writes that failed, or whose transaction met a storage fault: tried later, alone, with backoff. */
  setAside(writes: readonly RidingWrite[]): void {
    if (writes.length === 0) return;
    this.failed = [...writes, ...this.failed];
    this.failures++;
    this.retryAt = this.now() + Math.min(this.o.withinMs * 2 ** this.failures, MAX_RETRY_MS);
    this.arm();
  }

  /** The ledger closes: what still waits commits now (failed ones too); no timer is left. */
  settle(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending > 0) this.commitAlone('all');
    // A write that ended the transaction waits apart: the ones taken with it go again without it.
    for (let round = 0; this.queue.length > 0 && round < SETTLE_ROUNDS; round++) this.commitAlone('fresh');
    if (this.pending > 0) {
      // Lost as a power cut would lose them: those receipts print again, marked as reprints.
      this.o.log.error({ pending: this.pending }, 'riding writes not committed at stop');
    }
  }

  /** The timer for what waits: fresh writes within `withinMs`, failed ones at their retry time. */
  private arm(): void {
    if (this.alone || this.stopped || this.pending === 0) return;
    const at = this.queue.length > 0 ? this.now() + this.o.withinMs : this.retryAt;
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.commitNow(), Math.max(0, at - this.now()));
    this.timer.unref();
  }

  private commitNow(): void {
    this.timer = undefined;
    if (this.failed.length > 0 && this.now() >= this.retryAt) this.commitAlone('retry');
    if (this.queue.length > 0) this.commitAlone('fresh');
    this.arm();
  }

  private commitAlone(take: 'retry' | 'fresh' | 'all'): void {
    this.alone = true;
    this.nextTake = take;
    try {
      this.o.commitAlone();
    } catch (err) {
      // Not a storage fault the ledger sets aside (a closed database, out of memory): back off too.
      this.o.log.error({ err: describe(err), pending: this.pending }, 'riding writes not committed');
      const back = this.queue;
      this.queue = [];
      this.setAside(back);
    } finally {
      this.alone = false;
      this.nextTake = undefined;
    }
  }
}

const NONE: RidingWrite[] = [];

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
