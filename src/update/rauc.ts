import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** One slot as `rauc status --detailed --output-format=json` (rauc 1.8) tells it. */
export interface SlotInfo {
  name: string;
  class?: string;
  bootname?: string;
  /** RAUC's: `booted`, `active`, `inactive`. */
  state?: string;
  /** `good` | `bad` (the bootloader's view), absent for slots without a bootname. */
  bootStatus?: string;
  /** The bundle version installed there, when RAUC installed it. */
  version?: string;
  installedAt?: string;
  installCount?: number;
  activatedCount?: number;
}

export interface SlotStatus {
  compatible?: string;
  /** The booted slot's bootname. */
  booted?: string;
  /** The slot the bootloader boots first next time. */
  bootPrimary?: string;
  slots: SlotInfo[];
}

/** How posd installs and blesses slots; RAUC's CLI in production, a double in tests. */
export interface Installer {
  install(bundle: string): Promise<void>;
  /** undefined: no RAUC on this machine (a developer's PC, the demo). */
  status(): Promise<SlotStatus | undefined>;
  markGood(): Promise<void>;
  /** Makes the booted slot the one booted next again (after an install that must not be booted). */
  keepBooted(): Promise<void>;
}

export class InstallerError extends Error {
  constructor(
    message: string,
    readonly missing = false,
  ) {
    super(message);
    this.name = 'InstallerError';
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** Reads rauc 1.8's JSON: `{compatible, variant, booted, boot_primary, slots:[{name:{...}}]}`. */
export function parseRaucStatus(text: string): SlotStatus {
  const raw = JSON.parse(text) as Record<string, unknown>;
  const slots: SlotInfo[] = [];
  for (const entry of Array.isArray(raw.slots) ? raw.slots : []) {
    for (const [name, v] of Object.entries((entry ?? {}) as Record<string, Record<string, unknown>>)) {
      const st = (v?.slot_status ?? {}) as Record<string, Record<string, unknown> | undefined>;
      const slot: SlotInfo = { name };
      const fields: Partial<SlotInfo> = {
        class: str(v?.class),
        bootname: str(v?.bootname),
        state: str(v?.state),
        bootStatus: str(v?.boot_status),
        version: str(st.bundle?.version),
        installedAt: str(st.installed?.timestamp),
        installCount: num(st.installed?.count),
        activatedCount: num(st.activated?.count),
      };
      for (const [k, value] of Object.entries(fields)) {
        if (value !== undefined) (slot as unknown as Record<string, unknown>)[k] = value;
      }
      slots.push(slot);
    }
  }
  slots.sort((a, b) => a.name.localeCompare(b.name));
  return {
    ...(str(raw.compatible) ? { compatible: str(raw.compatible) } : {}),
    ...(str(raw.booted) ? { booted: str(raw.booted) } : {}),
    ...(str(raw.boot_primary) ? { bootPrimary: str(raw.boot_primary) } : {}),
    slots,
  };
}

function run(argv: readonly string[], timeoutMs: number): Promise<string> {
  const [cmd, ...args] = argv;
  return new Promise((resolve, reject) => {
    execFile(cmd!, args, { timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (!err) {
        resolve(stdout);
        return;
      }
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      const why = stderr.trim().split('\n').slice(-3).join(' ') || err.message;
      reject(new InstallerError(`${argv.slice(0, 3).join(' ')} failed: ${why}`.slice(0, 500), missing));
    });
  });
}

/** RAUC's service refuses a call while it runs another install (its D-Bus error). */
const BUSY = /already processing a different method/i;

/** RAUC through its command line (`update.rauc`, an argv prefix). */
export class RaucCli implements Installer {
  constructor(
    private readonly prefix: readonly string[],
    private readonly installTimeoutMs = 30 * 60_000,
    private readonly busyRetryMs = 5_000,
  ) {}

  /**
   * Installs; while RAUC's service is still busy with an install started before posd restarted
   * (its `rauc install` client died with it, the service went on), waits and asks again, rather
   * than reporting `failed` for an install that is in fact under way.
   */
  async install(bundle: string): Promise<void> {
    const deadline = Date.now() + this.installTimeoutMs;
    for (;;) {
      try {
        await run([...this.prefix, 'install', bundle], Math.max(1_000, deadline - Date.now()));
        return;
      } catch (err) {
        if (!(err instanceof InstallerError && BUSY.test(err.message)) || Date.now() >= deadline) throw err;
        await sleep(this.busyRetryMs);
      }
    }
  }

  async status(): Promise<SlotStatus | undefined> {
    try {
      return parseRaucStatus(
        await run([...this.prefix, 'status', '--detailed', '--output-format=json'], 30_000),
      );
    } catch (err) {
      if (err instanceof InstallerError && err.missing) return undefined;
      throw err;
    }
  }

  async markGood(): Promise<void> {
    await run([...this.prefix, 'status', 'mark-good'], 30_000);
  }

  async keepBooted(): Promise<void> {
    await run([...this.prefix, 'status', 'mark-active', 'booted'], 30_000);
  }
}
