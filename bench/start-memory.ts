import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CloudService } from '../cloud/cloud-service.js';
import { freePort } from '../tests/helpers/daemon.js';
import { Mosquitto } from '../tests/helpers/mosquitto.js';
import { askHelper, forkHelper, postSale } from './daemon-probe.js';
import { fmt, nowMs, summarize } from './stats.js';

/*
 * Issue 18 item 4: cold start to READY, idle RSS, and RSS after many sales, of `posd run` with a
 * real config (TCP printer, MQTT broker with the reference cloud acking, cloud public key), each
 * with a reference taken in the same run: a bare `node -e` start, and a bare idle node's RSS.
 */

const SALES = Number(process.env.BENCH_MEMORY_SALES ?? 100_000);
const STARTS = Number(process.env.BENCH_STARTS ?? 5);
const CLIENTS = 8;
// The daemon gives memory back 90–120 s after its last sale (src/lifecycle/memory-relief.ts).
const QUIET_MS = Number(process.env.BENCH_QUIET_MS ?? 125_000);
const MAIN = resolve(import.meta.dirname, '../src/main.js');
const PROBE = pathToFileURL(resolve(import.meta.dirname, 'memory-probe.js')).href;
const NOTIFY_LISTENER = resolve(import.meta.dirname, '../../tests/helpers/notify-listener.py');

const SALE = JSON.stringify({
  lines: [
    { sku: 'LATTE', name: '拿铁咖啡', qty: 1, unitPrice: 2800 },
    { sku: 'CROI', name: '可颂', qty: 2, unitPrice: 400 },
  ],
  tenders: [{ method: 'cash', amount: 5000 }],
});

function rssMb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

interface Heap {
  heapUsed: number;
  heapTotal: number;
  external: number;
  /** V8's spaces: MB used, MB resident. */
  spaces: Record<string, [number, number]>;
}

/** A heap snapshot of the daemon into BENCH_HEAP_SNAPSHOTS/NAME.heapsnapshot, when that is set. */
async function heapSnapshot(child: ChildProcess, name: string): Promise<void> {
  const dir = process.env.BENCH_HEAP_SNAPSHOTS;
  if (dir) await askHelper<string>(child, { heapSnapshot: join(dir, `${name}.heapsnapshot`) }, 'snapshot');
}

function heapMb(child: ChildProcess): Promise<Heap> {
  return new Promise((resolveHeap) => {
    const onMessage = (m: unknown) => {
      const { mem, spaces = {} } = (m as { mem?: NodeJS.MemoryUsage; spaces?: Heap['spaces'] } | null) ?? {};
      if (!mem) return;
      child.off('message', onMessage);
      resolveHeap({
        heapUsed: mem.heapUsed / 2 ** 20,
        heapTotal: mem.heapTotal / 2 ** 20,
        external: mem.external / 2 ** 20,
        spaces,
      });
    };
    child.on('message', onMessage);
    child.send('mem-read');
  });
}

/** Resident MB by kind of mapping (`/proc/pid/smaps`): what grows, V8/malloc or mapped files. */
export function rssByKind(pid: number): Record<string, number> {
  const out: Record<string, number> = { brk: 0, anon: 0, node: 0, shm: 0, files: 0 };
  let kind = 'anon';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1] ?? '';
      kind =
        name === '[heap]'
          ? 'brk'
          : name === '' || name.startsWith('[')
            ? 'anon'
            : name === process.execPath || name.endsWith('/node')
              ? 'node'
              : name.endsWith('-shm')
                ? 'shm'
                : 'files';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[kind] = (out[kind] ?? 0) + Number(rss[1]) / 1024;
  }
  return out;
}

const spaces = (h: Heap) =>
  Object.entries(h.spaces)
    .filter(([, [, resident]]) => resident > 0)
    .map(([n, [used, resident]]) => `${n} ${fmt(used, 1)}/${fmt(resident, 1)}`)
    .join(', ');

