import { v7 as uuidv7 } from 'uuid';
import type { EventBus } from '../bus.js';
import type { Logger } from '../log.js';
import type { Ledger } from '../offline/ledger.js';
import type { PrintJob, PrintQueue } from '../offline/print-queue.js';

/** What a printer says about one job. */
export type PrintOutcome =
  /** `confirmedBy`: how the printer said it was done (`GS r` reply, or real-time status after it). */
  | { result: 'printed'; confirmedBy?: 'transmit-status' | 'realtime' }
  /** Nothing reached the paper (offline, paper out before the job): print it again as is. */
  | { result: 'not-started'; reason: string }
  /** Part of it may be on paper (paper out, cover open or unplugged mid-job): print again as a reprint. */
  | { result: 'maybe-partial'; reason: string };

/** The printer as the queue sees it (implemented by the ESC/POS printer driver). */
export interface JobPrinter {
  isReady(): boolean;
  onReady(listener: () => void): () => void;
  print(bytes: Uint8Array): Promise<PrintOutcome>;
}

/**
 * Turns a job into printer bytes (templates + ESC/POS encoder); `reprint` adds the REPRINT mark;
 * `drawer: false` leaves out any cash-drawer kick.
 */
export type JobRenderer = (
  kind: string,
  payload: unknown,
  options: { reprint: boolean; drawer: boolean },
) => Uint8Array;

/**
 * How long after its job was queued the drawer may still open: a receipt that waited for paper or
 * a printer prints later without opening the drawer, when nobody may be standing at it.
 */
export const DRAWER_WINDOW_MS = 60_000;

