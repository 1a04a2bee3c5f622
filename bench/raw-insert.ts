import { fork } from 'node:child_process';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { nowMs, summarize } from './stats.js';

/*
 * The storage floor: one raw insert per transaction (WAL, synchronous=FULL: one fsync per commit),
 * a row of the size a sale writes. Run in this process, or forked (`rawInsertsForked`) so the
 * fsync-delay shim can be preloaded into it as into the daemon (eMMC conditions).
 */

export interface RawResult {
  rate: number;
  p50: number;
  p99: number;
}

export function rawInserts(dir: string, n: number, body: string): RawResult {
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT NOT NULL) STRICT');
  const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
  const tx = db.transaction((b: string) => insert.run(b));
  const latencies: number[] = [];
  const start = nowMs();
  for (let i = 0; i < n; i++) {
    const t0 = nowMs();
    tx.immediate(body);
    latencies.push(nowMs() - t0);
  }
  const seconds = (nowMs() - start) / 1000;
  db.close();
  const s = summarize(latencies);
  return { rate: n / seconds, p50: s.p50, p99: s.p99 };
}

/** The same in a child process with `env` added (LD_PRELOAD of the shim, its delay). */
export function rawInsertsForked(
  dir: string,
  n: number,
  body: string,
  env: Record<string, string>,
): Promise<RawResult> {
  const child = fork(resolve(import.meta.dirname, 'raw-insert.js'), [dir, String(n)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  return new Promise((resolveRun, reject) => {
    child.once('message', (m) => resolveRun(m as RawResult));
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`raw-insert child exited ${code}`)));
    child.send(body);
  });
}

// Forked: the body arrives over IPC, the result goes back, then the child exits.
if (process.send && process.argv[1] === resolve(import.meta.dirname, 'raw-insert.js')) {
  const [dir, n] = process.argv.slice(2);
  process.once('message', (body) => {
    process.send?.(rawInserts(dir!, Number(n), String(body)), undefined, undefined, () => process.exit(0));
  });
}
