import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { type RabbitCluster, startRabbitMq } from '../../helpers/rabbitmq.js';

/** What an MQTT client of `version` sees on connecting: a CONNACK or the socket closing. */
function connectOutcome(url: string, version: 4 | 5): Promise<'connack' | 'closed'> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, {
      protocolVersion: version,
      reconnectPeriod: 0,
      connectTimeout: 60_000,
      clientId: `probe-v${version}-${Date.now()}`,
    });
    client.once('connect', () => {
      client.end(true);
      resolve('connack');
    });
    client.on('error', () => undefined);
    client.once('close', () => {
      client.end(true);
      resolve('closed');
    });
  });
}

describe('throwaway RabbitMQ', () => {
  let cluster: RabbitCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('one node: MQTT 3.1.1 connects, an MQTT 5 CONNECT is closed without a CONNACK', async () => {
    const t0 = Date.now();
    cluster = await startRabbitMq();
    console.log(`rabbitmq: 1 node up in ${Date.now() - t0} ms`);
    const [node] = cluster.nodes;
    if (!node) throw new Error('no node');
    expect(await connectOutcome(node.mqttUrl, 4)).toBe('connack');
    expect(await connectOutcome(node.mqttUrl, 5)).toBe('closed');
    expect(await node.ctl(['eval', 'rabbit_mqtt_util:env(durable_queue_type).'])).toContain('quorum');
  }, 300_000);

  it('three nodes: clustered; a SIGKILLed node leaves the running set and rejoins on restart', async () => {
    const t0 = Date.now();
    cluster = await startRabbitMq({ nodes: 3 });
    console.log(`rabbitmq: 3-node cluster up in ${Date.now() - t0} ms`);
    const [n1, n2, n3] = cluster.nodes;
    if (!n1 || !n2 || !n3) throw new Error('no nodes');
    expect((await cluster.runningNodes()).sort()).toEqual([n1.nodename, n2.nodename, n3.nodename].sort());
    const pid = n1.pid;
    await n1.kill();
    expect(() => process.kill(pid, 0)).toThrow();
    expect(await connectOutcome(n2.mqttUrl, 4)).toBe('connack');
    expect(await cluster.runningNodes(n2)).not.toContain(n1.nodename);
    const t1 = Date.now();
    await n1.restart();
    console.log(`rabbitmq: killed node back in the cluster in ${Date.now() - t1} ms`);
    expect(await cluster.runningNodes(n3)).toContain(n1.nodename);
    expect(await connectOutcome(n1.mqttUrl, 4)).toBe('connack');
  }, 600_000);
});
