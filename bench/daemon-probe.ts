import { type ChildProcess, execFileSync, fork, type Serializable, spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { type Agent, request } from 'node:http';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nowMs } from './stats.js';

/** Event-loop lag of a daemon started with `lagProbeArgs()` and an `ipc` stdio slot. */
export interface Lag {
  p50: number;
  p99: number;
  max: number;
}

export function lagProbeArgs(): string[] {
  return ['--import', pathToFileURL(resolve(import.meta.dirname, 'lag-probe.js')).href];
}

export function resetLag(child: ChildProcess): void {
  child.send('lag-reset');
}

export function readLag(child: ChildProcess): Promise<Lag> {
  return new Promise((resolveLag, reject) => {
    const onMessage = (m: unknown) => {
      const lag = (m as { lag?: Lag } | null)?.lag;
      if (!lag) return;
      child.off('message', onMessage);
      resolveLag(lag);
    };
    child.on('message', onMessage);
    child.send('lag-read', (err) => err && reject(err));
  });
}

/** Builds `bench/fsync-delay.c` into `dir` (cc is on the terminal's build host and here). */
export function buildFsyncShim(dir: string): string {
  const src = resolve(import.meta.dirname, '../../bench/fsync-delay.c');
  const out = join(dir, 'fsync-delay.so');
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', out, src, '-ldl']);
  return out;
}

/** fsync + fdatasync calls counted so far by the shim (its shared counter file). */
export function fsyncCount(countFile: string): number {
  try {
    const b = readFileSync(countFile);
    return Number(b.readBigUInt64LE(0) + b.readBigUInt64LE(8));
  } catch {
    return 0;
  }
}

/** Bytes a process has caused to be written to storage, and passed to write() (`/proc/pid/io`). */
export function processIo(pid: number): { writeBytes: number; wchar: number } {
  const text = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { writeBytes: field('write_bytes'), wchar: field('wchar') };
}

/** The built daemon in `dir` on `port`, with the lag probe loaded; `env` adds to the environment. */
export async function startBenchDaemon(
  dir: string,
  port: number,
  env: Record<string, string> = {},
  extraConfig: Record<string, unknown> = {},
): Promise<{ child: ChildProcess; token: string; stateDir: string }> {
  const config = join(dir, 'posd.json');
  const stateDir = join(dir, 'state');
  writeFileSync(
    config,
    JSON.stringify({
      device: { tenant: 'b', id: 'B1' },
      stateDir,
      ui: { port },
      log: { level: 'warn' },
      ...extraConfig,
    }),
  );
  const main = resolve(import.meta.dirname, '../src/main.js');
  const child = spawn(process.execPath, [...lagProbeArgs(), main, 'run', '--config', config], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  for (let i = 0; i < 400; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, token: readFileSync(join(stateDir, 'ui-token'), 'utf8').trim(), stateDir };
}

/** A bench helper script (`bench/*.ts`, built) in its own process; resolves with its `{port}`. */
export async function forkHelper(name: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(resolve(import.meta.dirname, `${name}.js`), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolvePort) => {
    child.on('message', (m: unknown) => {
      const p = (m as { port?: number } | null)?.port;
      if (p !== undefined) resolvePort(p);
    });
  });
  return { child, port };
}

/** Asks a helper over IPC and resolves with the named field of its answer. */
export function askHelper<T>(child: ChildProcess, question: Serializable, field: string): Promise<T> {
  return new Promise((resolveAnswer) => {
    const onMessage = (m: unknown) => {
      const v = (m as Record<string, unknown> | null)?.[field];
      if (v === undefined) return;
      child.off('message', onMessage);
      resolveAnswer(v as T);
    };
    child.on('message', onMessage);
    child.send(question);
  });
}

/** Total size of the files in a directory (the ledger database, its WAL, receipts…). */
export function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) n += statSync(join(e.parentPath, e.name)).size;
  return n;
}

/** POSTs one sale to the daemon's local API; resolves with its latency (ms) once answered 201. */
export function postSale(port: number, token: string, agent: Agent, body: string): Promise<number> {
  return new Promise<number>((resolvePost, reject) => {
    const t0 = nowMs();
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/v1/sales',
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 201 ? resolvePost(nowMs() - t0) : reject(new Error(`HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
