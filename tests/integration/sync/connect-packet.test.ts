import { createServer, type Server } from 'node:net';
import mqttPacket from 'mqtt-packet';
import { afterAll, describe, expect, it } from 'vitest';
import { MqttLink } from '../../../src/sync/mqtt-link.js';
import { topicsFor } from '../../../src/sync/topics.js';
import { silentLogger } from '../../helpers/test-log.js';
import { waitFor } from '../../helpers/wait.js';

/** What the device says in CONNECT, read off the wire by a listener that parses MQTT 5. */
let server: Server | undefined;
afterAll(() => server?.close());

describe('MQTT CONNECT', () => {
  it('sends Maximum Packet Size, so the broker never delivers a payload the device would refuse', async () => {
    const packets: Array<Record<string, unknown>> = [];
    server = createServer((socket) => {
      const parser = mqttPacket.parser({ protocolVersion: 5 });
      parser.on('packet', (p) => packets.push(p as unknown as Record<string, unknown>));
      socket.on('data', (d) => parser.parse(d));
      socket.on('error', () => {});
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const link = new MqttLink({
      url: `mqtt://127.0.0.1:${port}`,
      clientId: 't1.D1',
      topics: topicsFor('t1', 'D1'),
      epoch: 'e',
      appVersion: 'test',
      bootedAt: new Date().toISOString(),
      log: silentLogger(),
      backoff: { initialMs: 60_000, maxMs: 60_000 },
    });
    link.start();
    const connect = await waitFor(() => packets.find((p) => p.cmd === 'connect'), 'CONNECT');
    await link.stop();
    const properties = connect.properties as { maximumPacketSize?: number; sessionExpiryInterval?: number };
    expect(properties.sessionExpiryInterval).toBe(3600);
    expect(properties.maximumPacketSize).toBe(1024 * 1024 + 64 * 1024);
  });
});
