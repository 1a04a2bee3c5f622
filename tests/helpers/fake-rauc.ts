import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const SCRIPT = resolve(import.meta.dirname, 'fake-rauc.mjs');

export interface FakeRaucState {
  booted: string;
  primary?: string;
  installVersion?: string;
  refuse?: string;
  /** The next N installs are refused as RAUC refuses one while another runs. */
  busy?: number;
  /** The next N `status mark-active booted` fail. */
  markActiveFailures?: number;
  calls?: Array<{ cmd: string; sha256?: string; at?: string }>;
  slots: Record<string, { bootname: string; version?: string; boot_status?: string }>;
}

/** The rauc double (tests/helpers/fake-rauc.mjs) and its state file, in `dir`. */
export class FakeRauc {
  readonly file: string;

  constructor(
    dir: string,
    initial: Partial<FakeRaucState> & { bootedVersion?: string; otherVersion?: string } = {},
  ) {
    this.file = join(dir, 'fake-rauc.json');
    const { bootedVersion, otherVersion, ...rest } = initial;
    const state: FakeRaucState = {
      booted: 'A',
      slots: {
        'rootfs.0': { bootname: 'A', ...(bootedVersion ? { version: bootedVersion } : {}) },
        'rootfs.1': { bootname: 'B', ...(otherVersion ? { version: otherVersion } : {}) },
      },
      calls: [],
      ...rest,
    };
    writeFileSync(this.file, JSON.stringify(state, null, 2));
  }

  /** `update.rauc` */
  get argv(): string[] {
    return [process.execPath, SCRIPT, this.file];
  }

  /** `update.reboot` */
  get rebootArgv(): string[] {
    return [process.execPath, SCRIPT, this.file, 'reboot'];
  }

  state(): FakeRaucState {
    return JSON.parse(readFileSync(this.file, 'utf8')) as FakeRaucState;
  }

  calls(cmd?: string): Array<{ cmd: string; sha256?: string; at?: string }> {
    return (this.state().calls ?? []).filter((c) => cmd === undefined || c.cmd === cmd);
  }

  /** Whole, by a rename: a `rauc` call running meanwhile never reads it half written. */
  patch(p: Partial<FakeRaucState>): void {
    writeFileSync(`${this.file}.patch`, JSON.stringify({ ...this.state(), ...p }, null, 2));
    renameSync(`${this.file}.patch`, this.file);
  }
}
