import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.js';
import type { Db } from './db.js';

/*
 * The thread: its own connection, PASSIVE checkpoints on request. PASSIVE never waits for, nor
 * blocks, the daemon's writes; `synchronous = NORMAL` syncs the WAL before and the database file
 * after each checkpoint, so SQLite restarts the WAL only over frames that are in the database on
 * disk. Plain CommonJS (eval): the same code under dist/ and under the tests' TypeScript.
 */
const THREAD = `
const { parentPort, threadId, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.file, { timeout: 5000, fileMustExist: true });
db.pragma('synchronous = NORMAL');
db.pragma('wal_autocheckpoint = 0');
parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, threadId, ...r });
  } catch (err) {
    parentPort.postMessage({ ok: false, threadId, error: String(err && err.message || err) });
  }
});
`;

/** Checkpoints on the thread for frames written during the previous one, before the loop takes the rest. */
const CATCH_UPS = 2;

export interface CheckpointerOptions {
  db: Db;
  file: string;
  log: Logger;
  /** A checkpoint once this many row changes were flushed since the last (~100 sales: ~2 MB of WAL). */
  everyChanges?: number;
  /** The thread ends after this long without a checkpoint (an idle terminal keeps no thread). */
  idleMs?: number;
}

/** What a checkpoint reports (tests, benchmarks). */
export interface CheckpointRun {
  threadId: number;
  busy: number;
  log: number;
  checkpointed: number;
}

/**
 * Takes the ledger's WAL checkpoints off the event loop (decision 0005): the daemon's
 * connection never checkpoints (`wal_autocheckpoint = 0`); after flushes that together changed
 * `everyChanges` rows, a PASSIVE checkpoint runs on a worker thread with its own connection.
 * The thread starts at the first checkpoint and ends when idle. If it fails, the connection
 * checkpoints itself again, as SQLite does by default.
 */
export class Checkpointer {
  private readonly changes;
  private readonly everyChanges: number;
  private readonly idleMs: number;
  private worker: Worker | undefined;
  private running = false;
  private checkpointedAt: number;
  private idleTimer: NodeJS.Timeout | undefined;
  private disabled = false;
  private catchUps = 0;
  private lastLog = 0;
  private sinceRestart = 0;
  /** Checkpoints of the small rest run on the event loop (benchmarks, tests). */
  onLoop = 0;
  readonly runs: CheckpointRun[] = [];

  constructor(private readonly o: CheckpointerOptions) {
    this.changes = o.db.prepare<[], { n: number }>('SELECT total_changes() AS n');
    this.everyChanges = o.everyChanges ?? 1_000;
    this.idleMs = o.idleMs ?? 2_000;
    o.db.pragma('wal_autocheckpoint = 0');
    this.checkpointedAt = this.total();
  }

  private total(): number {
    return this.changes.get()!.n;
  }

  /** After a flush: checkpoints on the worker once enough has been written since the last one. */
  flushed(): void {
    if (this.disabled || this.running) return;
    const now = this.total();
    if (now - this.checkpointedAt < this.everyChanges) return;
    this.request(now);
  }

  private request(now: number): void {
    if (this.disabled) return;
    this.checkpointedAt = now;
    this.running = true;
    clearTimeout(this.idleTimer);
    try {
      this.thread().postMessage('checkpoint');
    } catch (err) {
      // No thread (none could be started): the connection checkpoints itself, not nobody.
      this.fallBack(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * SQLite starts the WAL over only when a write begins with every frame checkpointed; frames
   * written while the thread checkpointed keep it growing. So a complete checkpoint with writes
   * behind it is followed at once by another for those (short: a few sales' frames); after
   * `CATCH_UPS` of them still behind, this thread checkpoints that small rest itself.
   */
  private caughtUp(run: CheckpointRun): void {
    // A WAL that started over since the last checkpoint reports fewer frames.
    this.sinceRestart = run.log < this.lastLog ? 0 : this.sinceRestart + 1;
    this.lastLog = run.log;
    const now = this.total();
    if (now === this.checkpointedAt) {
      this.catchUps = 0; // nothing written since: the next write starts the WAL over
      return;
    }
    if (this.catchUps < CATCH_UPS && this.sinceRestart < CATCH_UPS * 2) {
      this.catchUps += 1;
      this.request(now);
      return;
    }
    this.catchUps = 0;
    this.checkpointedAt = now;
    this.o.db.pragma('wal_checkpoint(PASSIVE)');
    this.onLoop += 1;
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(THREAD, {
      eval: true,
      workerData: { file: this.o.file, sqlite },
      // A small heap: the thread holds one connection and no data.
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 },
    });
    worker.unref();
    worker.on('message', (m: { ok: boolean; error?: string } & CheckpointRun) => {
      this.running = false;
      if (this.disabled) return; // closed meanwhile: the connection may be gone
      if (!m.ok) {
        this.fallBack(new Error(m.error));
        return;
      }
      const run = { threadId: m.threadId, busy: m.busy, log: m.log, checkpointed: m.checkpointed };
      this.runs.push(run);
      if (this.runs.length > 16) this.runs.shift();
      try {
        this.caughtUp(run);
      } catch (err) {
        this.o.log.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'WAL catch-up checkpoint failed',
        );
      }
      if (this.running) return;
      this.idleTimer = setTimeout(() => this.stopThread(), this.idleMs);
      this.idleTimer.unref();
    });
    worker.on('error', (err) => this.fallBack(err));
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      this.running = false;
    });
    this.worker = worker;
    return worker;
  }

  private fallBack(err: Error): void {
    if (this.disabled) return; // closed: the thread's end is no failure of the ledger's
    this.o.log.error(
      { err: err.message },
      'WAL checkpoint thread failed: the ledger checkpoints itself again',
    );
    this.disabled = true;
    this.running = false;
    try {
      this.o.db.pragma('wal_autocheckpoint = 1000');
    } catch {
      // closed meanwhile
    }
    this.stopThread();
  }

  private stopThread(): void {
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    if (worker) worker.postMessage('close');
  }

  /** Ends the thread (the database is closing; SQLite checkpoints at the last close). */
  close(): void {
    this.disabled = true;
    this.stopThread();
  }
}
