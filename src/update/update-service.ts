import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statfsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, PosError } from '../errors.js';
import type { Logger } from '../log.js';
import { currentBootId } from './boot-id.js';
import { bundleMatches, DownloadRefused, download } from './downloader.js';
import type { Installer } from './rauc.js';
import {
  blockerReasons,
  inWindow,
  nextWindowStart,
  type RebootBlockers,
  type RebootWindow,
} from './safe-moment.js';
import {
  installedBody,
  sameRelease,
  type UpdatePhase,
  type UpdateState,
  type UpdateStateStore,
} from './update-state.js';
import { checkWrittenSlot } from './written-slot.js';

declare module '../bus.js' {
  interface PosEvents {
    /** The update's state changed (the cashier's banner). */
    'update.changed': UpdateView;
  }
}

/** The ledger as updates use it (a port of src/offline/ledger.ts). */
export interface UpdateLedger {
  transact<T>(work: () => T): T;
  append(type: string, body: Record<string, unknown>): unknown;
  findLatest(type: string, field: string, value: string): unknown;
  durable(): Promise<void>;
}

export interface UpdateServiceOptions {
  stateDir: string;
  store: UpdateStateStore;
  installer: Installer;
  appVersion: string;
  ledger: UpdateLedger;
  /** What a reboot now would cut short. */
  blockers: () => RebootBlockers;
  /** Runs the reboot (`systemctl reboot`). */
  reboot: () => Promise<void>;
  /** Closed from the last money check to the reboot: no new payment may start in between. */
  hold?: { close(version: string | undefined): void; open(): void };
  window?: RebootWindow;
  log: Logger;
  /** The reported state changed (`P/up/state`, the cashier's banner). */
  onChange?: () => void;
  backoff?: { initialMs: number; maxMs: number };
  /** How often a waiting reboot looks for its safe moment. */
  checkEveryMs?: number;
  /** After a reboot command failed, how long until the update looks for its moment again. */
  rebootRetryMs?: number;
  /** Between tries of a RAUC call after an install (its status, keeping the booted slot). */
  raucRetryMs?: number;
  now?: () => Date;
  /** The kernel's boot id (tells a posd restart from a reboot). */
  bootId?: () => string | undefined;
  /** Free bytes where bundles go (statfs in production). */
  freeBytes?: (dir: string) => number;
}

/** What `P/up/state` `update` and the cashier's banner show. */
export interface UpdateView {
  state: UpdatePhase;
  version: string | null;
  progress: number | null;
  error: string | null;
  /** waiting-to-reboot: when the restart is due (or now, once nothing is in flight). */
  restartsAt?: string;
  /** waiting-to-reboot: what holds the restart back. */
  waitingFor?: string[];
}

const BUSY: ReadonlySet<UpdatePhase> = new Set([
  'downloading',
  'installing',
  'waiting-to-reboot',
  'rebooting',
]);
/** Room kept free on the data partition beyond the bundle: the ledger must go on growing. */
const SPARE_BYTES = 64 * 1024 * 1024;

function freeBytesOf(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

function parseArgs(args: Record<string, unknown>): {
  version: string;
  url: string;
  sha256: string;
  size: number;
} {
  const { version, url, sha256, size } = args;
  const problems: string[] = [];
  if (typeof version !== 'string' || !/^[0-9A-Za-z][0-9A-Za-z.+~_-]{0,63}$/.test(version))
    problems.push('args.version: a version string');
  if (typeof url !== 'string' || !/^https?:\/\/\S+$/.test(url) || url.length > 2048)
    problems.push('args.url: an http:// or https:// URL');
  if (typeof sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha256))
    problems.push('args.sha256: 64 hex digits');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0)
    problems.push('args.size: the bundle size in bytes');
  if (problems.length > 0) throw new PosError('VALIDATION_FAILED', problems.join('; '), { problems });
  return {
    version: version as string,
    url: url as string,
    sha256: (sha256 as string).toLowerCase(),
    size: size as number,
  };
}

/**
 * Over-the-air updates (issue 20): the `update.install` command downloads the bundle with resume
 * into `{stateDir}/update/`, checks size and sha256, lets RAUC verify and install it into the
 * other slot, and reboots only when no money is in flight (and inside `update.window`).
 */