const kinds = (k: Record<string, number>) =>
  Object.entries(k)
    .map(([n, v]) => `${n} ${fmt(v, 1)}`)
    .join(', ');

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A systemd notify socket stand-in: resolves each `READY=1` as it arrives. */
class NotifySocket {
  readonly path: string;
  private waiters: Array<() => void> = [];
  private child: ChildProcess;
  private listening: Promise<void>;

  constructor(dir: string) {
    this.path = join(dir, 'notify.sock');
    this.child = spawn('python3', [NOTIFY_LISTENER, this.path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    let onListening: () => void = () => {};
    this.listening = new Promise((r) => {
      onListening = r;
    });
    this.child.stdout?.on('data', (c: Buffer) => {
      buf += c.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line === 'LISTENING') onListening();
        if (line.split('|').includes('READY=1')) this.waiters.shift()?.();
      }
    });
  }

  ready(): Promise<void> {
    return this.listening;
  }

  nextReady(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }

  stop(): void {
    this.child.kill('SIGTERM');
  }
}

interface Daemon {
  child: ChildProcess;
  readyMs: number;
}

/** NODE_OPTIONS as systemd/posd.service sets them on the terminal. */
function unitNodeOptions(): string {
  const unit = readFileSync(resolve(import.meta.dirname, '../../systemd/posd.service'), 'utf8');
  return /^Environment="?NODE_OPTIONS=([^"\n]*)"?$/m.exec(unit)?.[1]?.trim() ?? '';
}

/** The unit's other `Environment=` settings (malloc's, NODE_ENV), as the terminal runs posd. */
function unitEnvironment(): Record<string, string> {
  const unit = readFileSync(resolve(import.meta.dirname, '../../systemd/posd.service'), 'utf8');
  const env: Record<string, string> = {};
  for (const m of unit.matchAll(/^Environment="?([A-Za-z_][A-Za-z0-9_]*)=([^"\n]*)"?$/gm)) {
    if (m[1] !== 'NODE_OPTIONS') env[m[1] as string] = (m[2] ?? '').trim();
  }
  return env;
}

async function startPosd(
  config: string,
  notify: NotifySocket,
  nodeOptions = unitNodeOptions(),
): Promise<Daemon> {
  const ready = notify.nextReady();
  const t0 = nowMs();
  const child = spawn(process.execPath, ['--import', PROBE, MAIN, 'run', '--config', config], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, ...unitEnvironment(), NOTIFY_SOCKET: notify.path, NODE_OPTIONS: nodeOptions },
  });
  await ready;
  return { child, readyMs: nowMs() - t0 };
}

async function stopPosd(d: Daemon): Promise<void> {
  await new Promise<void>((r) => {
    d.child.once('exit', () => r());
    d.child.kill('SIGTERM');
  });
}

/** The bare runtime: `node -e 0` from spawn to exit, and an idle node's RSS. */
async function reference(): Promise<{ startMs: number; rss: number }> {
  const times: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const t0 = nowMs();
    await new Promise<void>((r) =>
      spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' }).once('exit', () => r()),
    );
    times.push(nowMs() - t0);
  }
  const idle = spawn(process.execPath, ['-e', 'process.stdout.write("up\\n"); setInterval(() => {}, 1000)'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise((r) => idle.stdout?.once('data', r));
  await settle(1000);
  const { rss } = rssMb(idle.pid ?? 0);
  idle.kill();
  return { startMs: summarize(times).p50, rss };
}

async function healthz(port: number): Promise<{ status?: string; cloud?: { link?: string } }> {
  return (await fetch(`http://127.0.0.1:${port}/healthz`)).json() as Promise<{ status?: string }>;
}

async function sell(
  port: number,
  token: string,
  n: number,
  onProgress: (done: number) => void,
): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  let next = 0;
  let done = 0;
  const t0 = nowMs();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < n) {
        next += 1;
        await postSale(port, token, agent, SALE);
        done += 1;
        if (done % 10_000 === 0) onProgress(done);
      }
    }),
  );
  agent.destroy();
  return n / ((nowMs() - t0) / 1000);
}

