import { uptime } from 'node:os';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { currentBootId } from './boot-id.js';
import type { Installer, SlotStatus } from './rauc.js';
import type { UpdateLedger } from './update-service.js';
import { installedBody, sameRelease, type UpdateState, type UpdateStateStore } from './update-state.js';

export interface BootHealthOptions {
  store: UpdateStateStore;
  installer: Installer;
  appVersion: string;
  ledger: UpdateLedger;
  log: Logger;
  /** Resolves once the cloud has been reached (at once without a cloud). */
  cloudReached: () => Promise<void>;
  /** The cloud need not be reached when this much time passed since READY. */
  graceMs: number;
  onChange?: () => void;
  bootId?: () => string | undefined;
  /** Wait before trying mark-good again after it failed. */
  retryMs?: number;
  now?: () => Date;
  /** Time since the kernel booted. */
  uptimeMs?: () => number;
  /** Time since this posd process started. */
  processUptimeMs?: () => number;
  /** When a boot still on trial is rebooted, from the kernel's boot (the image's posd-trial-deadline.timer). */
  trialDeadlineMs?: number;
}

/** The image's posd-trial-deadline.timer: `OnBootSec=15min`. */
export const TRIAL_DEADLINE_MS = 15 * 60_000;
/** Before the trial deadline: room for mark-good and a few of its retries. */
const MARK_GOOD_MARGIN_MS = 2 * 60_000;
/** A posd started this long after the kernel is a restart within the trial, not its first start. */
const FIRST_START_MS = 5 * 60_000;

/** Was a reboot asked for by this boot (a posd restart, not a reboot)? */
function sameBoot(s: UpdateState, bootId: string | undefined): boolean {
  return s.bootId !== undefined && bootId !== undefined && s.bootId === bootId;
}

/** Did an update's reboot bring this boot (its outcome not yet told)? */
function rebootedInto(s: UpdateState, bootId: string | undefined): boolean {
  return s.state === 'rebooting' && !sameBoot(s, bootId);
}

/**
 * After a boot: counts the new version's starts, blesses the booted slot (`rauc status
 * mark-good`) once posd is healthy (READY sent, ledger migrated, the cloud reached or the grace
 * over), and tells the update's outcome: `update.activated` or `update.rolled-back`.
 */
export class BootHealth {
  private graceTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Set once the slot was marked good (or there is no RAUC). */
  markedGood: boolean | undefined;
  private readonly bootId: () => string | undefined;
  private readonly now: () => Date;

  constructor(private readonly o: BootHealthOptions) {
    this.bootId = o.bootId ?? currentBootId;
    this.now = o.now ?? (() => new Date());
  }

  /**
   * Before READY (and before the update service resumes): a start of the new version is counted,
   * healthy or not (a crash loop shows). An update still installing or waiting for its reboot
   * while its own version runs has been booted into already (RAUC makes the slot primary when
   * the install ends, and a power cut or another reboot came first): that boot is its reboot,
   * judged as one, not followed by another (nor by an install over the slot just left, the one
   * to fall back to). Its `update.installed`, if posd had not recorded it, comes with the outcome.
   */
  countStart(): void {
    let s = this.o.store.get();
    const early = s.state === 'installing' || s.state === 'waiting-to-reboot';
    if (early && sameRelease(s.version, this.o.appVersion)) {
      this.o.log.warn(
        { version: s.version, state: s.state },
        'the installed update booted before its reboot: taken as rebooted',
      );
      s = this.o.store.update({
        ...(s.state === 'installing' ? { installUnrecorded: true } : {}),
        error: undefined,
        state: 'rebooting',
        rebootAt: s.rebootAt ?? s.installedAt ?? this.now().toISOString(),
        startsOfNew: 0,
        bootId: undefined,
      });
    }
    if (!rebootedInto(s, this.bootId()) || !sameRelease(s.version, this.o.appVersion)) return;
    this.o.store.update({ startsOfNew: (s.startsOfNew ?? 0) + 1 });
  }

  /** After READY: waits for the cloud (or the grace), then blesses the slot and reports. */
  async afterReady(): Promise<void> {
    const graceMs = this.graceWithinTrial();
    await new Promise<void>((resolve) => {
      this.graceTimer = setTimeout(resolve, graceMs);
      this.graceTimer.unref();
      this.o.cloudReached().then(resolve, () => {});
    });
    clearTimeout(this.graceTimer);
    // A failed mark-good (RAUC's service busy or restarting) is tried again: unblessed, the
    // boot loader's trial would end in a fallback although posd is healthy.
    while (!this.stopped) {
      await this.settle();
      if (this.markedGood !== false) return;
      await new Promise<void>((resolve) => {
        this.graceTimer = setTimeout(resolve, this.o.retryMs ?? 30_000);
        this.graceTimer.unref();
      });
    }
  }

