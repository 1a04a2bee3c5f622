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

export function migrate(db: Db, migrations: readonly Migration[], log: Logger): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = latestVersion(migrations);
  if (current > latest) {
    throw new PosError(
      'DB_NEWER_THAN_CODE',
      `database schema version ${current} is newer than this posd understands (${latest}); refusing to touch it`,
      { current, latest },
    );
  }
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    try {
      db.transaction(() => {
        m.up(db);
        db.pragma(`user_version = ${m.version}`);
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