export async function benchStartMemory(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'posd-bench-start-'));
  const ref = await reference();

  const broker = new Mosquitto();
  await broker.start();
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const cloud = new CloudService({
    brokerUrl: broker.url,
    dbFile: join(dir, 'cloud.db'),
    signingKey: privateKey,
  });
  await cloud.start();
  // A plain ESC/POS printer in its own process (bench/tcp-printer.ts): every receipt printed, as on
  // a counter. (The simulated printer draws each receipt as a PNG, and with autoPrint off each cash
  // sale still queued a drawer kick it worked through at ~10/s: the "idle" after the sales was not.)
  const printer = await forkHelper('tcp-printer');
  const printerPort = printer.port;
  const port = await freePort();
  const stateDir = join(dir, 'state');
  const config = join(dir, 'posd.json');
  writeFileSync(
    config,
    JSON.stringify({
      device: { tenant: 'bench', id: 'M1' },
      stateDir,
      ui: { port },
      log: { level: 'warn' },
      mqtt: { url: broker.url },
      cloud: { publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() },
      printer: { uri: `tcp://127.0.0.1:${printerPort}`, paperWidth: 80 },
    }),
  );
  const notify = new NotifySocket(dir);
  await notify.ready();

  // The first start creates the ledger; the starts measured open an existing one, as at boot.
  await stopPosd(await startPosd(config, notify));
  const readyTimes: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const d = await startPosd(config, notify);
    readyTimes.push(d.readyMs);
    await stopPosd(d);
  }
  const ready = summarize(readyTimes);

  const idleOf = async (daemon: Daemon) => {
    for (let i = 0; i < 200 && (await healthz(port)).status !== 'ok'; i++) await settle(50);
    await settle(3000); // idle: the link up, the first status sent, start-up garbage collected
    return rssMb(daemon.child.pid ?? 0);
  };
  const plain = await startPosd(config, notify, '');
  const idlePlain = await idleOf(plain);
  await stopPosd(plain);

  const d = await startPosd(config, notify);
  const token = readFileSync(join(stateDir, 'ui-token'), 'utf8').trim();
  const idle = await idleOf(d);
  const idleHeap = await heapMb(d.child);
  const idleKinds = rssByKind(d.child.pid ?? 0);
  // A terminal at idle is long past its start: the daemon gives back what the start left, once quiet.
  await settle(QUIET_MS);
  const idleQuiet = rssMb(d.child.pid ?? 0);
  const idleQuietHeap = await heapMb(d.child);
  const idleQuietKinds = rssByKind(d.child.pid ?? 0);
  await heapSnapshot(d.child, 'idle-quiet');

  const samples: string[] = [];
  const rate = await sell(port, token, SALES, (done) => {
    samples.push(`${done / 1000}k ${fmt(rssMb(d.child.pid ?? 0).rss, 0)}`);
  });
  for (let i = 0; i < 1200 && cloud.store.countRecords() < SALES * 2; i++) await settle(100);
  // Every receipt on paper (the print queue drained) before the daemon is called idle.
  for (let i = 0; i < 1200 && (await askHelper<number>(printer.child, 'count', 'receipts')) < SALES; i++)
    await settle(100);
  await settle(5000); // idle again
  const after = rssMb(d.child.pid ?? 0);
  const afterHeap = await heapMb(d.child);
  const afterKinds = rssByKind(d.child.pid ?? 0);
  // Quiet: the daemon gives memory back after a rush.
  await settle(QUIET_MS);
  const quiet = rssMb(d.child.pid ?? 0);
  const quietHeap = await heapMb(d.child);
  const quietKinds = rssByKind(d.child.pid ?? 0);
  await heapSnapshot(d.child, 'after-quiet');
  // What the relief costs the next sale: the sale path's code, dropped by the relief, compiled again.
  const agent = new Agent({ keepAlive: true });
  const afterRelief: number[] = [];
  for (let i = 0; i < 5; i++) afterRelief.push(await postSale(port, token, agent, SALE));
  const warmSales: number[] = [];
  for (let i = 0; i < 50; i++) warmSales.push(await postSale(port, token, agent, SALE));
  agent.destroy();
  await stopPosd(d);
  const bigLedger = await startPosd(config, notify);
  await stopPosd(bigLedger);

  notify.stop();
  await cloud.stop();
  printer.child.send('exit');
  await broker.stop();

  const mb = (n: number) => `${fmt(n, 1)} MB`;
  console.log('start-memory (posd run: TCP printer, MQTT broker + reference cloud, cloud key)');
  console.log(
    `  reference: node -e 0 spawn to exit ${fmt(ref.startMs, 0)} ms; bare idle node RSS ${mb(ref.rss)}`,
  );
  console.log(
    `  cold start to READY=1 (${STARTS} starts, existing ledger): p50 ${fmt(ready.p50, 0)} ms, max ${fmt(ready.max, 0)} ms` +
      ` (${fmt(ready.p50 / ref.startMs, 1)}× bare node start); target ≤ 1000 ms`,
  );
  console.log(
    `  NODE_OPTIONS of posd.service: ${unitNodeOptions() || '(none)'}; its other Environment: ${JSON.stringify(unitEnvironment())}; idle RSS without them ${mb(idlePlain.rss)}`,
  );
  console.log(
    `  idle RSS ${mb(idle.rss)} (${fmt(idle.rss / ref.rss, 2)}× bare node; heap used ${mb(idleHeap.heapUsed)} of ${mb(idleHeap.heapTotal)}, external ${mb(idleHeap.external)}); target ≤ 70 MB`,
  );
  console.log(
    `  idle RSS once quiet (${QUIET_MS / 1000} s after READY, the relief after start done) ${mb(idleQuiet.rss)} (heap used ${mb(idleQuietHeap.heapUsed)} of ${mb(idleQuietHeap.heapTotal)}); target ≤ 70 MB`,
  );
  console.log(
    `  ${SALES} sales through the API (${CLIENTS} clients): ${fmt(rate, 0)} sales/s; RSS by 10k: ${samples.join(', ')}`,
  );
  console.log(
    `  RSS idle after them ${mb(after.rss)} = ${fmt(after.rss / idle.rss, 3)}× idle (peak ${mb(after.hwm)}; heap used ${mb(afterHeap.heapUsed)} of ${mb(afterHeap.heapTotal)}); target ≤ 1.10×`,
  );
  console.log(
    `  RSS after ${QUIET_MS / 1000} s more of quiet ${mb(quiet.rss)} = ${fmt(quiet.rss / idle.rss, 3)}× idle, ${fmt(quiet.rss / idleQuiet.rss, 3)}× idle once quiet (heap used ${mb(quietHeap.heapUsed)} of ${mb(quietHeap.heapTotal)}); target ≤ 1.10×`,
  );
  console.log(
    `  the next 5 sales after that quiet (their code compiled again): ${afterRelief.map((ms) => fmt(ms, 1)).join(', ')} ms; the 50 after them p50 ${fmt(summarize(warmSales).p50, 1)} ms`,
  );
  console.log(
    `  resident MB by mapping (brk: malloc's main arena), idle: ${kinds(idleKinds)}; idle once quiet: ${kinds(idleQuietKinds)}; 5 s after: ${kinds(afterKinds)}; quiet: ${kinds(quietKinds)}`,
  );
  console.log(
    `  V8 spaces (MB used/resident), idle: ${spaces(idleHeap)}; idle once quiet: ${spaces(idleQuietHeap)}; quiet: ${spaces(quietHeap)}`,
  );
  console.log(`  start to READY with the ${SALES}-sale ledger: ${fmt(bigLedger.readyMs, 0)} ms`);
}
