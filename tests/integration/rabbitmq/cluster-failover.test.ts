import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudService } from '../../../cloud/cloud-service.js';
import { apiClient } from '../../helpers/api.js';
import { cloudKeys, deviceLedger, expectCloudMatches } from '../../helpers/cloud-fixture.js';
import {
  type DaemonProcess,
  spawnPosd,
  tempDir,
  waitHealthy,
  writeTestConfig,
} from '../../helpers/daemon.js';
import { type RabbitCluster, startRabbitMq } from '../../helpers/rabbitmq.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * posd on a three-node RabbitMQ 3.10 cluster (MQTT 3.1.1, sessions on quorum queues), given all
 * three nodes: the node it is connected to is SIGKILLed mid-sales. It moves to another node, every
 * record reaches the cloud exactly once, and a config pushed while the node is down reaches it.
 */
let rabbit: RabbitCluster;
let cloud: CloudService | undefined;
let posd: DaemonProcess | undefined;
let cloudPublicPem = '';

beforeAll(async () => {
  rabbit = await startRabbitMq({ nodes: 3 });
}, 400_000);

afterAll(async () => {
  posd?.child.kill('SIGKILL');
  await posd?.exited;
  await cloud?.stop();
  await rabbit?.stop();
}, 120_000);

interface Line {
  msg: string;
  url?: string;
  mqtt?: number;
}

const linkUps = (p: DaemonProcess): Line[] =>
  p
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line)
    .filter((l) => l.msg === 'cloud link up');

const cash = (i: number) => ({
  lines: [{ name: `item ${i}`, qty: 1, unitPrice: 100 + i }],
  tenders: [{ method: 'cash', amount: 10_000 }],
});

