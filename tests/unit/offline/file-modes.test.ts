import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateLock } from '../../../src/lifecycle/state-lock.js';
import { openDatabase } from '../../../src/offline/db.js';
import { tempDir } from '../../helpers/daemon.js';
import { silentLogger } from '../../helpers/test-log.js';

describe('state dir and ledger file modes', () => {
  it('outside systemd (umask 022) the state dir is 0750 and posd.db, its WAL and SHM are 0640: never world-readable, readable by the technician group', () => {
    const old = process.umask(0o022);
    try {
      const stateDir = join(tempDir('posd-modes-'), 'state');
      const lock = StateLock.acquire(stateDir);
      const db = openDatabase({ file: join(stateDir, 'posd.db'), log: silentLogger() });
      db.prepare('CREATE TABLE IF NOT EXISTS t (x)').run();
      db.prepare('INSERT INTO t VALUES (1)').run();
      expect(statSync(stateDir).mode & 0o777).toBe(0o750);
      for (const f of ['posd.db', 'posd.db-wal', 'posd.db-shm']) {
        expect(statSync(join(stateDir, f)).mode & 0o777, f).toBe(0o640);
      }
      db.close();
      lock.release();
    } finally {
      process.umask(old);
    }
  });
});
