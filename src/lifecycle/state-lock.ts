import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describeError, PosError } from '../errors.js';

/**
 * One daemon per state dir. The lock is an exclusive SQLite file lock (POSIX fcntl), which the
 * kernel releases when the process dies, even by SIGKILL: no stale pid files to clean up.
 */
export class StateLock {
  private constructor(private readonly db: Database.Database) {}

  static acquire(stateDir: string): StateLock {
    try {
      // posd and its group (the technician's `posd doctor`) only, never others (as StateDirectoryMode).
      mkdirSync(stateDir, { recursive: true, mode: 0o750 });
    } catch (err) {
      throw new PosError('STATE_DIR_UNUSABLE', `cannot create state dir ${stateDir}: ${describeError(err)}`, {
        stateDir,
      });
    }
    const file = join(stateDir, 'posd.lock');
    let db: Database.Database;
    try {
      db = new Database(file, { timeout: 0 });
    } catch (err) {
      throw new PosError('STATE_DIR_UNUSABLE', `cannot open ${file}: ${describeError(err)}`, { stateDir });
    }
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
      db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL) STRICT');
      db.exec('DELETE FROM holder');
      db.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid);
      db.exec('COMMIT');
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
        const holder = StateLock.holderPid(stateDir);
        throw new PosError(
          'STATE_LOCKED',
          `state dir ${stateDir} is in use by another posd${holder ? ` (pid ${holder})` : ''}; refusing to start`,
          { stateDir, pid: holder },
        );
      }
      if ((err as { code?: string }).code?.startsWith('SQLITE_READONLY')) {
        throw new PosError(
          'STORAGE_READ_ONLY',
          `state dir ${stateDir} is on read-only storage`,
          { stateDir },
          err,
        );
      }
      throw new PosError(
        'STATE_DIR_UNUSABLE',
        `cannot lock ${file}: ${describeError(err)}`,
        { stateDir },
        err,
      );
    }
    try {
      writeFileSync(join(stateDir, 'posd.pid'), `${process.pid}\n`);
    } catch {
      // The pid file only improves the message a second daemon prints.
    }
    return new StateLock(db);
  }

  /** Whether a daemon holds the state dir now, without taking it. */
  static isHeld(stateDir: string): boolean {
    try {
      StateLock.acquire(stateDir).release();
      return false;
    } catch (err) {
      if (err instanceof PosError && err.code === 'STATE_LOCKED') return true;
      throw err;
    }
  }

  private static holderPid(stateDir: string): number | undefined {
    try {
      const pid = Number.parseInt(readFileSync(join(stateDir, 'posd.pid'), 'utf8'), 10);
      return Number.isFinite(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  release(): void {
    if (this.db.open) this.db.close();
  }
}