/** One turn of the event loop: the replies a flush released are written before the receipts it released. */
function afterPendingReplies(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Under a group commit: jobs marked `printing` together, behind one flush. */
const PRINT_AHEAD = 8;
const LATE_DRAWER = 'the printer was not ready in time: open the drawer by hand';

declare module '../bus.js' {
  interface PosEvents {
    'print.job': {
      jobId: string;
      kind: string;
      refId: string | null;
      status: string;
      reprint: boolean;
      error?: string;
      /** On `printed`: how the printer confirmed it. */
      confirmedBy?: 'transmit-status' | 'realtime';
    };
  }
}

export interface PrintServiceOptions {
  queue: PrintQueue;
  ledger: Ledger;
  bus: EventBus;
  log: Logger;
  render: JobRenderer;
  printer?: JobPrinter;
  now?: () => Date;
  newId?: () => string;
  /** Monotonic milliseconds (the drawer's window must not follow the wall clock). */
  monotonic?: () => number;
  drawerWindowMs?: number;
}

/**
 * The print queue worker: one job at a time, oldest first. A job is committed before it is sent;
 * after paper-out, cover-open, unplug or a crash it resumes; what may have printed in part is
 * printed again marked as a reprint, never silently twice.
 */
export class PrintService {
  private readonly o: PrintServiceOptions;
  private readonly now: () => Date;
  private readonly newId: () => string;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Nothing prints before `start()` has turned interrupted jobs into reprints. */
  private started = false;
  private kicked = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly printedHooks: Array<(job: PrintJob) => void> = [];
  /** Printed, the mark still riding: not to be taken again. */
  private readonly marking = new Set<string>();
  /**
   * Jobs queued as `printing` in their own transaction, the queue being idle (a receipt at the
   * counter: no transaction of its own to take it); the drain takes those that were committed.
   */
  private handed: Array<{ id: string; kind: string; refId: string | null }> = [];
  private readonly monotonic: () => number;
  private readonly drawerWindowMs: number;
  /**
   * Jobs queued by this process in the drawer's window, with when (monotonic): only they may open
   * the drawer. A job from before a restart never does.
   */
  private readonly queuedAt = new Map<string, number>();

  constructor(options: PrintServiceOptions) {
    this.o = options;
    this.now = options.now ?? (() => new Date());
    this.newId = options.newId ?? uuidv7;
    this.monotonic = options.monotonic ?? (() => performance.now());
    this.drawerWindowMs = options.drawerWindowMs ?? DRAWER_WINDOW_MS;
    options.printer?.onReady(() => this.kick());
  }

  /** After a restart: interrupted jobs become reprints; then the queue drains. */
  start(retryMs = 5_000): void {
    const recovered = this.o.queue.recoverInterrupted(this.iso());
    this.started = true;
    if (recovered > 0)
      this.o.log.warn({ recovered }, 'print jobs interrupted by a restart will print as reprints');
    // A printer that stays "ready" while a job fails sends no new ready event: retry now and then.
    this.retryTimer = setInterval(() => {
      this.forgetPastWindow();
      this.kick();
    }, retryMs);
    this.retryTimer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.retryTimer);
    await this.running;
    try {
      this.putBack(this.takeHanded(), 'not sent'); // never sent: no reprint mark after the restart
    } catch (err) {
      this.o.log.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'print jobs left as interrupted',
      );
    }
  }

  /** Inside the caller's transaction, so the job exists if and only if the fact does. */
  enqueueInTransaction(kind: string, payload: unknown, refId?: string, reprint = false): string {
    const id = this.newId();
    const taken = this.mayTakeAsQueued();
    this.o.queue.add({
      id,
      kind,
      payload,
      at: this.iso(),
      reprint,
      taken,
      ...(refId !== undefined ? { refId } : {}),
    });
    if (taken) this.handed.push({ id, kind, refId: refId ?? null });
    const at = this.monotonic();
    this.forgetPastWindow(at);
    this.queuedAt.set(id, at);
    queueMicrotask(() => this.kick()); // after the caller's commit; a rolled-back job is simply not found
    return id;
  }

  /**
   * Forgets the jobs queued before the drawer's window: the oldest first (the map keeps them in
   * the order queued), stopping at the first still inside it, so a sale never walks the minute's
   * jobs; run again now and then, so a terminal gone quiet after a rush does not keep them.
   */
  private forgetPastWindow(at = this.monotonic()): void {
    for (const [jobId, queued] of this.queuedAt) {
      if (at - queued <= this.drawerWindowMs) break;
      this.queuedAt.delete(jobId);
    }
  }

  /** Jobs that may still open the drawer (tests). */
  drawerWindowJobs(): number {
    return this.queuedAt.size;
  }

  /** Whether the job may still open the drawer (queued by this process within the window). */
  private mayOpenDrawer(jobId: string): boolean {
    const queued = this.queuedAt.get(jobId);
    return queued !== undefined && this.monotonic() - queued <= this.drawerWindowMs;
  }

  /** Inside the caller's transaction: adds to the document of a job that has not started. */
  amendQueuedInTransaction(refId: string, kind: string, amend: (payload: unknown) => unknown): boolean {
    // A handed job is first in line; one whose savepoint rolled back is not found.
    const handed = this.handed
      .filter((h) => h.refId === refId && h.kind === kind)
      .map((h) => this.o.queue.get(h.id))
      .find((job) => job?.status === 'printing');
    const job = handed ?? this.o.queue.queuedFor(refId, kind)[0];
    if (!job) return false;
    this.o.queue.setPayload(
      job.id,
      amend(job.payload),
      this.iso(),
      job.status === 'printing' ? 'printing' : 'queued',
    );
    return true;
  }

  /**
   * Whether a job queued now is taken for the printer in the same transaction: the queue idle
   * (no drain, nothing waiting) and the printer ready, so nothing could print before it. Under a
   * group commit only, where paper waits for the flush that covers the mark.
   */
  private mayTakeAsQueued(): boolean {
    return (
      this.started &&
      !this.stopped &&
      this.running === undefined &&
      this.o.ledger.groupsCommits &&
      this.o.printer?.isReady() === true &&
      this.handed.length < PRINT_AHEAD &&
      this.nothingWaiting()
    );
  }

  /**
   * No job waits but those the queue already holds: none queued, and every one marked `printing`
   * either printed with its mark still riding or handed to the next drain (one a failed drain
   * left `printing` is taken again, as before). By id: inside a transaction that carried a mark,
   * that job is no longer `printing` though still in `marking`.
   */
  private nothingWaiting(): boolean {
    if (this.o.queue.anyQueued()) return false;
    const held = (id: string) => this.marking.has(id) || this.handed.some((h) => h.id === id);
    return this.o.queue.printingIds().every(held);
  }

  /** The handed jobs whose transaction committed (a rolled-back one is not found), in order. */
  private takeHanded(): PrintJob[] {
    const handed = this.handed;
    this.handed = [];
    return handed
      .map((h) => this.o.queue.get(h.id))
      .filter((job): job is PrintJob => job?.status === 'printing' && !this.marking.has(job.id));
  }

  enqueue(kind: string, payload: unknown, refId?: string, reprint = false): string {
    const id = this.o.ledger.transact(() => this.enqueueInTransaction(kind, payload, refId, reprint));
    this.kick(); // committed: start now, so `idle()` right after sees the drain
    return id;
  }

  /** Runs inside the transaction that marks a job printed (an order's `order.printed` record). */
  onPrintedInTransaction(hook: (job: PrintJob) => void): void {
    this.printedHooks.push(hook);
  }

  pending(): PrintJob[] {
    return this.o.queue.waiting();
  }

  job(jobId: string): PrintJob | undefined {
    return this.o.queue.get(jobId);
  }

  recent(limit = 50): PrintJob[] {
    return this.o.queue.recent(limit);
  }

  /** Drains the queue; a kick during a drain makes it look again when it ends, so none is lost. */
  kick(): void {
    this.kicked = true;
    if (this.running || this.stopped || !this.started) return;
    this.running = (async () => {
      await undefined; // `running` is set before any drain runs: a job queued meanwhile waits its turn
      while (this.kicked && !this.stopped) {
        this.kicked = false;
        await this.drain();
      }
    })().finally(() => {
      this.running = undefined;
      // A kick between the loop's last look and this moment found the drain still running.
      if (this.kicked) this.kick();
    });
  }

  /** Resolves when the queue has nothing it can print now (tests). */
  async idle(): Promise<void> {
    await Promise.resolve(); // a job queued just before: its kick is a microtask
    while (this.running) await this.running;
  }

  /**
   * Prints what is queued, oldest first. Under a group commit the next jobs (at most
   * `PRINT_AHEAD`) are marked `printing` together and wait for one flush before the first is sent:
   * one fsync for several receipts. They are rendered only after it, once the replies waiting on
   * that flush have gone out, so a sale's answer never waits for its receipt's layout. One that
   * then does not print sends the others back to the queue as they were (they never left); after
   * a power cut, all of them print as reprints.
   */
  private async drain(): Promise<void> {
    const printer = this.o.printer;
    let handed = this.takeHanded();
    while (!this.stopped && printer?.isReady()) {
      const batch = handed.length > 0 ? handed : this.takeJobs(this.o.ledger.groupsCommits ? PRINT_AHEAD : 1);
      handed = [];
      if (batch.length === 0) return;
      try {
        // Paper only for a fact on disk, and only once `printing` is: after a power cut the job
        // prints again marked as a reprint, never silently twice (decision 0005).
        if (this.o.ledger.groupsCommits) {
          await this.o.ledger.durable();
          await afterPendingReplies();
        }
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        for (const job of batch) {
          this.o.queue.requeue(job.id, false, reason, this.iso());
          this.emit(job, 'queued', reason);
        }
        return;
      }
      for (const [i, job] of batch.entries()) {
        if (i > 0 && (this.stopped || !printer.isReady())) {
          this.putBack(batch.slice(i), 'not sent');
          return;
        }
        const bytes = this.renderOrCancel(job);
        if (!bytes) continue;
        this.emit(job, 'printing');
        let outcome: PrintOutcome;
        try {
          outcome = await printer.print(bytes);
        } catch (err) {
          outcome = { result: 'maybe-partial', reason: err instanceof Error ? err.message : String(err) };
        }
        if (outcome.result === 'printed') {
          this.markPrinted(job, outcome.confirmedBy);
          continue;
        }
        const reprint = outcome.result === 'maybe-partial';
        this.o.queue.requeue(job.id, reprint, outcome.reason, this.iso());
        this.emit({ ...job, reprint: job.reprint || reprint }, 'queued', outcome.reason);
        this.o.log.warn({ jobId: job.id, kind: job.kind, outcome }, 'print job waits for the printer');
        this.putBack(batch.slice(i + 1), 'not sent');
        return; // the printer's next ready event resumes the queue
      }
    }
    this.putBack(handed, 'not sent'); // the printer went away before they were sent
  }

  /**
   * `printed` rides in the next transaction (decision 0005): one commit fewer per receipt. The job
   * is told printed once that is committed; until then no batch takes it again.
   */
  private markPrinted(job: PrintJob, confirmedBy: 'transmit-status' | 'realtime' | undefined): void {
    this.marking.add(job.id);
    this.o.ledger.ride(
      () => {
        this.o.queue.markPrinted(job.id, this.iso());
        for (const hook of this.printedHooks) hook(job);
      },
      () => {
        this.marking.delete(job.id);
        this.emit(job, 'printed', undefined, confirmedBy); // marking changed none of what it tells
      },
    );
  }

  /**
   * The next jobs marked `printing`, in one transaction (the receipts printed since ride in it); a
   * drawer kick whose moment has passed is cancelled.
   */
  private takeJobs(max: number): PrintJob[] {
    // Nothing waits (the last receipt just printed): no transaction, so its `printed` mark rides
    // in the next sale's, sharing its pages, instead of in one of its own.
    if (this.nothingWaiting()) return [];
    const cancelled: PrintJob[] = [];
    const taken = this.o.ledger.transact(() => {
      for (;;) {
        let jobs = this.o.queue.firstWaiting(max);
        // Marks that rode in this transaction are written; one that failed is still `printing`.
        if (jobs.some((job) => this.marking.has(job.id)))
          jobs = this.o.queue
            .firstWaiting(max + this.marking.size)
            .filter((job) => !this.marking.has(job.id))
            .slice(0, max);
        const out = jobs.filter((job) => !this.cancelLateDrawer(job, cancelled));
        if (out.length === 0 && jobs.length > 0) continue;
        const at = this.iso();
        for (const job of out) this.o.queue.markPrinting(job.id, at);
        return out;
      }
    });
    for (const job of cancelled) this.emit(job, 'cancelled', LATE_DRAWER); // told once committed
    return taken;
  }

  /**
   * A `drawer` job past the drawer's window: cancelled (true), nobody may be standing at it. Told
   * now, or by the caller once its transaction commits (`toTell`).
   */
  private cancelLateDrawer(job: PrintJob, toTell?: PrintJob[]): boolean {
    if (job.kind !== 'drawer' || this.mayOpenDrawer(job.id)) return false;
    this.o.queue.cancel(job.id, LATE_DRAWER, this.iso());
    if (toTell) toTell.push(job);
    else this.emit(job, 'cancelled', LATE_DRAWER);
    this.o.log.warn({ jobId: job.id, refId: job.refId }, 'cash drawer not opened: its moment has passed');
    return true;
  }

  /**
   * The job's printer bytes, laid out now: whether it opens the drawer is decided now too (the
   * jobs before it in its batch may have taken their time). A job whose document cannot be made
   * is cancelled: it would block every receipt behind it.
   */
  private renderOrCancel(job: PrintJob): Uint8Array | undefined {
    if (this.cancelLateDrawer(job)) return undefined;
    try {
      return this.o.render(job.kind, job.payload, {
        reprint: job.reprint,
        drawer: this.mayOpenDrawer(job.id),
      });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.o.queue.cancel(job.id, `cannot render: ${reason}`, this.iso());
      this.emit(job, 'cancelled', reason);
      this.o.log.error(
        { jobId: job.id, kind: job.kind, err: reason },
        'print job cannot be rendered; cancelled',
      );
      return undefined;
    }
  }

  /** Jobs marked `printing` that never reached the printer: queued again as they were. */
  private putBack(jobs: readonly PrintJob[], reason: string): void {
    for (const job of jobs) this.o.queue.requeue(job.id, false, reason, this.iso());
  }

  private emit(
    job: PrintJob,
    status: string,
    error?: string,
    confirmedBy?: 'transmit-status' | 'realtime',
  ): void {
    this.o.bus.emit('print.job', {
      jobId: job.id,
      kind: job.kind,
      refId: job.refId,
      status,
      reprint: job.reprint,
      ...(error ? { error } : {}),
      ...(confirmedBy ? { confirmedBy } : {}),
    });
  }

  private iso(): string {
    return this.now().toISOString();
  }
}
