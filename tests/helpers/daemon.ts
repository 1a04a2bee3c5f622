import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor } from './wait.js';

export const MAIN_JS = resolve(import.meta.dirname, '../../dist/src/main.js');

export function tempDir(prefix = 'posd-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The kernel's ephemeral range starts here: outgoing connections and `listen(0)` take ports from it. */
function ephemeralLow(): number {
  const [low = 32_768] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
    .trim()
    .split(/\s+/)
    .map(Number);
  return low;
}

/** Below the ephemeral range: refused ports from the lower part, ports to listen on from the upper. */
function portRanges(): { refused: [number, number]; listen: [number, number] } {
  const low = ephemeralLow();
  const from = Math.min(10_000, low - 2_000);
  const middle = from + Math.floor((low - from) / 2);
  return { refused: [from, middle], listen: [middle, low] };
}

const handedOut = new Set<number>();

/**
 * A port a test's server (mosquitto, a daemon's UI, a proxy) listens on later, free when asked for.
 * Below the kernel's ephemeral range: an outgoing connection of a test running beside this one, or
 * its `listen(0)`, never takes it in the meantime (from the ephemeral range, a broker stopped and
 * started again could find its port taken). Never the same port twice in one process.
 */
export async function freePort(): Promise<number> {
  const port = await randomPort(
    portRanges().listen,
    100,
    async (p) => !handedOut.has(p) && (await canListen(p)),
  );
  handedOut.add(port);
  return port;
}

/** A random port of `[from, to)` that `fits`, in at most `tries` draws. */
async function randomPort(
  [from, to]: [number, number],
  tries: number,
  fits: (port: number) => Promise<boolean>,
): Promise<number> {
  for (let i = 0; i < tries; i++) {
    const port = from + Math.floor(Math.random() * (to - from));
    if (await fits(port)) return port;
  }
  throw new Error(`no port between ${from} and ${to} fits`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const srv = createServer();
    srv.once('error', () => resolveFree(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolveFree(true)));
  });
}

/**
 * A port where a connection is refused and stays refused: below the kernel's ephemeral range and
 * apart from `freePort()`'s, so no test running beside this one can take it before it is used (a
 * port from the ephemeral range could, and a "dead" broker answered).
 */
export async function refusedPort(): Promise<number> {
  return randomPort(portRanges().refused, 50, refuses);
}

function refuses(port: number): Promise<boolean> {
  return new Promise((resolveRefused) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolveRefused(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolveRefused(err.code === 'ECONNREFUSED'));
  });
}

export interface DaemonProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnPosd(args: string[], env: NodeJS.ProcessEnv = {}): DaemonProcess {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('POSD_') && k !== 'NOTIFY_SOCKET'),
  );
  const child = spawn(process.execPath, [MAIN_JS, ...args], {
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

export interface TestConfig {
  dir: string;
  file: string;
  stateDir: string;
  port: number;
}

export async function writeTestConfig(
  extra: Record<string, unknown> = {},
  dir = tempDir(),
): Promise<TestConfig> {
  const port = await freePort();
  const stateDir = join(dir, 'state');
  const config = {
    device: { tenant: 't1', id: 'D1' },
    stateDir,
    ui: { port },
    log: { level: 'warn' },
    ...extra,
  };
  const file = join(dir, 'posd.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return { dir, file, stateDir, port };
}

export async function waitHealthy(port: number, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  return waitFor(
    async () => {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      return res.ok ? ((await res.json()) as Record<string, unknown>) : undefined;
    },
    `/healthz on ${port}`,
    timeoutMs,
    50,
  );
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