export class UpdateService {
  readonly dir: string;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The reboot under way: an automatic one and a manager's "restart now" are one reboot. */
  private rebooting: Promise<string[]> | undefined;
  private lastSaved = 0;
  private bytes = 0;
  private readonly now: () => Date;
  private readonly bootId: () => string | undefined;

  constructor(private readonly o: UpdateServiceOptions) {
    this.dir = join(o.stateDir, 'update');
    this.now = o.now ?? (() => new Date());
    this.bootId = o.bootId ?? currentBootId;
  }

  get state(): UpdateState {
    return this.o.store.get();
  }

  view(): UpdateView {
    const s = this.state;
    const progress =
      s.state === 'downloading' && s.size
        ? Math.min(1, Math.floor((this.bytes / s.size) * 1000) / 1000)
        : null;
    const v: UpdateView = {
      state: s.state,
      version: s.version ?? null,
      progress: BUSY.has(s.state) && s.state !== 'downloading' ? 1 : progress,
      error: s.error ?? null,
    };
    if (s.state === 'waiting-to-reboot') {
      v.restartsAt = nextWindowStart(this.o.window, this.now()).toISOString();
      const waitingFor = blockerReasons(this.o.blockers());
      if (waitingFor.length > 0) v.waitingFor = waitingFor;
    }
    return v;
  }

  /** The `update.install` command: checked and accepted at once, carried out in the background. */
  command(args: Record<string, unknown>, cmdId: string): Record<string, unknown> {
    const a = parseArgs(args);
    const s = this.state;
    if (sameRelease(a.version, this.o.appVersion)) {
      throw new PosError('UPDATE_SAME_VERSION', `version ${a.version} is the one running`);
    }
    if (BUSY.has(s.state)) {
      throw new PosError('UPDATE_IN_PROGRESS', `an update to ${s.version} is ${s.state}`, {
        version: s.version,
        state: s.state,
      });
    }
    mkdirSync(this.dir, { recursive: true, mode: 0o750 });
    this.clearBundles();
    const free = (this.o.freeBytes ?? freeBytesOf)(this.dir);
    if (free < a.size + SPARE_BYTES) {
      throw new PosError('UPDATE_NO_SPACE', `the bundle needs ${a.size} bytes; ${free} are free`, {
        free,
        size: a.size,
      });
    }
    this.o.store.set({
      state: 'downloading',
      ...a,
      fromVersion: this.o.appVersion,
      bytes: 0,
      cmdId,
      attemptId: randomUUID(),
    });
    this.o.log.info({ version: a.version, size: a.size, cmdId }, 'update accepted');
    this.changed();
    this.running = this.carryOn();
    return { accepted: true, version: a.version, fromVersion: this.o.appVersion };
  }

  /** After a restart: goes on with what the state file says was under way. */
  resume(): void {
    const s = this.state;
    if (this.runsAnotherRelease(s)) {
      // A slot booted that the update did not plan: installing again would write over the only
      // other slot, the release this one can fall back to.
      this.fail(
        `posd ${this.o.appVersion} runs, neither ${s.fromVersion ?? '?'} (updated from) nor ${s.version ?? '?'}: the slots are left as they are`,
      );
      return;
    }
    if (s.state === 'downloading' || s.state === 'installing') {
      this.bytes = s.bytes ?? 0;
      this.o.log.info({ version: s.version, state: s.state }, 'update resumed');
      this.running = this.carryOn();
      return;
    }
    // A bundle nothing under way needs (one installed before a power cut): room on the partition.
    this.clearBundles();
    if (s.state === 'waiting-to-reboot') {
      this.watchForSafeMoment();
    } else if (s.state === 'rebooting' && s.bootId !== undefined && s.bootId === this.bootId()) {
      // posd restarted before the reboot it asked for happened: the update waits for its moment again.
      this.o.log.warn({ version: s.version }, 'the reboot into the update did not happen; waiting again');
      this.o.store.update({ state: 'waiting-to-reboot' });
      this.watchForSafeMoment();
    }
  }

  /**
   * Under way, yet neither the release it started from nor the update's runs: e.g. a power cut
   * right after RAUC installed a bundle of another release (RAUC had made that slot primary).
   */
  private runsAnotherRelease(s: UpdateState): boolean {
    if (s.state !== 'downloading' && s.state !== 'installing' && s.state !== 'waiting-to-reboot')
      return false;
    if (s.fromVersion === undefined) return false;
    return !sameRelease(this.o.appVersion, s.fromVersion) && !sameRelease(this.o.appVersion, s.version);
  }