describe('posd on a RabbitMQ cluster', () => {
  it('a killed node: posd moves to another, every record once in the cloud, a config pushed meanwhile arrives', async () => {
    const [n1, n2, n3] = rabbit.nodes;
    if (!n1 || !n2 || !n3) throw new Error('three nodes');
    const keys = cloudKeys();
    cloudPublicPem = keys.publicPem;
    // The cloud on node 3 (not killed); RabbitMQ has no MQTT 5, so 3.1.1 and plain subscriptions.
    cloud = new CloudService({
      brokerUrl: n3.mqttUrl,
      dbFile: `${tempDir('posd-cloud-')}/cloud.db`,
      signingKey: keys.privateKey,
      protocolVersion: 4,
    });
    await cloud.start();
    const cfg = await writeTestConfig({
      mqtt: { urls: [n1.mqttUrl, n2.mqttUrl, n3.mqttUrl], reconnectMinMs: 200, reconnectMaxMs: 2_000 },
      cloud: { publicKey: keys.publicPem },
      log: { level: 'info' },
    });
    posd = spawnPosd(['run', '--config', cfg.file]);
    const daemon = posd;
    await waitHealthy(cfg.port, 60_000);
    const api = apiClient(cfg.port, cfg.stateDir);
    const configVersion = async () =>
      (await deviceLedger(api))
        .filter((r) => r.type === 'config.applied')
        .map((r) => (r.body as { version: number }).version);

    await cloud.pushConfig('t1', 'D1', 1, { merchant: { name: 'Before' } });
    await waitFor(
      async () => ((await configVersion()).includes(1) ? true : undefined),
      'config 1',
      120_000,
      200,
    );
    expect(linkUps(daemon)[0]).toMatchObject({ url: n1.mqttUrl, mqtt: 4 });

    for (let i = 0; i < 30; i++) expect((await api.call('POST', '/api/v1/sales', cash(i))).status).toBe(201);
    // The device's session (clean session false, QoS 1 subscription) is a quorum queue: it outlives
    // a node. Topic levels map to AMQP routing-key words on amq.topic ('/' becomes '.').
    const queues = JSON.parse(
      await n2.ctl(['list_queues', 'name', 'type', 'durable', '--formatter', 'json']),
    ) as Array<{
      name: string;
      type: string;
    }>;
    expect(queues).toContainEqual(
      expect.objectContaining({ name: 'mqtt-subscription-t1.D1qos1', type: 'quorum' }),
    );
    const bindings = JSON.parse(
      await n2.ctl([
        'list_bindings',
        'source_name',
        'routing_key',
        'destination_name',
        '--formatter',
        'json',
      ]),
    ) as Array<{ source_name: string; routing_key: string; destination_name: string }>;
    expect(bindings).toContainEqual({
      source_name: 'amq.topic',
      routing_key: 'pos.v1.t1.D1.down.config',
      destination_name: 'mqtt-subscription-t1.D1qos1',
    });

    // Mid-drain: node 1 dies with the device's connection on it; a config is signed meanwhile.
    const killedAt = Date.now();
    await n1.kill();
    await cloud.pushConfig('t1', 'D1', 2, { merchant: { name: 'During the outage' } });
    for (let i = 30; i < 60; i++) expect((await api.call('POST', '/api/v1/sales', cash(i))).status).toBe(201);

    const moved = await waitFor(
      () => linkUps(daemon).find((l) => l.url !== n1.mqttUrl),
      `the link up on another node\n${daemon.stdout().slice(-3000)}`,
      180_000,
      200,
    );
    expect([n2.mqttUrl, n3.mqttUrl]).toContain(moved.url);
    console.log(`posd back on ${moved.url} ${Date.now() - killedAt} ms after node 1 was killed`);
    await waitFor(
      async () => ((await configVersion()).includes(2) ? true : undefined),
      'config 2',
      120_000,
      200,
    );
    const ledger = await waitFor(
      async () => {
        const all = await deviceLedger(api);
        return all.length > 0 && all.every((r) => r.sync === 'synced') ? all : undefined;
      },
      'every record synced',
      180_000,
      200,
    );
    expect(ledger.filter((r) => r.type === 'sale.completed')).toHaveLength(60);
    expect(expectCloudMatches(cloud, 't1', 'D1', ledger)).toEqual({ missing: 0, extra: 0, chainOk: true });
    console.log(
      'configs received:',
      daemon
        .stdout()
        .split('\n')
        .filter((l) => l.includes('"config received"'))
        .map((l) => JSON.parse(l) as { version: number; via: string })
        .map((l) => `v${l.version} by ${l.via}`),
    );
  }, 600_000);

  it('a config signed before a first boot, retained on another node, reaches the device by config.current', async () => {
    const [, n2, n3] = rabbit.nodes;
    if (!n2 || !n3 || !cloud) throw new Error('needs the first test');
    // Retained on node 3 (the cloud's node) only: RabbitMQ keeps retained messages per node.
    await cloud.pushConfig('t1', 'D2', 1, { merchant: { name: 'Signed before boot' } });
    const cfg = await writeTestConfig({
      device: { tenant: 't1', id: 'D2' },
      mqtt: { urls: [n2.mqttUrl, n3.mqttUrl], reconnectMinMs: 200, reconnectMaxMs: 2_000 },
      cloud: { publicKey: cloudPublicPem },
      log: { level: 'info' },
    });
    const d2 = spawnPosd(['run', '--config', cfg.file]);
    try {
      await waitHealthy(cfg.port, 60_000);
      const api = apiClient(cfg.port, cfg.stateDir);
      await waitFor(
        async () => ((await deviceLedger(api)).some((r) => r.type === 'config.applied') ? true : undefined),
        `config 1 on D2\n${d2.stdout().slice(-3000)}`,
        120_000,
        200,
      );
      expect(linkUps(d2)[0]).toMatchObject({ url: n2.mqttUrl });
      const received = d2
        .stdout()
        .split('\n')
        .filter((l) => l.includes('"config received"'))
        .map((l) => JSON.parse(l) as { via: string });
      expect(received.map((r) => r.via)).toEqual(['config.current']);
    } finally {
      d2.child.kill('SIGKILL');
      await d2.exited;
    }
  }, 300_000);
});
