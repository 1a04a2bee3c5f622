import { closeSync, fstatSync, fsync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { PosError } from '../errors.js';
import type { Logger } from '../log.js';
import { Checkpointer, type CheckpointerOptions } from './checkpointer.js';
import type { Db } from './db.js';

export interface GroupCommitOptions {
  db: Db;
  /** The database file; its WAL (`{file}-wal`) is what gets flushed. */
  file: string;
  log: Logger;
  /**
   * Commits nobody waits for (print-job states, sync bookkeeping) are flushed at the latest this
   * long after them, or earlier with the next commit somebody waits for.
   */
  lazyMs?: number;
  /** fsync of a file descriptor, off the event loop (node:fs by default; tests hold it). */
  fsync?: (fd: number, done: (err: Error | null) => void) => void;
  /** WAL checkpoints on a worker thread, never on the event loop (see Checkpointer). */
  checkpoints?: Pick<CheckpointerOptions, 'everyChanges' | 'idleMs'>;
}

interface Waiting {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Flushes `close()` runs at most for waiters that keep coming while it closes. */
const CLOSING_ROUNDS = 4;

function waiting(): Waiting {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A flush nobody awaited (the lazy one) must not surface as an unhandled rejection.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * Group commit for a WAL database opened with `synchronous = NORMAL` (decision 0005): commits
 * write their WAL frames without an fsync, and `durable()` resolves once one fsync of the WAL,
 * started after the call, has completed. Commits that arrive while a flush runs share the next
 * one, so under load many sales cost one fsync; the fsync runs on libuv's thread pool, never on
 * the event loop. SQLite's WAL keeps a prefix: a commit on disk means every earlier one is too.
 */
export class GroupCommit {
  private readonly changes;
  private readonly fsyncFn: NonNullable<GroupCommitOptions['fsync']>;
  private readonly lazyMs: number;
  private fd: number | undefined;
  /** `total_changes()` that the last completed flush covers. */
  private durableChanges: number;
  private inflight: { covers: number; w: Waiting } | undefined;
  private next: Waiting | undefined;
  private scheduled = false;
  private lazyTimer: NodeJS.Timeout | undefined;
  private soonTimer: NodeJS.Timeout | undefined;
  /** Somebody waits for `next` now (not only `durableSoon`): it starts once nothing is in flight. */
  private nextUrgent = false;
  /** `close()` has begun: no more waiting for a flush somebody else starts. */
  private closing = false;
  private closed = false;
  /**
   * Set by a failed fsync, for good: the kernel may have dropped the dirty pages and a later
   * fsync can succeed without them, so no later flush may vouch for anything (a restart reads
   * back what really is on disk).
   */
  private failed: PosError | undefined;
  private readonly flushHooks: Array<() => () => void> = [];
  /** fsyncs done (benchmarks, tests). */
  flushes = 0;
  readonly checkpointer: Checkpointer;

  constructor(private readonly o: GroupCommitOptions) {
    this.changes = o.db.prepare<[], { n: number }>('SELECT total_changes() AS n');
    this.fsyncFn = o.fsync ?? fsync;
    this.lazyMs = o.lazyMs ?? 1_000;
    // The first durable() flushes once: a WAL a killed process left may hold unflushed commits.
    this.durableChanges = -1;
    this.checkpointer = new Checkpointer({ db: o.db, file: o.file, log: o.log, ...o.checkpoints });
  }

  /** The database's logger (the ledger's riding writes log through it). */
  get log(): Logger {
    return this.o.log;
  }

  private total(): number {
    return this.changes.get()!.n;
  }

  /**
   * Runs `capture` as a flush starts (what the flush will cover) and the function it returns
   * once that flush is on disk.
   */
  onFlush(capture: () => () => void): void {
    this.flushHooks.push(capture);
  }

  /** Everything committed before this call is on disk when it resolves (STORAGE_FAILED if not). */
  durable(): Promise<void> {
    const covered = this.covering();
    if (covered) return covered;
    this.next ??= waiting();
    this.urge();
    return this.next.promise;
  }

  /**
   * As `durable()`, but starts no flush of its own for `withinMs`: what no reply waits for (an
   * event for the screens) rides with the next flush a reply starts, so a paced sale does not
   * find the fsync of its predecessor's receipt marked printed in its way.
   */
  durableSoon(withinMs: number): Promise<void> {
    if (this.closing) return this.durable();
    const covered = this.covering();
    if (covered) return covered;
    this.next ??= waiting();
    if (!this.soonTimer) {
      this.soonTimer = setTimeout(() => {
        this.soonTimer = undefined;
        this.urge();
      }, withinMs);
    }
    return this.next.promise;
  }

  /** What settles once everything committed so far is on disk, if no new flush is needed for it. */
  private covering(): Promise<void> | undefined {
    if (this.failed) return Promise.reject(this.failed);
    const n = this.total();
    if (n === this.durableChanges) return this.inflight?.w.promise ?? Promise.resolve();
    if (this.inflight && this.inflight.covers >= n) return this.inflight.w.promise;
    return undefined;
  }

  /** `next` is waited for now: it starts after this turn, or as soon as the flush in flight ends. */
  private urge(): void {
    this.nextUrgent = true;
    this.schedule();
  }

  private clearTimers(): void {
    clearTimeout(this.lazyTimer);
    this.lazyTimer = undefined;
    clearTimeout(this.soonTimer);
    this.soonTimer = undefined;
  }

  /** A commit nobody waits for: flushed with the next awaited one, or after `lazyMs`. */
  committed(): void {
    if (this.lazyTimer || this.closing) return;
    this.lazyTimer = setTimeout(() => {
      this.lazyTimer = undefined;
      try {
        this.durable().catch(() => {}); // a failure is logged by the flush
      } catch (err) {
        // The database closed under it (a test, a shutdown): nothing left to flush.
        this.o.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'lazy flush skipped');
      }
    }, this.lazyMs);
    this.lazyTimer.unref();
  }

  /** Flushes what is left; later commits are not grouped (the database is closing). */
  async close(): Promise<void> {
    this.closing = true;
    this.clearTimers();
    // Until nothing is queued or in flight: a waiter that came during a flush gets its own (a
    // few rounds: a writer that would keep committing does not hold the shutdown).
    for (let round = 0; round < CLOSING_ROUNDS; round++) {
      await this.durable().catch(() => {});
      if ((!this.next && !this.inflight) || this.failed) break;
    }
    this.closed = true;
    this.checkpointer.close();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /**
   * Starts the next flush after the current turn of the event loop, so the commits of the same
   * turn (a sale and its receipt's print job marked printing) share it.
   */
  private schedule(): void {
    if (this.scheduled || this.inflight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.start();
    });
  }

  private start(): void {
    const w = this.next;
    if (!w || this.inflight) return;
    if (this.closed) {
      this.next = undefined;
      w.reject(new PosError('STORAGE_FAILED', 'the ledger is closed'));
      return;
    }
    this.next = undefined;
    this.nextUrgent = false;
    if (this.failed) {
      w.reject(this.failed);
      return;
    }
    this.clearTimers();
    const covers = this.total();
    const after = this.flushHooks.map((capture) => capture());
    let fd: number;
    try {
      fd = this.walFd();
    } catch (err) {
      // Not opened (nothing lost yet) unless its directory's fsync failed (walFd says so).
      this.fail(w, err, false);
      return;
    }
    this.inflight = { covers, w };
    this.fsyncFn(fd, (err) => {
      this.inflight = undefined;
      if (err) {
        this.fail(w, err, true);
      } else {
        this.flushes += 1;
        this.durableChanges = Math.max(this.durableChanges, covers);
        for (const done of after) {
          try {
            done();
          } catch (hookErr) {
            this.o.log.error({ err: String(hookErr) }, 'after-flush hook failed');
          }
        }
        w.resolve();
        // After the replies this flush releases (their continuations run first): a checkpoint's
        // request (its thread started again after idle: ~5 ms) never delays them.
        setImmediate(() => this.checkpointAfterFlush());
      }
      if (this.next && this.nextUrgent) this.schedule();
    });
  }

  private checkpointAfterFlush(): void {
    try {
      this.checkpointer.flushed();
    } catch (err) {
      // The database closed in between (a shutdown): nothing left to checkpoint.
      this.o.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'checkpoint skipped');
    }
  }

  /** `lost`: an fsync failed, so what it covered may be gone, whatever later fsyncs say. */
  private fail(w: Waiting, err: unknown, lost: boolean): void {
    this.o.log.error({ err: err instanceof Error ? err.message : String(err) }, 'ledger flush failed');
    if (lost) this.failed ??= this.storageFailed();
    const reason = this.failed ?? this.storageFailed();
    w.reject(reason);
    if (this.failed) {
      this.next?.reject(this.failed);
      this.next = undefined;
    }
  }

  private storageFailed(): PosError {
    return new PosError('STORAGE_FAILED', 'the ledger could not be flushed to storage: restart posd', {
      dir: dirname(this.o.file),
    });
  }

  /**
   * The WAL's descriptor, opened once. SQLite keeps the file (it truncates or rewrites it, never
   * deletes it while this connection is open); if it ever was replaced, it is opened again.
   */
  private walFd(): number {
    const wal = `${this.o.file}-wal`;
    if (this.fd !== undefined) {
      // Deleted or renamed over, the file this descriptor holds has no name left: one fstat tells.
      if (fstatSync(this.fd).nlink > 0) return this.fd;
      closeSync(this.fd);
      this.fd = undefined;
    }
    this.fd = openSync(wal, 'r');
    // The WAL's name in its directory must survive a power cut too (once per process).
    const dirFd = openSync(dirname(wal), 'r');
    try {
      fsyncSync(dirFd);
    } catch (err) {
      this.failed ??= this.storageFailed();
      throw err;
    } finally {
      closeSync(dirFd);
    }
    return this.fd;
  }
}