  /** Waits for the background work (tests, shutdown). */
  async settled(): Promise<void> {
    await this.running;
  }

  stop(): void {
    this.abort.abort();
    clearInterval(this.timer);
  }

  /** A manager's "restart now": skips the window, never money in flight. */
  async restartNow(): Promise<{ restarting: true }> {
    const s = this.state;
    if (s.state !== 'waiting-to-reboot') {
      throw new PosError('UPDATE_NOT_READY', `no update is waiting to restart (${s.state})`, {
        state: s.state,
      });
    }
    const reasons = blockerReasons(this.o.blockers());
    if (reasons.length > 0) {
      throw new PosError('UPDATE_NOT_READY', `finish first: ${reasons.join(', ')}`, { waitingFor: reasons });
    }
    const held = await this.reboot();
    if (held.length > 0) {
      throw new PosError('UPDATE_NOT_READY', `finish first: ${held.join(', ')}`, { waitingFor: held });
    }
    return { restarting: true };
  }

  /**
   * Whether an `installing` left by an earlier posd can go on as it is: already recorded, written
   * in this boot (posd restarted, RAUC maybe still reading the bundle: it is not read again), or
   * its bundle whole on disk. A state without the command's url and size (it cannot be fetched
   * again) goes on, and RAUC's own signature check refuses a torn bundle.
   */
  private async bundleReady(s: UpdateState): Promise<boolean> {
    if (this.installRecorded(s)) return true;
    if (s.bootId !== undefined && s.bootId === this.bootId()) return true; // no power cut since
    if (s.url === undefined || s.size === undefined || s.sha256 === undefined) return true;
    return bundleMatches(this.bundleFile(s), s.size, s.sha256);
  }

  /** `update.installed` of this attempt is in the ledger (posd stopped after recording it). */
  private installRecorded(s: UpdateState): boolean {
    return (
      s.attemptId !== undefined &&
      Boolean(this.o.ledger.findLatest('update.installed', 'attemptId', s.attemptId))
    );
  }

  private bundleFile(s: UpdateState): string {
    return join(this.dir, `bundle-${(s.sha256 ?? 'x').slice(0, 16)}.raucb`);
  }

  private clearBundles(): void {
    if (!existsSync(this.dir)) return;
    for (const f of readdirSync(this.dir)) {
      try {
        unlinkSync(join(this.dir, f));
      } catch {
        // gone already
      }
    }
  }

  private changed(): void {
    try {
      this.o.onChange?.();
    } catch (err) {
      this.o.log.warn({ err: describeError(err) }, 'update state listener failed');
    }
  }

  private fail(error: string): void {
    this.o.log.warn({ version: this.state.version, error }, 'update failed');
    this.o.store.update({ state: 'failed', error, outcome: 'failed', outcomeAt: this.now().toISOString() });
    try {
      this.clearBundles();
    } catch {
      // nothing to clear
    }
    this.changed();
  }

