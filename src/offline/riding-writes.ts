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
}

/**
 * Writes nobody waits for (a receipt marked printed) ride in the next transaction somebody makes
 * (decision 0005): one commit, and its WAL pages, instead of two. When none comes within
 * `withinMs` they commit alone. A write taken into a transaction that rolls back is put back.
 */
export class RidingWrites {
  private queue: RidingWrite[] = [];
  /** Writes that failed: only the timer's own commit (with its backoff) tries them again. */
  private failed: RidingWrite[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Commits alone that failed in a row: each waits longer (a failing disk is not hammered). */
  private failures = 0;
  /** Inside the timer's own commit: what it puts back is armed after it, with the backoff. */
  private alone = false;
  private stopped = false;

  constructor(private readonly o: RidingWritesOptions) {}

  get pending(): number {
    return this.queue.length + this.failed.length;
  }

  add(w: RidingWrite): void {
    this.queue.push(w);
    this.arm();
  }

  /** The writes to run in the transaction about to start, in the order they came. */
  take(): readonly RidingWrite[] {
    if (this.alone && this.failed.length > 0) {
      this.queue = [...this.failed, ...this.queue];
      this.failed = [];
    }
    if (this.queue.length === 0) return NONE;
    const taken = this.queue;
    this.queue = [];
    if (this.failed.length === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    return taken;
  }

  /**
   * Inside the transaction: each write in a savepoint of its own (`savepoint` runs it in one), so
   * one that throws rolls back alone (`rolledBack` then) and neither the others nor the host fail.
   * A storage fault (full, I/O) ends the whole transaction in SQLite, not only the savepoint: then
   * (`inTransaction` false) the error goes to the host, which fails whole and puts them all back.
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
        savepoint(w.write);
      } catch (err) {
        if (!inTransaction()) throw err;
        failed.push(w);
        rolledBack();
        this.o.log.error({ err: describe(err) }, 'a riding write failed; it is tried again later');
      }
    }
    return failed;
  }

  /** Their transaction committed: the others are told, in order; the failed ones wait, with backoff. */
  settled(writes: readonly RidingWrite[], failed: readonly RidingWrite[]): void {
    if (failed.length > 0) {
      this.failures++;
      this.failed.push(...failed);
      this.arm();
    } else if (this.alone) this.failures = 0;
    for (const w of writes) {
      if (failed.includes(w)) continue;
      try {
        w.committed?.();
      } catch (err) {
        this.o.log.error({ err: describe(err) }, 'after a riding write');
      }
    }
  }

  /** Taken writes whose transaction rolled back: again, first. */
  putBack(writes: readonly RidingWrite[]): void {
    if (writes.length === 0) return;
    this.queue = [...writes, ...this.queue];
    this.arm();
  }

  /** The ledger closes: what still waits commits now (failed ones too), and no timer is left. */
  settle(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === 0) return;
    this.alone = true;
    try {
      this.o.commitAlone();
    } finally {
      this.alone = false;
    }
  }

  private arm(): void {
    if (this.timer || this.alone || this.stopped) return;
    const delay = Math.min(this.o.withinMs * 2 ** this.failures, MAX_RETRY_MS);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.pending === 0) return;
      this.alone = true;
      try {
        this.o.commitAlone();
      } catch (err) {
        // Kept (put back by the transaction): the next transaction, or this timer later, tries again.
        this.failures++;
        this.o.log.error({ err: describe(err), pending: this.pending }, 'riding writes not committed');
      } finally {
        this.alone = false;
      }
      if (this.pending > 0) this.arm();
    }, delay);
    this.timer.unref();
  }
}

const NONE: RidingWrite[] = [];
const MAX_RETRY_MS = 5_000;

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
