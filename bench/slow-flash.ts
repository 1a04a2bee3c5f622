import { mkdtempSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildFsyncShim,
  dirBytes,
  fsyncCount,
  type Lag,
  postSale,
  processIo,
  readLag,
  resetLag,
  startBenchDaemon,
} from './daemon-probe.js';
import { fmt, nowMs, summarize } from './stats.js';

/*
 * Sales through the daemon's HTTP API at a cashier's peak rate, with every fsync made slow as on
 * eMMC by an LD_PRELOAD shim (bench/fsync-delay.c): sale latency, the daemon's event-loop lag,
 * fsyncs and bytes written per sale. Issue 18's target at 20 ms per fsync: p99 sale ≤ 40 ms at
 * 10 sales/s, event-loop lag p99 ≤ 20 ms.
 */

const SALES = Number(process.env.BENCH_SLOW_SALES ?? 200);
const RATE = Number(process.env.BENCH_SLOW_RATE ?? 10);
const DELAYS = (process.env.BENCH_FSYNC_DELAYS ?? '0,10,20').split(',').map(Number);

const saleBody = (i: number) =>
  JSON.stringify({
    lines: [
      { sku: 'LATTE', name: '拿铁咖啡', qty: 1, unitPrice: 2800 },
      { sku: 'CROI', name: '可颂', qty: 2, unitPrice: 400 + (i % 7) },
    ],
    tenders: [{ method: 'cash', amount: 10_000 }],
  });

interface Run {
  delayMs: number;
  p50: number;
  p99: number;
  max: number;
  lag: Lag;
  fsyncsPerSale: number;
  writeBytesPerSale: number;
  wcharPerSale: number;
  fileBytesPerSale: number;
}

async function run(shim: string, delayMs: number, port: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'posd-bench-flash-'));
  const countFile = join(dir, 'fsync-count');
  const { child, token, stateDir } = await startBenchDaemon(dir, port, {
    LD_PRELOAD: shim,
    POSD_FSYNC_DELAY_MS: String(delayMs),
    POSD_FSYNC_COUNT_FILE: countFile,
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const post = (i: number) => postSale(port, token, agent, saleBody(i));
  for (let i = 0; i < 10; i++) await post(i); // warm-up: the shift opens, code paths compiled
  const fsync0 = fsyncCount(countFile);
  const io0 = processIo(child.pid!);
  const files0 = dirBytes(stateDir);
  resetLag(child);
  // Open loop: each sale leaves at its time, whether or not the one before has been answered.
  const start = nowMs();
  const pending: Array<Promise<number>> = [];
  for (let i = 0; i < SALES; i++) {
    const wait = start + (i * 1000) / RATE - nowMs();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(post(1000 + i));
  }
  const latencies = await Promise.all(pending);
  const lag = await readLag(child);
  const fsyncs = fsyncCount(countFile) - fsync0;
  const io = processIo(child.pid!);
  const files = dirBytes(stateDir) - files0;
  agent.destroy();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  const s = summarize(latencies);
  return {
    delayMs,
    p50: s.p50,
    p99: s.p99,
    max: s.max,
    lag,
    fsyncsPerSale: fsyncs / SALES,
    writeBytesPerSale: (io.writeBytes - io0.writeBytes) / SALES,
    wcharPerSale: (io.wchar - io0.wchar) / SALES,
    fileBytesPerSale: files / SALES,
  };
}

export async function benchSlowFlash(): Promise<void> {
  const shim = buildFsyncShim(mkdtempSync(join(tmpdir(), 'posd-bench-shim-')));
  console.log(
    `slow-flash (${SALES} sales at ${RATE}/s over HTTP, each fsync delayed by the LD_PRELOAD shim)`,
  );
  for (const delayMs of DELAYS) {
    const r = await run(shim, delayMs, 19_000 + Math.floor(Math.random() * 1000));
    console.log(
      `  fsync +${fmt(r.delayMs, 0)} ms: sale p50 ${fmt(r.p50)} ms  p99 ${fmt(r.p99)} ms  max ${fmt(r.max)} ms | ` +
        `event-loop lag p50 ${fmt(r.lag.p50)} ms  p99 ${fmt(r.lag.p99)} ms  max ${fmt(r.lag.max)} ms | ` +
        `${fmt(r.fsyncsPerSale)} fsyncs/sale  ${fmt(r.writeBytesPerSale, 0)} B/sale to storage ` +
        `(${fmt(r.wcharPerSale, 0)} B/sale write(), files +${fmt(r.fileBytesPerSale, 0)} B/sale)`,
    );
  }
}
