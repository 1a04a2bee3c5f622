import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { CloudService } from '../cloud/cloud-service.js';
import type { LedgerRecord, OutboxSource, RecordReject } from '../src/core/ledger-record.js';
import { createRootLogger } from '../src/log.js';
import { chainOf, GENESIS_CHAIN } from '../src/offline/chain.js';
import { MqttLink } from '../src/sync/mqtt-link.js';
import { topicsFor } from '../src/sync/topics.js';
import { Uplink } from '../src/sync/uplink.js';
import { Mosquitto } from '../tests/helpers/mosquitto.js';
import { fmt, nowMs } from './stats.js';

/** A terminal's outbox in memory: a chained ledger of sales, acked by the cloud like the real one. */
export class MemoryOutbox implements OutboxSource {
  readonly epoch = uuidv7();
  private readonly records: LedgerRecord[] = [];
  private acked = 0;

  constructor(count: number) {
    let prev = GENESIS_CHAIN;
    for (let seq = 1; seq <= count; seq++) {
      const r = {
        seq,
        id: uuidv7(),
        type: 'sale.completed',
        at: new Date().toISOString(),
        body: { total: 100 * seq, currency: 'CNY', lines: [{ name: 'x', qty: 1, unitPrice: 100 * seq }] },
      };
      prev = chainOf(prev, r);
      this.records.push({ ...r, chain: prev });
    }
  }

  recordsAfter(afterSeq: number, limit: number): LedgerRecord[] {
    return this.records.slice(afterSeq, afterSeq + limit);
  }
  lastSeq(): number {
    return this.records.length;
  }
  ackedUpTo(): number {
    return this.acked;
  }
  applyAck(upTo: number, _rejected: readonly RecordReject[]): void {
    this.acked = Math.max(this.acked, Math.min(upTo, this.records.length));
  }
  onAppend(): () => void {
    return () => {};
  }
}

export async function benchFleet(): Promise<void> {
  // Read here, not at import: bench/run.ts sets them from its arguments after the imports.
  const TERMINALS = Number(process.env.BENCH_TERMINALS ?? 1000);
  const RECORDS_EACH = Number(process.env.BENCH_RECORDS_EACH ?? 50);
  const dir = mkdtempSync(join(tmpdir(), 'posd-bench-fleet-'));
  const broker = new Mosquitto();
  await broker.start();
  const { privateKey } = generateKeyPairSync('ed25519');
  const dbFile = join(dir, 'cloud.db');
  const clouds = [
    new CloudService({ brokerUrl: broker.url, dbFile, signingKey: privateKey, instanceId: 'a' }),
    new CloudService({ brokerUrl: broker.url, dbFile, signingKey: privateKey, instanceId: 'b' }),
  ];
  for (const c of clouds) await c.start();
  const log = createRootLogger('silent');
  const fleet = Array.from({ length: TERMINALS }, (_, i) => {
    const outbox = new MemoryOutbox(RECORDS_EACH);
    const topics = topicsFor('fleet', `T${i}`);
    const link = new MqttLink({
      url: broker.url,
      clientId: `fleet.T${i}`,
      topics,
      epoch: outbox.epoch,
      appVersion: 'bench',
      bootedAt: new Date().toISOString(),
      log,
      backoff: { initialMs: 200, maxMs: 2_000 },
    });
    const uplink = new Uplink({
      link,
      outbox,
      topic: topics.upLedger,
      log,
      settings: { ackWaitMs: 300, resendAfterMs: 3_000 },
    });
    link.on(topics.downAck, (p) => {
      const ack = JSON.parse(p.toString()) as { epoch: string; ackedUpTo: number };
      uplink.onAck(ack.epoch, ack.ackedUpTo, []);
    });
    link.onConnect(() => uplink.onConnected());
    return { outbox, link, uplink };
  });
  const expected = TERMINALS * RECORDS_EACH;
  const start = nowMs();
  for (const t of fleet) {
    t.uplink.start();
    t.link.start();
  }
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (fleet.every((t) => t.outbox.ackedUpTo() === RECORDS_EACH)) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
  });
  const seconds = (nowMs() - start) / 1000;
  const stored = clouds[0]!.store.countRecords();
  const split = clouds.map((c) => c.batches);
  for (const t of fleet) {
    t.uplink.stop();
    await t.link.stop();
  }
  for (const c of clouds) await c.stop();
  await broker.stop();
  console.log(
    `fleet (${TERMINALS} terminals × ${RECORDS_EACH} records, one mosquitto, two cloud instances on $share)`,
  );
  console.log(`  all acked in ${fmt(seconds, 1)} s: ${fmt(expected / seconds, 0)} records/s ingested`);
  console.log(
    `  cloud store ${stored} of ${expected}: lost ${expected - stored}, duplicates 0 (keyed on device, epoch, seq)`,
  );
  console.log(`  batches per instance: ${split.join(' / ')}`);
}
