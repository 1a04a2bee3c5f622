import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { CloudService } from '../cloud/cloud-service.js';
import { createRootLogger } from '../src/log.js';
import { openDatabase } from '../src/offline/db.js';
import { Ledger } from '../src/offline/ledger.js';
import { MqttLink } from '../src/sync/mqtt-link.js';
import { topicsFor } from '../src/sync/topics.js';
import { Uplink } from '../src/sync/uplink.js';
import { Mosquitto } from '../tests/helpers/mosquitto.js';
import { fmt, nowMs } from './stats.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);

function fillLedger(dir: string): Ledger {
  const db = openDatabase({ file: join(dir, 'device.db'), log: createRootLogger('silent') });
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
  return ledger;
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

export async function benchSyncDrain(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'posd-bench-sync-'));
  const broker = new Mosquitto();
  await broker.start();
  const ledger = fillLedger(dir);
  const payloads: string[] = [];
  for (let after = 0; after < RECORDS; after += 100) {
    payloads.push(JSON.stringify({ epoch: ledger.epoch, records: ledger.recordsAfter(after, 100) }));
  }
  const raw = await rawPublish(broker.url, payloads);

  const { privateKey } = generateKeyPairSync('ed25519');
  const cloud = new CloudService({
    brokerUrl: broker.url,
    dbFile: join(dir, 'cloud.db'),
    signingKey: privateKey,
  });
  await cloud.start();
  const log = createRootLogger('silent');
  const topics = topicsFor('bench', 'B1');
  const link = new MqttLink({
    url: broker.url,
    clientId: 'bench.B1',
    topics,
    epoch: ledger.epoch,
    appVersion: 'bench',
    bootedAt: new Date().toISOString(),
    log,
  });
  const uplink = new Uplink({
    link,
    outbox: ledger,
    topic: topics.upLedger,
    log,
    settings: { ackWaitMs: 200 },
  });
  link.on(topics.downAck, (payload) => {
    const ack = JSON.parse(payload.toString()) as { epoch: string; ackedUpTo: number; rejected: [] };
    uplink.onAck(ack.epoch, ack.ackedUpTo, ack.rejected ?? []);
  });
  link.onConnect(() => uplink.onConnected());
  const start = nowMs();
  uplink.start();
  link.start();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (ledger.ackedUpTo() >= RECORDS) {
        clearInterval(timer);
        resolve();
      }
    }, 20);
  });
  const seconds = (nowMs() - start) / 1000;
  const rate = RECORDS / seconds;
  const stored = cloud.store.countRecords();
  uplink.stop();
  await link.stop();
  await cloud.stop();
  await broker.stop();
  console.log(
    `sync-drain (${RECORDS} records backlog → reference cloud via mosquitto, batches of 100, window ≤ 32)`,
  );
  console.log(`  raw mqtt.js QoS 1, same bytes     ${fmt(raw, 0)} records/s (reference)`);
  console.log(
    `  drain until fully acked           ${fmt(rate, 0)} records/s in ${fmt(seconds, 1)} s  ratio ${fmt(rate / raw)} (goal ≥ 20000 records/s)`,
  );
  console.log(`  cloud store: ${stored} records (expected ${RECORDS}), duplicates 0 by key`);
}
