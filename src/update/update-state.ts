import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type UpdatePhase =
  | 'idle'
  | 'downloading'
  | 'installing'
  | 'waiting-to-reboot'
  | 'rebooting'
  | 'rolled-back'
  | 'failed';

/**
 * What was attempted, on the data partition: the version that boots next (new or old) reads it
 * to know whether it is the update's result or what came back after it failed.
 */
export interface UpdateState {
  state: UpdatePhase;
  /** The version being installed (or last attempted). */
  version?: string;
  /** The posd version that took the command. */
  fromVersion?: string;
  url?: string;
  sha256?: string;
  size?: number;
  /** Bytes of the bundle on disk. */
  bytes?: number;
  error?: string;
  cmdId?: string;
  /** Set once RAUC installed the bundle into the other slot. */
  installedAt?: string;
  /** When the reboot was asked for. */
  rebootAt?: string;
  /** Times the new version started after the reboot (counted before it is healthy). */
  startsOfNew?: number;
  /**
   * The kernel's boot id when the reboot was asked for (`rebooting`), or when the bundle was
   * whole on disk (`installing`): a posd restart is not a reboot.
   */
  bootId?: string;
  /** Booted into while still `installing` (a power cut as RAUC finished): `update.installed` comes with the outcome. */
  installUnrecorded?: boolean;
  /** One id per attempt, in its ledger records (recorded once each). */
  attemptId?: string;
  /** How the last attempt ended. */
  outcome?: 'activated' | 'rolled-back' | 'failed';
  outcomeAt?: string;
  /** The rollback's reason, as recorded in `update.rolled-back`. */
  reason?: string;
  updatedAt?: string;
}

export const UPDATE_STATE_FILE = 'update-state.json';

/**
 * Whether two version strings name the same release: equal, or equal but for build metadata
 * (`+…`, semver: not part of the version's identity) that only one of them carries. A command
 * saying `1.4.0` for a bundle whose posd says `1.4.0+g1a2b3c` is not a rollback.
 */
export function sameRelease(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  if (a === b) return true;
  const [coreA, buildA] = a.split('+', 2);
  const [coreB, buildB] = b.split('+', 2);
  return coreA === coreB && (buildA === undefined || buildB === undefined);
}

const PHASES = new Set<string>([
  'idle',
  'downloading',
  'installing',
  'waiting-to-reboot',
  'rebooting',
  'rolled-back',
  'failed',
]);

/** `{stateDir}/update-state.json`, written atomically (tmp + fsync + rename + fsync of the folder). */
export class UpdateStateStore {
  readonly file: string;
  private current: UpdateState;

  constructor(
    stateDir: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.file = join(stateDir, UPDATE_STATE_FILE);
    this.current = this.load();
  }

  get(): UpdateState {
    return { ...this.current };
  }

  /** Replaces the state and puts it on disk before returning. */
  set(next: UpdateState): UpdateState {
    this.current = { ...next, updatedAt: this.now().toISOString() };
    writeAtomically(this.file, `${JSON.stringify(this.current, null, 2)}\n`);
    return this.get();
  }

  update(patch: Partial<UpdateState>): UpdateState {
    return this.set({ ...this.current, ...patch });
  }

  private load(): UpdateState {
    try {
      const raw = JSON.parse(readFileSync(this.file, 'utf8')) as UpdateState;
      if (raw && typeof raw === 'object' && PHASES.has(raw.state)) return raw;
    } catch {
      // none yet (the usual case) or unreadable: nothing was attempted that we can act on
    }
    return { state: 'idle' };
  }
}

/** What `update.installed` says of the bundle (with the attempt's `cmdId` and `attemptId`). */
export function installedBody(s: UpdateState): Record<string, unknown> {
  return { version: s.version, fromVersion: s.fromVersion, sha256: s.sha256, size: s.size };
}

export function writeAtomically(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o750 });
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o640);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
