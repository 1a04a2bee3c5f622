import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { describeError, PosError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Ledger } from '../offline/ledger.js';
import type { AppRegistry, InstalledApp } from './app-registry.js';
import { type AppPackage, appLabel, checkPackage, type PackageExpectation } from './package-check.js';

export interface AppInstallerOptions {
  registry: AppRegistry;
  ledger: Ledger;
  /** `{stateDir}/apps`. */
  root: string;
  log: Logger;
  now?: () => Date;
  /** After an app is removed or replaced: its sessions end at once. */
  onRemoved?: (appId: string) => void;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Installs and removes store apps atomically: a package is checked whole in memory, written to a
 * staging folder, synced, renamed into its own version folder, and only then does one transaction
 * point the app at it and record `app.installed`. A failure at any step leaves the previous
 * version in place and serving; the old folder goes only after the commit.
 */
export class AppInstaller {
  private readonly now: () => Date;

  constructor(private readonly o: AppInstallerOptions) {
    this.now = o.now ?? (() => new Date());
    mkdirSync(o.root, { recursive: true, mode: 0o750 });
    this.sweep();
  }

  /** Checks and installs; APP_PACKAGE_INVALID (nothing written) or CONFLICT for a taken label. */
  install(gz: Uint8Array, expect?: PackageExpectation): InstalledApp {
    const pkg = checkPackage(gz, expect);
    const { manifest } = pkg;
    const label = appLabel(manifest.id);
    const taken = this.o.registry.byLabel(label);
    if (taken && taken.appId !== manifest.id) {
      throw new PosError(
        'CONFLICT',
        `app ${taken.appId} already serves at ${label}; ids must differ after . → -`,
      );
    }
    const dir = join(this.o.root, manifest.id, `${manifest.version}-${randomBytes(4).toString('hex')}`);
    this.writeFiles(pkg, dir);
    const previous = this.o.registry.get(manifest.id);
    const app: InstalledApp = {
      appId: manifest.id,
      label,
      name: manifest.name,
      version: manifest.version,
      scopes: manifest.scopes,
      entry: manifest.entry,
      dir,
      installedAt: this.now().toISOString(),
    };
    try {
      this.o.ledger.transact(() => {
        this.o.registry.putInTransaction(app);
        this.o.ledger.append('app.installed', {
          appId: app.appId,
          version: app.version,
          scopes: app.scopes,
        });
      });
    } catch (err) {
      this.o.registry.reload();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    this.o.registry.reload();
    if (previous) {
      // Sessions carry the scopes they were given: an upgrade with other scopes starts afresh.
      this.o.onRemoved?.(previous.appId);
      this.discard(previous.dir);
    }
    this.o.log.info({ appId: app.appId, version: app.version, scopes: app.scopes }, 'app installed');
    return app;
  }

  /** True when it was installed; records `app.removed` and ends its sessions. */
  remove(appId: string): boolean {
    const app = this.o.registry.get(appId);
    if (!app) return false;
    try {
      this.o.ledger.transact(() => {
        this.o.registry.deleteInTransaction(appId);
        this.o.ledger.append('app.removed', { appId });
      });
    } finally {
      this.o.registry.reload();
    }
    this.o.onRemoved?.(appId);
    this.discard(join(this.o.root, appId));
    this.o.log.info({ appId }, 'app removed');
    return true;
  }

  private writeFiles(pkg: AppPackage, dir: string): void {
    const staging = join(this.o.root, `.staging-${randomBytes(6).toString('hex')}`);
    try {
      mkdirSync(staging, { mode: 0o750 });
      const dirs = new Set<string>([staging]);
      for (const [path, data] of pkg.files) {
        const file = join(staging, path);
        const parent = dirname(file);
        if (!dirs.has(parent)) {
          mkdirSync(parent, { recursive: true, mode: 0o750 });
          dirs.add(parent);
        }
        // 'wx': never through something already there.
        const fd = openSync(file, 'wx', 0o640);
        try {
          let off = 0;
          while (off < data.length) off += writeSync(fd, data, off, data.length - off);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
      for (const d of dirs) fsyncDir(d);
      mkdirSync(dirname(dir), { recursive: true, mode: 0o750 });
      renameSync(staging, dir);
      fsyncDir(dirname(dir));
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      throw new PosError('STORAGE_FAILED', `could not write the app's files: ${describeError(err)}`, {}, err);
    }
  }

  private discard(path: string): void {
    try {
      rmSync(path, { recursive: true, force: true });
    } catch (err) {
      this.o.log.warn({ err: describeError(err) }, 'old app files not removed');
    }
  }

  /** After a crash: staging folders and versions no app points at are leftovers. */
  private sweep(): void {
    const live = new Set(this.o.registry.list().map((a) => a.dir));
    for (const name of readdirSync(this.o.root)) {
      const path = join(this.o.root, name);
      if (name.startsWith('.staging-')) {
        this.discard(path);
        continue;
      }
      let versions: string[];
      try {
        versions = readdirSync(path);
      } catch {
        continue;
      }
      for (const v of versions) if (!live.has(join(path, v))) this.discard(join(path, v));
    }
  }
}
