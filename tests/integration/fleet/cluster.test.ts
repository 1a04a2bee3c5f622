import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgCloudService } from '../../../cloud/pg/pg-cloud.js';
import { AmqpTransport } from '../../../cloud/transport/amqp-transport.js';
import { type CloudProcess, spawnCloud, writeKeyFile } from '../../helpers/cloud-process.js';
import { FleetTerminal } from '../../helpers/fleet-terminal.js';
import { Postgres } from '../../helpers/postgres.js';
import { type RabbitCluster, startRabbitMq } from '../../helpers/rabbitmq.js';
import { waitFor } from '../../helpers/wait.js';

// Issue 22: the reference cloud on PostgreSQL behind a three-node RabbitMQ 3.10 cluster; terminals
// (the real ledger and sync code) given the three nodes (mqtt.urls), finding MQTT 3.1.1 themselves.
// A node is SIGKILLed mid-run, then a cloud instance: nothing lost, nothing twice, all acknowledged.
const TENANT = 'fleet';
const TERMINALS = 24;
const SALES_EACH_PHASE = 10;

const pgServer = new Postgres();
let rabbit: RabbitCluster;
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const keyFile = writeKeyFile(privateKey);
const clouds: ChildProcess[] = [];
const terminals: FleetTerminal[] = [];
let pusher: PgCloudService | undefined;

beforeAll(async () => {
  const [r] = await Promise.all([startRabbitMq({ nodes: 3 }), pgServer.start()]);
  rabbit = r;
}, 300_000);

afterAll(async () => {
  for (const t of terminals) await t.stop().catch(() => {});
  await pusher?.stop().catch(() => {});
  for (const c of clouds) c.kill('SIGKILL');
  await rabbit?.stop();
  await pgServer.stop();
}, 120_000);

/** A cloud instance as its own process, on every node in the given order. */
async function startCloud(order: number[]): Promise<CloudProcess> {
  const amqp = order.flatMap((i) => ['--amqp', rabbit.nodes[i]!.amqpUrl]);
  const cloud = await spawnCloud([...amqp, '--db', pgServer.url, '--key', keyFile]);
  clouds.push(cloud.child);
  return cloud;
}

function sellRound(): void {
  for (const t of terminals) for (let i = 0; i < SALES_EACH_PHASE; i++) t.sell();
}

describe('fleet on a RabbitMQ cluster and PostgreSQL', () => {
  it('a node and then a cloud instance killed mid-run: every record stored once and acked, every device back, the config pushed in the outage applied everywhere', async () => {
    const cloudA = await startCloud([0, 1, 2]);
    await startCloud([1, 2, 0]);
    const urls = rabbit.nodes.map((n) => n.amqpUrl);
    pusher = new PgCloudService({
      dbUrl: pgServer.url,
      transport: new AmqpTransport({ urls: [urls[2]!, urls[1]!, urls[0]!], ingest: false }),
      signingKey: privateKey,
    });
    await pusher.start();
    const mqttUrls = rabbit.nodes.map((n) => n.mqttUrl);
    for (let i = 0; i < TERMINALS; i++) {
      // Spread over the nodes: each terminal starts with another one.
      const urls = [...mqttUrls.slice(i % 3), ...mqttUrls.slice(0, i % 3)];
      const t = new FleetTerminal({ tenant: TENANT, device: `T${i}`, urls, cloudKey: publicKey });
      terminals.push(t);
      t.start();
    }
    await waitFor(
      () => (terminals.every((t) => t.connected) ? true : undefined),
      'every terminal connected',
      60_000,
    );

    sellRound();
    // Mid-run: batches in flight, some acked.
    await waitFor(
      () => (terminals.some((t) => t.ledger.ackedUpTo() > 0) ? true : undefined),
      'the first acks',
      60_000,
    );
    const victim = rabbit.nodes[0]!;
    await victim.kill();
    sellRound();
    // Pushed while the node is down (and before every device is back): no retained copy to count on.
    for (const t of terminals)
      await pusher.pushConfig(TENANT, t.o.device, 1, { merchant: { name: '集群门店' } });
    await waitFor(
      () => (terminals.some((t) => t.disconnects > 0) ? true : undefined),
      'the node kill seen',
      30_000,
    );
    await waitFor(
      () => (terminals.every((t) => t.connected) ? true : undefined),
      'every terminal back',
      90_000,
    );
    // The instance that was on the dead node consumes again from another one.
    await waitFor(
      () => (cloudA.stderr().match(/AMQP connected/g)?.length === 2 ? true : undefined),
      'cloud A reconnected to another node',
      60_000,
    );
    expect(cloudA.stderr()).toContain('AMQP connection lost');

    cloudA.child.kill('SIGKILL');
    sellRound();
    const total = 3 * SALES_EACH_PHASE;
    await waitFor(
      () => (terminals.every((t) => t.config.version === 1) ? true : undefined),
      'the config applied on every terminal',
      90_000,
      100,
    );
    // The config.applied records too: every record of every ledger.
    await waitFor(
      () => (terminals.every((t) => t.ledger.ackedUpTo() === t.ledger.lastSeq()) ? true : undefined),
      'every record acknowledged',
      90_000,
      100,
    );

    // Every device the node kill cut off reconnected.
    const cut = terminals.filter((t) => t.disconnects > 0);
    expect(cut.length).toBeGreaterThan(0);
    for (const t of cut) expect(t.connects).toBeGreaterThan(1);
    for (const t of terminals) expect(t.connected).toBe(true);

    // Every record a device marked synced is in PostgreSQL exactly once.
    const db = pusher.store.pool;
    for (const t of terminals) {
      const local = t.records().filter((r) => r.type === 'sale.completed');
      expect(local).toHaveLength(total);
      const synced = t.records().filter((r) => r.sync === 'synced');
      const rows = await db.query<{ seq: number; id: string }>(
        "SELECT seq, id FROM records WHERE tenant = $1 AND device = $2 AND status = 'ok' ORDER BY seq",
        [TENANT, t.o.device],
      );
      const ids = rows.rows.map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const r of synced) expect(ids.filter((id) => id === r.id)).toHaveLength(1);
      expect(synced.map((r) => r.id).sort()).toEqual([...ids].sort());
    }
  }, 240_000);
});
