import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { createRootLogger } from '../src/log.js';
import { MqttLink } from '../src/sync/mqtt-link.js';
import { topicsFor } from '../src/sync/topics.js';
import { Uplink } from '../src/sync/uplink.js';
import { type CloudProcess, spawnCloud, writeKeyFile } from '../tests/helpers/cloud-process.js';
import { Postgres } from '../tests/helpers/postgres.js';
import { type RabbitCluster, startRabbitMq } from '../tests/helpers/rabbitmq.js';
import { MemoryOutbox } from './fleet.js';
import { fmt, nowMs, summarize } from './stats.js';

/** Resident memory of the cluster's Erlang VMs, in bytes. */
function brokerRss(rabbit: RabbitCluster): number {
  let sum = 0;
  for (const n of rabbit.nodes) {
    if (!n.running) continue;
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${n.pid}/status`, 'utf8'));
    sum += Number(m?.[1] ?? 0) * 1024;
  }
  return sum;
}

async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * `npm run bench fleet-cluster -- --terminals N`: N terminals (the real link and uplink, outboxes
 * in memory) on MQTT 3.1.1 spread over a three-node RabbitMQ 3.10 cluster, two cloud instances
 * (their own processes) on PostgreSQL 15 (fsync on) consuming the quorum queue. Reports the
 * brokers' memory per connection, records/s to all acked, the reconnect times after one node is
 * SIGKILLed, and checks every record is stored once.
 */
export async function benchFleetCluster(): Promise<void> {
  // Read here, not at import: bench/run.ts sets them from its arguments after the imports.
  const TERMINALS = Number(process.env.BENCH_TERMINALS ?? 500);
  const RECORDS_EACH = Number(process.env.BENCH_RECORDS_EACH ?? 50);
  const pgServer = new Postgres({ fsync: true });
  const [rabbit] = await Promise.all([startRabbitMq({ nodes: 3 }), pgServer.start()]);
  const clouds: CloudProcess[] = [];
  // Interrupted (Ctrl-C, a timeout): no broker node, cloud or database left behind.
  const interrupted = () => process.exit(130);
  const leftovers = () => {
    for (const c of clouds) c.child.kill('SIGKILL');
    pgServer.stopNow();
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted).once('exit', leftovers);
  const log = createRootLogger('silent');
  const fleet: Array<{ outbox: MemoryOutbox; link: MqttLink; uplink: Uplink; connects: number[] }> = [];
  try {
    const { privateKey } = generateKeyPairSync('ed25519');
    const keyFile = writeKeyFile(privateKey);
    for (const order of [
      [0, 1, 2],
      [1, 2, 0],
    ])
      clouds.push(
        await spawnCloud([
          ...order.flatMap((i) => ['--amqp', rabbit.nodes[i]!.amqpUrl]),
          '--db',
          pgServer.url,
          '--key',
          keyFile,
        ]),
      );
    const mqttUrls = rabbit.nodes.map((n) => n.mqttUrl);
    const rssBefore = brokerRss(rabbit);
    for (let i = 0; i < TERMINALS; i++) {
      const outbox = new MemoryOutbox(RECORDS_EACH);
      const topics = topicsFor('fleet', `T${i}`);
      const link = new MqttLink({
        urls: [...mqttUrls.slice(i % 3), ...mqttUrls.slice(0, i % 3)],
        clientId: `fleet.T${i}`,
        topics,
        epoch: outbox.epoch,
        appVersion: 'bench',
        bootedAt: new Date().toISOString(),
        log,
        protocolVersion: 4,
        backoff: { initialMs: 200, maxMs: 2_000 },
        connectTimeoutMs: 30_000,
      });
      const uplink = new Uplink({
        link,
        outbox,
        topic: topics.upLedger,
        log,
        settings: { ackWaitMs: 300, resendAfterMs: 5_000 },
      });
      const t = { outbox, link, uplink, connects: [] as number[] };
      link.on(topics.downAck, (p) => {
        const ack = JSON.parse(p.toString()) as { epoch: string; ackedUpTo: number };
        uplink.onAck(ack.epoch, ack.ackedUpTo, []);
      });
      link.onConnect(() => {
        t.connects.push(nowMs());
        uplink.onConnected();
      });
      link.onDisconnect(() => uplink.onDisconnected());
      fleet.push(t);
    }
    const connectStart = nowMs();
    for (const t of fleet) t.link.start();
    await until('every terminal connected', () => fleet.every((t) => t.link.isConnected), 30 * 60_000);
    const connectSeconds = (nowMs() - connectStart) / 1000;
    const rssAfter = brokerRss(rabbit);

    const start = nowMs();
    for (const t of fleet) t.uplink.start();
    await until(
      'every record acked',
      () => fleet.every((t) => t.outbox.ackedUpTo() === RECORDS_EACH),
      30 * 60_000,
    );
    const seconds = (nowMs() - start) / 1000;

    const killedAt = nowMs();
    const before = fleet.map((t) => t.connects.length);
    await rabbit.nodes[0]!.kill();
    await until(
      'every terminal the kill cut off back',
      () => fleet.every((t) => t.link.isConnected),
      30 * 60_000,
    );
    const reconnectMs = fleet
      .filter((t, i) => t.connects.length > before[i]!)
      .map((t) => t.connects.at(-1)! - killedAt);
    const db = new pg.Client({ connectionString: pgServer.url });
    await db.connect();
    const counts = await db.query<{ n: number; keys: number }>(
      "SELECT count(*)::int AS n, count(DISTINCT (device, epoch, seq))::int AS keys FROM records WHERE tenant = 'fleet'",
    );
    await db.end();
    const expected = TERMINALS * RECORDS_EACH;
    const r = summarize(reconnectMs);
    console.log(
      `fleet-cluster (${TERMINALS} terminals × ${RECORDS_EACH} records, MQTT 3.1.1 on 3 RabbitMQ 3.10 nodes, 2 cloud instances on PostgreSQL 15, fsync on)`,
    );
    console.log(
      `  connected in ${fmt(connectSeconds, 1)} s; broker RSS ${fmt(rssBefore / 2 ** 20, 0)} → ${fmt(rssAfter / 2 ** 20, 0)} MiB: ${fmt((rssAfter - rssBefore) / TERMINALS / 1024, 0)} KiB per connection (3 nodes together)`,
    );
    console.log(`  all acked in ${fmt(seconds, 1)} s: ${fmt(expected / seconds, 0)} records/s ingested`);
    console.log(
      `  node 1 SIGKILLed: ${r.n} terminals cut off, back after p50 ${fmt(r.p50 / 1000, 1)} s, p99 ${fmt(r.p99 / 1000, 1)} s, max ${fmt(r.max / 1000, 1)} s`,
    );
    console.log(
      `  PostgreSQL holds ${counts.rows[0]!.n} records of ${expected} (${counts.rows[0]!.keys} distinct keys): lost ${expected - counts.rows[0]!.keys}, twice ${counts.rows[0]!.n - counts.rows[0]!.keys}`,
    );
  } finally {
    for (const t of fleet) {
      t.uplink.stop();
      await t.link.stop().catch(() => {});
    }
    for (const c of clouds) c.child.kill('SIGKILL');
    await rabbit.stop();
    await pgServer.stop();
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted).off('exit', leftovers);
  }
}