  private async carryOn(): Promise<void> {
    try {
      let s = this.state;
      // A bundle left by an earlier posd is checked again before RAUC gets it: a power cut
      // may have left it short. What does not match is fetched again, not failed.
      const ready = s.state !== 'installing' || (await this.bundleReady(s));
      if (this.abort.signal.aborted) return; // stopping: RAUC is not asked to start now
      if (!ready) {
        this.o.log.warn(
          { version: s.version },
          'the bundle on disk is not the whole bundle; downloading it again',
        );
        this.clearBundles(); // the download would otherwise resume from its bytes
        s = this.o.store.update({ state: 'downloading', bytes: 0 });
        this.bytes = 0;
        this.changed();
      }
      if (s.state === 'downloading') {
        const file = this.bundleFile(s);
        await download({
          url: s.url!,
          file,
          size: s.size!,
          sha256: s.sha256!,
          log: this.o.log,
          signal: this.abort.signal,
          ...(this.o.backoff ? { backoff: this.o.backoff } : {}),
          onProgress: (bytes) => this.progress(bytes),
        });
        // The boot it was whole in: only a power cut (another boot) can tear it after this.
        const bootId = this.bootId();
        s = this.o.store.update({ state: 'installing', bytes: s.size, bootId });
        this.changed();
      }
      if (s.state === 'installing') {
        // Recorded already (posd stopped after the record, the bundle maybe removed): installed.
        if (!this.installRecorded(s)) {
          try {
            await this.o.installer.install(this.bundleFile(s));
          } catch (err) {
            // Stopping: `rauc install` dies with posd (its cgroup) while RAUC's service goes on;
            // the state file keeps `installing`, and the next start asks RAUC again.
            if (this.abort.signal.aborted) return;
            this.fail(`the installer refused the bundle: ${describeError(err)}`);
            return;
          }
          const slot = await checkWrittenSlot(
            {
              installer: this.o.installer,
              signal: this.abort.signal,
              retryMs: this.o.raucRetryMs ?? 5_000,
              log: this.o.log,
            },
            s.version,
          );
          if (slot === 'stopping') return; // the next start installs and checks again
          if (slot !== 'go-on') {
            this.fail(slot.error);
            return;
          }
          this.o.ledger.transact(() =>
            this.o.ledger.append('update.installed', {
              ...installedBody(s),
              cmdId: s.cmdId,
              attemptId: s.attemptId,
            }),
          );
          await this.o.ledger.durable();
        }
        this.o.store.update({ state: 'waiting-to-reboot', installedAt: this.now().toISOString() });
        this.clearBundles();
        this.o.log.info({ version: s.version }, 'update installed; rebooting at a safe moment');
        this.changed();
        this.watchForSafeMoment();
      }
    } catch (err) {
      if (this.abort.signal.aborted) return; // stopping: the state file says where to go on
      this.fail(err instanceof DownloadRefused ? err.message : `download failed: ${describeError(err)}`);
    }
  }

  private progress(bytes: number): void {
    this.bytes = bytes;
    const t = this.now().getTime();
    if (t - this.lastSaved < 1_000) return;
    this.lastSaved = t;
    this.o.store.update({ bytes });
    this.changed();
  }

  private watchForSafeMoment(): void {
    clearInterval(this.timer);
    const check = () => {
      if (this.state.state !== 'waiting-to-reboot') {
        clearInterval(this.timer);
        return;
      }
      if (!inWindow(this.o.window, this.now())) return;
      if (blockerReasons(this.o.blockers()).length > 0) return;
      clearInterval(this.timer);
      void this.reboot().catch((err: unknown) =>
        this.o.log.error({ err: describeError(err) }, 'update reboot failed'),
      );
    };
    this.timer = setInterval(check, this.o.checkEveryMs ?? 1_000);
    this.timer.unref();
    check();
  }

  /** One reboot at a time: a second caller waits for the one under way. */
  private reboot(): Promise<string[]> {
    // Started after the promise is kept, so that a caller reached from inside it finds it.
    this.rebooting ??= Promise.resolve()
      .then(() => this.rebootOnce())
      .finally(() => {
        this.rebooting = undefined;
      });
    return this.rebooting;
  }

  /**
   * Closes the hold (no new payment from here on), makes the ledger durable, checks the money
   * again (a payment may have started while waiting), then reboots. Returns what held it back.
   * A reboot command that fails leaves the update waiting; it looks for its moment again later.
   */
  private async rebootOnce(): Promise<string[]> {
    clearInterval(this.timer);
    this.o.hold?.close(this.state.version);
    try {
      await this.o.ledger.durable();
    } catch (err) {
      this.o.hold?.open();
      this.watchForSafeMoment();
      throw err;
    }
    const held = blockerReasons(this.o.blockers());
    if (held.length > 0) {
      this.o.hold?.open();
      this.o.log.info({ waitingFor: held }, 'money started moving before the reboot: it waits again');
      this.watchForSafeMoment();
      return held;
    }
    const bootId = this.bootId();
    this.o.store.update({
      state: 'rebooting',
      rebootAt: this.now().toISOString(),
      startsOfNew: 0,
      ...(bootId ? { bootId } : {}),
    });
    this.changed();
    this.o.log.warn({ version: this.state.version }, 'rebooting into the installed update');
    try {
      await this.o.reboot();
    } catch (err) {
      this.o.hold?.open();
      this.o.store.update({ state: 'waiting-to-reboot', error: `reboot failed: ${describeError(err)}` });
      this.changed();
      // Tried again later (not at every check: a command refused once is likely refused again).
      this.timer = setTimeout(() => this.watchForSafeMoment(), this.o.rebootRetryMs ?? 60_000);
      this.timer.unref();
      throw err;
    }
    return [];
  }
}