  /**
   * The grace, on a boot on trial ended early enough for the slot to be blessed before the trial
   * deadline: that reboot checks no money, so a healthy slot whose cloud stays away must not meet
   * it. Only for the boot's first posd: a later one is a restart after a failure.
   */
  private graceWithinTrial(): number {
    const s = this.o.store.get();
    if (!rebootedInto(s, this.bootId())) return this.o.graceMs;
    const uptimeMs = this.o.uptimeMs?.() ?? uptime() * 1000;
    // A posd restarted late in the trial (a crash) gets its whole grace: the deadline, and then
    // the fallback, are the right answer to a slot that keeps failing.
    const startedAfterBootMs = uptimeMs - (this.o.processUptimeMs?.() ?? process.uptime() * 1000);
    if (startedAfterBootMs > FIRST_START_MS) return this.o.graceMs;
    const left = (this.o.trialDeadlineMs ?? TRIAL_DEADLINE_MS) - uptimeMs - MARK_GOOD_MARGIN_MS;
    if (this.o.graceMs <= left) return this.o.graceMs;
    const graceMs = Math.max(0, left);
    this.o.log.warn(
      { healthGraceMs: this.o.graceMs, graceMs, uptimeMs },
      'update.healthGraceSeconds would end after the trial deadline: shortened',
    );
    return graceMs;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.graceTimer);
  }

  private async settle(): Promise<void> {
    let status: SlotStatus | undefined;
    try {
      status = await this.o.installer.status();
      if (status) await this.o.installer.markGood();
      this.markedGood = true;
      if (status) this.o.log.info({ booted: status.booted }, 'booted slot marked good');
    } catch (err) {
      this.markedGood = false;
      this.o.log.error({ err: describeError(err) }, 'could not mark the booted slot good');
      return; // unblessed: the bootloader's counting decides; nothing is reported as activated
    }
    const s = this.o.store.get();
    if (!rebootedInto(s, this.bootId())) return;
    // Booted before posd recorded the install (a power cut as RAUC finished): recorded now.
    if (s.installUnrecorded) {
      this.record('update.installed', s, installedBody(s));
    }
    const at = this.now().toISOString();
    const activated = sameRelease(s.version, this.o.appVersion);
    const reason = activated ? undefined : rollbackReason(s, status, this.o.appVersion);
    const slot = status?.booted ? { slot: status.booted } : {};
    const starts = s.startsOfNew ?? 0;
    if (activated) {
      this.record('update.activated', s, { version: s.version, fromVersion: s.fromVersion, starts, ...slot });
    } else {
      this.record('update.rolled-back', s, {
        version: s.version,
        fromVersion: s.fromVersion,
        running: this.o.appVersion,
        reason,
        starts,
        ...slot,
      });
    }
    // The records on disk before the state file moves on: a power cut between them must leave
    // the state that records them again (once each, by attempt), not an outcome without them.
    try {
      await this.o.ledger.durable();
    } catch (err) {
      this.o.log.error({ err: describeError(err) }, 'the update outcome could not be made durable');
      return;
    }
    this.o.store.set({
      ...s,
      ...(activated
        ? { state: 'idle', error: undefined, outcome: 'activated' }
        : { state: 'rolled-back', reason, error: reason, outcome: 'rolled-back' }),
      installUnrecorded: undefined,
      outcomeAt: at,
    });
    if (activated) this.o.log.info({ version: s.version, fromVersion: s.fromVersion }, 'update activated');
    else this.o.log.warn({ version: s.version, reason }, 'update rolled back');
    this.o.onChange?.();
  }

  /** Once per attempt: a restart between the record and the state file does not record it twice. */
  private record(type: string, s: UpdateState, body: Record<string, unknown>): void {
    const attemptId = s.attemptId ?? `${s.version}/${s.rebootAt}`;
    this.o.ledger.transact(() => {
      if (this.o.ledger.findLatest(type, 'attemptId', attemptId)) return;
      this.o.ledger.append(type, { ...body, cmdId: s.cmdId, attemptId });
    });
  }
}

/** Why the old version is running: how often the new one started and what RAUC says of its slot. */
export function rollbackReason(s: UpdateState, status: SlotStatus | undefined, running: string): string {
  const starts = s.startsOfNew ?? 0;
  const parts = [
    starts === 0
      ? `${s.version} never started posd after the reboot`
      : `${s.version} started posd ${starts} time(s) without becoming healthy`,
    `${running} is running again`,
  ];
  const other = status?.slots.find(
    (slot) => slot.bootname && slot.bootname !== status.booted && slot.class !== 'boot',
  );
  if (other) {
    parts.push(
      `slot ${other.name} (${other.bootname}) is ${other.state ?? '?'}, boot status ${other.bootStatus ?? '?'}${
        other.version ? `, holds ${other.version}` : ''
      }`,
    );
  }
  return parts.join('; ');
}
