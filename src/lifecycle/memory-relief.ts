import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { systemTimers, type TimerHandle, type Timers } from '../drivers/transport/timers.js';
import type { Logger } from '../log.js';
import type { Db } from '../offline/db.js';

/** Between the relief's steps: the previous collection's sweep ends, freed buffers reach malloc. */
const STEP_MS = 1_000;

export interface MemoryReliefOptions {
  /** Rows the ledger has changed so far (SQLite's `total_changes()`): the daemon's activity. */
  changes: () => number;
  /**
   * After the collections: native memory back to the system (the ledger's page cache, malloc's
   * free pages; see `ledgerMemoryRelief`).
   */
  giveBack: () => void;
  /** A full V8 collection; `v8Collector()` by default. */
  gc?: (() => void) | undefined;
  log: Logger;
  timers?: Timers;
  /** How often activity is looked at. */
  everyMs?: number;
  /**
   * Whole periods of quiet before relief: past the print queue's drawer window (a minute, what
   * it still holds of the rush is let go at the next 5 s retry), so this collection finds it.
   */
  quietPeriods?: number;
  /** Row changes since the last relief that make a burst worth giving memory back after. */
  burstChanges?: number;
  /** At most this many row changes in a period still count as quiet (status, bookkeeping). */
  quietChanges?: number;
  /**
   * Relief once at the first quiet after start too (default): the start itself is a burst (modules
   * compiled, the ledger opened and migrated, config read), and what it leaves is held until then.
   */
  afterStart?: boolean;
}

/**
 * V8 flags on for the relief's collections only, off again after. V8 reads each once, as a
 * collection starts, so a collection on another thread that overlaps the switch is only plain.
 */
const RELIEF_FLAGS = [
  // Every page it can, not only the most fragmented: a rush leaves old-space pages half empty,
  // resident until their last object moves.
  'compact-on-every-full-gc',
  // The bytecode of functions not running now, as V8 itself drops it after five collections
  // without a call (none come while the terminal is quiet): the sale path's, compiled again at
  // the next sale (issue 18: about 2 MB of what a rush left resident).
  'stress-flush-code',
];

/**
 * On for good, once: baseline code may be dropped like bytecode (without it, a function warm
 * enough to have baseline code keeps its bytecode). V8 reads this flag again as a collection
 * ends, so it is never switched back while other threads' collections may be running.
 */
const LASTING_FLAGS = ['flush-baseline-code'];

/**
 * A full V8 collection without `--expose-gc` on the command line: the flag is set at run time
 * and `gc` taken from a fresh context (it is not put on this context's global). It compacts
 * every page and drops compiled code not in use (`RELIEF_FLAGS`). Undefined if this V8 refuses.
 */
export function v8Collector(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    for (const flag of LASTING_FLAGS) setFlagsFromString(`--${flag}`);
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc !== 'function') return undefined;
    return () => {
      for (const flag of RELIEF_FLAGS) setFlagsFromString(`--${flag}`);
      try {
        (gc as () => void)();
      } finally {
        for (const flag of RELIEF_FLAGS) setFlagsFromString(`--no-${flag}`);
      }
    };
  } catch {
    return undefined;
  }
}

/**
 * Gives memory back once the terminal is quiet after a burst of sales (issue 18): during a rush
 * V8's old space and SQLite's page cache grow to the rush's working size and stay there, as
 * garbage not yet collected and pages not yet released. Once whole periods pass with (almost)
 * no ledger writes after a burst (three of 30 s by default), the ledger's cache is shrunk and V8
 * collects twice (the second collection releases the pages the first one's sweep emptied). Never during sales: the full
 * collection pauses the event loop for some milliseconds, which a sale must not wait behind. By
 * default relief comes 90–120 s after the last sale, and once 90–120 s after start.
 */
export class MemoryRelief {
  private readonly timers: Timers;
  private readonly everyMs: number;
  private readonly burstChanges: number;
  private readonly quietChanges: number;
  private gc: (() => void) | undefined;
  private timer: TimerHandle | undefined;
  private readonly quietPeriods: number;
  private quietFor = 0;
  private lastTick = 0;
  private lastRelief = 0;
  private startPending: boolean;
  /** Reliefs done (tests, benchmarks). */
  reliefs = 0;

