import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { describeError, PosError } from '../errors.js';
import type { Logger } from '../log.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import { storageError } from './storage-errors.js';

export type Db = Database.Database;

export interface OpenOptions {
  file: string;
  log: Logger;
  migrations?: readonly Migration[];
  /**
   * NORMAL: commits are not fsynced by SQLite; a `GroupCommit` makes them durable (decision
   * 0005). FULL (the default): every commit is on disk when it returns.
   */
  synchronous?: 'FULL' | 'NORMAL';
}

/**
 * Opens the ledger database: WAL with synchronous=FULL (a commit is on disk before we answer) or
 * NORMAL under a group commit (the daemon: durable before it answers, decision 0005),
 * foreign keys on, migrations by user_version; refuses a database written by newer code.
 */
export function openDatabase({ file, log, migrations = MIGRATIONS, synchronous = 'FULL' }: OpenOptions): Db {
  mkdirSync(dirname(file), { recursive: true, mode: 0o750 });
  let db: Db;
  try {
    // Created 0640 before SQLite opens it: SQLite gives the -wal and -shm files the same mode, so
    // the ledger is never world-readable, whatever the umask (outside systemd it is often 022);
    // the group (posd) may read it, so the technician's `posd doctor` can (systemd/posd.tmpfiles).
    if (!existsSync(file)) closeSync(openSync(file, 'a', 0o640));
    db = new Database(file, { timeout: 5_000 });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
    db.pragma('foreign_keys = ON');
    db.pragma('trusted_schema = OFF');
  } catch (err) {
    throw storageError(err, dirname(file));
  }
  try {
    migrate(db, migrations, log);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

export function latestVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

/** The lowest schema version whose code may still use this database (decision 0007), if marked. */
export function compatibleDownTo(db: Db): number | undefined {
  try {
    const row = db.prepare("SELECT value FROM meta WHERE key = 'compatible_down_to'").get() as
      | { value: string }
      | undefined;
    return row ? Number(row.value) : undefined;
  } catch {
    return undefined; // no meta table: an empty or foreign file
  }
}

/**
 * Whether code knowing schemas up to `latest` may use a database at `current`: always when it
 * is not newer; a newer one only when it says it is compatible down to `latest` or below.
 */
export function schemaUsable(
  db: Db,
  latest: number,
): { ok: true } | { ok: false; compatibleDownTo?: number } {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current <= latest) return { ok: true };
  const down = compatibleDownTo(db);
  if (down !== undefined && Number.isSafeInteger(down) && down <= latest) return { ok: true };
  return down === undefined ? { ok: false } : { ok: false, compatibleDownTo: down };
}

export function migrate(db: Db, migrations: readonly Migration[], log: Logger): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = latestVersion(migrations);
  if (current > latest) {
    const usable = schemaUsable(db, latest);
    if (!usable.ok) {
      throw new PosError(
        'DB_NEWER_THAN_CODE',
        `database schema version ${current} is newer than this posd understands (${latest})${
          usable.compatibleDownTo === undefined ? '' : ` and needs ${usable.compatibleDownTo} or newer`
        }; refusing to touch it`,
        { current, latest, ...usable },
      );
    }
    // A newer version's additive migrations (an update rolled back): used as it is, never migrated.
    log.warn(
      { current, latest, compatibleDownTo: compatibleDownTo(db) },
      'database from a newer posd, compatible',
    );
    return;
  }
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    try {
      db.transaction(() => {
        m.up(db);
        db.pragma(`user_version = ${m.version}`);
        markCompatibility(db, m);
      }).immediate();
    } catch (err) {
      throw new PosError(
        'DB_MIGRATION_FAILED',
        `migration ${m.version} (${m.name}) failed: ${describeError(err)}`,
        { version: m.version },
        err,
      );
    }
    log.info({ version: m.version, name: m.name }, 'database migrated');
  }
}

/** After each migration: an additive one keeps the mark, any other raises it to its own version. */
function markCompatibility(db: Db, m: Migration): void {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  if (!exists) return; // before the ledger's first migration made it
  const down = compatibleDownTo(db);
  const next = m.additive && down !== undefined ? down : m.version;
  db.prepare(
    "INSERT INTO meta (key, value) VALUES ('compatible_down_to', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  ).run(String(next));
}
