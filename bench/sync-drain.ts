import { type ChildProcess, fork } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { createRootLogger } from '../src/log.js';
import { openDatabase } from '../src/offline/db.js';
import { Ledger } from '../src/offline/ledger.js';
import { Mosquitto } from '../tests/helpers/mosquitto.js';
import { buildFsyncShim, fsyncCount, type Lag, processIo } from './daemon-probe.js';
import { fmt, nowMs } from './stats.js';

/*
 * Issue 4 and 18: a 100,000-record backlog drained through mosquitto to the reference cloud until
 * every record is acknowledged, next to raw mqtt.js QoS 1 publishes of the same bytes. The device
 * and the cloud each run in their own process (bench/sync-drain-child.ts) under the fsync shim,
 * so fsyncs and bytes written per record are counted for each; the device's fsyncs can be made
 * slow as on a terminal's eMMC (BENCH_DRAIN_FSYNC_DELAYS, ms, default "0,20"; the cloud's stay
 * as they are: it runs on a server).
 */

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const DELAYS = (process.env.BENCH_DRAIN_FSYNC_DELAYS ?? '0,20').split(',').map(Number);
const CHILD = resolve(import.meta.dirname, 'sync-drain-child.js');

function fillLedger(file: string): string[] {
  const dir = join(file, '..');
  const db = openDatabase({ file, log: createRootLogger('silent') });
  const ledger = new Ledger({ db, dir });
  for (let done = 0; done < RECORDS; done += 1000) {
    ledger.transact(() => {
      for (let i = 0; i < 1000 && done + i < RECORDS; i++) {
        ledger.append('sale.completed', {
          saleId: `s-${done + i}`,
          receiptNo: `B1-${String(done + i).padStart(6, '0')}`,
          currency: 'CNY',
          total: 3200,
          lines: [
            { name: '拿铁咖啡', qty: 1, unitPrice: 2800, amount: 2800 },
            { name: '可颂', qty: 1, unitPrice: 400, amount: 400 },
          ],
          payments: [{ method: 'cash', channel: 'cash', amount: 3200 }],
        });
      }
    });
  }
  const payloads: string[] = [];
  for (let after = 0; after < RECORDS; after += 100) {
    payloads.push(JSON.stringify({ epoch: ledger.epoch, records: ledger.recordsAfter(after, 100) }));
  }
  db.close(); // checkpointed: the file alone is the backlog, copied for each run
  return payloads;
}

/** The same batches the uplink sends, published raw with the same window, until all PUBACKed. */
async function rawPublish(url: string, payloads: string[]): Promise<number> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: 'bench-raw' });
  const start = nowMs();
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < payloads.length)
        await client.publishAsync('bench/raw/up/ledger', payloads[next++]!, { qos: 1 });
    }),
  );
  const seconds = (nowMs() - start) / 1000;
  await client.endAsync();
  return RECORDS / seconds;
}

interface Side {
  child: ChildProcess;
  countFile: string;
}

function spawnSide(args: string[], shim: string, countFile: string, delayMs: number): Side {
  const child = fork(CHILD, args, {
    // BENCH_PROF=dir: a CPU profile of each side (node --cpu-prof).
    execArgv: process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      LD_PRELOAD: shim,
      POSD_FSYNC_DELAY_MS: String(delayMs),
      POSD_FSYNC_COUNT_FILE: countFile,
    },
  });
  return { child, countFile };
}

function next<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((resolveNext, reject) => {
    const onMessage = (m: unknown) => {
      const value = (m as Record<string, unknown> | null)?.[key];
      if (value === undefined) return;
      child.off('message', onMessage);
      resolveNext(value as T);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`${key}: child exited ${code}`)));
  });
}

interface Usage {
  fsyncs: number;
  writeBytes: number;
  wchar: number;
}

function usage(side: Side): Usage {
  const io = processIo(side.child.pid!);
  return { fsyncs: fsyncCount(side.countFile), writeBytes: io.writeBytes, wchar: io.wchar };
}

const perRecord = (a: Usage, b: Usage) =>
  `${fmt((b.fsyncs - a.fsyncs) / RECORDS, 4)} fsyncs, ${fmt((b.writeBytes - a.writeBytes) / RECORDS, 0)} B to storage ` +
  `(${fmt((b.wchar - a.wchar) / RECORDS, 0)} B write())`;

async function drain(
  dir: string,
  template: string,
  url: string,
  shim: string,
  delayMs: number,
  run: number,
): Promise<{ rate: number; seconds: number; stored: number; lag: Lag; device: string; cloud: string }> {
  const deviceDb = join(dir, `device-${run}.db`);
  copyFileSync(template, deviceDb);
  const cloud = spawnSide(
    ['cloud', url, join(dir, `cloud-${run}.db`)],
    shim,
    join(dir, `cloud-${run}.count`),
    0,
  );
  await next(cloud.child, 'ready');
  const device = spawnSide(
    ['device', url, deviceDb, String(RECORDS)],
    shim,
    join(dir, `device-${run}.count`),
    delayMs,
  );
  await next(device.child, 'ready');
  const d0 = usage(device);
  const c0 = usage(cloud);
  const done = next<{ seconds: number; lag: Lag }>(device.child, 'done');
  device.child.send('start');
  const { seconds, lag } = await done;
  const d1 = usage(device);
  const c1 = usage(cloud);
  const stored = next<number>(cloud.child, 'stored');
  cloud.child.send('count');
  const count = await stored;
  for (const side of [device, cloud]) {
    const exited = new Promise((r) => side.child.once('exit', r));
    side.child.send('exit');
    await exited;
  }
  return {
    rate: RECORDS / seconds,
    seconds,
    stored: count,
    lag,
    device: perRecord(d0, d1),
    cloud: perRecord(c0, c1),
  };
}

export async function benchSyncDrain(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'posd-bench-sync-'));
  const shim = buildFsyncShim(dir);
  const broker = new Mosquitto();
  await broker.start();
  const template = join(dir, 'backlog.db');
  const payloads = fillLedger(template);
  const raw = await rawPublish(broker.url, payloads);
  console.log(
    `sync-drain (${RECORDS} records backlog → reference cloud via mosquitto, batches of 100, window ≤ 32)`,
  );
  console.log(`  raw mqtt.js QoS 1, same bytes     ${fmt(raw, 0)} records/s (reference)`);
  for (const [i, delayMs] of DELAYS.entries()) {
    const r = await drain(dir, template, broker.url, shim, delayMs, i);
    console.log(
      `  device fsync +${delayMs} ms: drained until fully acked ${fmt(r.rate, 0)} records/s in ${fmt(r.seconds, 1)} s, ` +
        `ratio ${fmt(r.rate / raw, 3)} to raw (goal ≥ 20000 records/s and ≥ 0.2; at +20 ms ≥ 5000)`,
    );
    console.log(
      `    per record: device ${r.device}; cloud ${r.cloud} | device event-loop lag p50 ${fmt(r.lag.p50)} ms p99 ${fmt(r.lag.p99)} ms max ${fmt(r.lag.max)} ms | cloud store ${r.stored} records (expected ${RECORDS})`,
    );
  }
  await broker.stop();
}