  constructor(private readonly o: MemoryReliefOptions) {
    this.timers = o.timers ?? systemTimers();
    this.everyMs = o.everyMs ?? 30_000;
    this.quietPeriods = o.quietPeriods ?? 3;
    this.burstChanges = o.burstChanges ?? 1_000;
    this.quietChanges = o.quietChanges ?? 10;
    this.gc = 'gc' in o ? o.gc : v8Collector();
    this.startPending = o.afterStart ?? true;
  }

  start(): void {
    this.lastTick = this.lastRelief = this.o.changes();
    this.arm();
  }

  stop(): void {
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.timer = this.timers.setTimeout(() => this.tick(), this.everyMs);
  }

  private tick(): void {
    try {
      const now = this.o.changes();
      this.quietFor = now - this.lastTick <= this.quietChanges ? this.quietFor + 1 : 0;
      this.lastTick = now;
      const burst = this.startPending || now - this.lastRelief >= this.burstChanges;
      if (this.quietFor >= this.quietPeriods && burst) this.relieve(now);
    } catch (err) {
      // The ledger closed under it (a shutdown): nothing to give back.
      this.o.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'memory relief skipped');
    }
    if (this.timer) this.arm();
  }

  /**
   * Collect, collect again (what the first one's sweep emptied), then native memory back; a
   * step finding sales again leaves the rest to the next quiet period.
   */
  private relieve(at: number): void {
    const before = this.lastRelief;
    const startPending = this.startPending;
    this.lastRelief = at;
    this.startPending = false;
    this.reliefs += 1;
    const gc = this.gc ?? (() => {});
    const step = (fn: () => void, then?: () => void) => {
      if (!this.timer) return; // stopped meanwhile
      if (this.o.changes() - at > this.quietChanges) {
        this.lastRelief = before;
        this.startPending = startPending;
        return;
      }
      try {
        fn();
      } catch (err) {
        this.o.log.debug(
          { err: err instanceof Error ? err.message : String(err) },
          'memory relief step failed',
        );
      }
      if (then) this.timers.setTimeout(then, STEP_MS);
    };
    step(gc, () => step(gc, () => step(() => this.o.giveBack())));
  }
}

/**
 * glibc's `malloc_trim`: hands the free pages inside malloc's arenas back to the system. After a
 * rush most of the main arena is free but resident, in holes between live blocks that `free()`
 * never returns (issue 18: 26 MB held, 6 MB in use). Node has no binding for it; SQLite's
 * extension loader is the native call the daemon already has: it resolves the symbol in the
 * loaded C library and calls it. The first argument (the connection, as an extension entry point
 * gets) lands in `pad`, which only limits the trim of the arena's top; the holes are released
 * whatever it is. A non-zero return (pages released) reads to SQLite as a failed extension,
 * hence the error it throws. Where there is no glibc (musl) the symbol is missing: returns false.
 */
export function mallocTrim(db: Db): boolean {
  try {
    // better-sqlite3 takes the entry point as a second argument; its typings know one.
    const load = db.loadExtension as (this: Db, file: string, entryPoint: string) => Db;
    load.call(db, 'libc.so.6', 'malloc_trim');
    return true; // nothing to release
  } catch (err) {
    return err instanceof Error && err.message.startsWith('error during initialization');
  }
}

/** The daemon's relief, after bursts of writes to its ledger. */
export function ledgerMemoryRelief(db: Db, log: Logger): MemoryRelief {
  const changes = db.prepare<[], { n: number }>('SELECT total_changes() AS n');
  let trims = true;
  return new MemoryRelief({
    changes: () => changes.get()?.n ?? 0,
    giveBack: () => {
      db.pragma('shrink_memory');
      if (trims && !mallocTrim(db)) {
        trims = false;
        log.info('malloc_trim not available: native memory stays with the process after a rush');
      }
    },
    log,
  });
}
