import type { Db } from './db.js';

export type PrintJobStatus = 'queued' | 'printing' | 'printed' | 'cancelled';

export interface PrintJob {
  id: string;
  kind: string;
  refId: string | null;
  payload: unknown;
  status: PrintJobStatus;
  reprint: boolean;
  attempts: number;
  lastError: string | null;
  createdAt: string;
}

interface Row {
  id: string;
  kind: string;
  ref_id: string | null;
  payload: string;
  status: PrintJobStatus;
  reprint: number;
  attempts: number;
  last_error: string | null;
  created_at: string;
}

/** The print queue's rows; callers own the transactions. */
export class PrintQueue {
  private readonly stmt;

  constructor(db: Db) {
    this.stmt = {
      insert: db.prepare(
        // seq: the next after the highest (the write lock orders inserts), whatever the clock says.
        `INSERT INTO print_jobs (id, kind, ref_id, payload, status, reprint, attempts, created_at, updated_at, seq)
         VALUES (@id, @kind, @refId, @payload, @status, @reprint, @attempts, @at, @at,
                 (SELECT coalesce(max(seq), 0) + 1 FROM print_jobs))`,
      ),
      get: db.prepare<[string], Row>('SELECT * FROM print_jobs WHERE id = ?'),
      waiting: db.prepare<[], Row>(
        "SELECT * FROM print_jobs WHERE status IN ('queued', 'printing') ORDER BY seq",
      ),
      firstWaiting: db.prepare<[number], Row>(
        "SELECT * FROM print_jobs WHERE status IN ('queued', 'printing') ORDER BY seq LIMIT ?",
      ),
      // The partial index's condition beside `queued`, so SQLite reads that index, not every job.
      anyQueued: db.prepare<[], { one: number }>(
        "SELECT 1 AS one FROM print_jobs WHERE status IN ('queued', 'printing') AND status = 'queued' LIMIT 1",
      ),
      printing: db.prepare<[], { id: string }>("SELECT id FROM print_jobs WHERE status = 'printing'"),
      recent: db.prepare<[number], Row>('SELECT * FROM print_jobs ORDER BY seq DESC LIMIT ?'),
      start: db.prepare<[string, string]>(
        "UPDATE print_jobs SET status = 'printing', attempts = attempts + 1, updated_at = ? WHERE id = ?",
      ),
      finish: db.prepare<[string, string]>(
        "UPDATE print_jobs SET status = 'printed', updated_at = ? WHERE id = ?",
      ),
      requeue: db.prepare<[number, string, string, string]>(
        "UPDATE print_jobs SET status = 'queued', reprint = max(reprint, ?), last_error = ?, updated_at = ? WHERE id = ?",
      ),
      // Through the waiting jobs' index: without its condition SQLite walked every job ever printed.
      queuedFor: db.prepare<[string, string], Row>(
        `SELECT * FROM print_jobs WHERE status IN ('queued', 'printing') AND status = 'queued'
           AND ref_id = ? AND kind = ? ORDER BY seq`,
      ),
      setPayload: db.prepare<[string, string, string, string]>(
        'UPDATE print_jobs SET payload = ?, updated_at = ? WHERE id = ? AND status = ?',
      ),
      cancel: db.prepare<[string, string, string]>(
        "UPDATE print_jobs SET status = 'cancelled', last_error = ?, updated_at = ? WHERE id = ?",
      ),
      interrupted: db.prepare<[string]>(
        "UPDATE print_jobs SET status = 'queued', reprint = 1, last_error = 'interrupted', updated_at = ? WHERE status = 'printing'",
      ),
    };
  }

  add(job: {
    id: string;
    kind: string;
    refId?: string;
    payload: unknown;
    reprint?: boolean;
    at: string;
    /** Taken for the printer as it is queued (the print queue idle): `printing`, its first attempt. */
    taken?: boolean;
  }): void {
    this.stmt.insert.run({
      id: job.id,
      kind: job.kind,
      refId: job.refId ?? null,
      payload: JSON.stringify(job.payload),
      status: job.taken ? 'printing' : 'queued',
      attempts: job.taken ? 1 : 0,
      reprint: job.reprint ? 1 : 0,
      at: job.at,
    });
  }

  /** Whether any job waits its turn (not counting those marked `printing`). */
  anyQueued(): boolean {
    return this.stmt.anyQueued.get() !== undefined;
  }

  /** The jobs marked `printing` (through their own index: a few at most). */
  printingIds(): string[] {
    return this.stmt.printing.all().map((row) => row.id);
  }

  get(id: string): PrintJob | undefined {
    const row = this.stmt.get.get(id);
    return row ? toJob(row) : undefined;
  }

  waiting(): PrintJob[] {
    return this.stmt.waiting.all().map(toJob);
  }

  /** The first `limit` waiting jobs, oldest first: what the drain takes, whatever the backlog. */
  firstWaiting(limit: number): PrintJob[] {
    return this.stmt.firstWaiting.all(limit).map(toJob);
  }

  recent(limit: number): PrintJob[] {
    return this.stmt.recent.all(limit).map(toJob);
  }

  markPrinting(id: string, at: string): void {
    this.stmt.start.run(at, id);
  }

  markPrinted(id: string, at: string): void {
    this.stmt.finish.run(at, id);
  }

  /** Back in the queue; `reprint` once the paper may hold part of it. */
  requeue(id: string, reprint: boolean, error: string, at: string): void {
    this.stmt.requeue.run(reprint ? 1 : 0, error, at, id);
  }

  /** Jobs of `kind` about `refId` that have not started printing. */
  queuedFor(refId: string, kind: string): PrintJob[] {
    return this.stmt.queuedFor.all(refId, kind).map(toJob);
  }

  /**
   * A job's document changes before it prints (a coupon issued with the sale), the row still in
   * `status`: `queued`, or `printing` for a job taken in this very transaction and not yet sent.
   */
  setPayload(id: string, payload: unknown, at: string, status: 'queued' | 'printing' = 'queued'): void {
    this.stmt.setPayload.run(JSON.stringify(payload), at, id, status);
  }

  /** A job that can never print (its document cannot be made): out of the way of the others. */
  cancel(id: string, error: string, at: string): void {
    this.stmt.cancel.run(error, at, id);
  }

  /** After a crash: a job that was printing may be on paper in part, so it prints again as a reprint. */
  recoverInterrupted(at: string): number {
    return this.stmt.interrupted.run(at).changes;
  }
}

function toJob(r: Row): PrintJob {
  return {
    id: r.id,
    kind: r.kind,
    refId: r.ref_id,
    payload: JSON.parse(r.payload) as unknown,
    status: r.status,
    reprint: r.reprint === 1,
    attempts: r.attempts,
    lastError: r.last_error,
    createdAt: r.created_at,
  };
}
