import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { VersionMemory } from '../../../src/sync/broker-rotation.js';
import { MqttLink } from '../../../src/sync/mqtt-link.js';
import { topicsFor } from '../../../src/sync/topics.js';
import { refusedPort } from '../../helpers/daemon.js';
import { Mosquitto } from '../../helpers/mosquitto.js';
import { Mqtt311Front } from '../../helpers/mqtt311-front.js';
import { waitFor } from '../../helpers/wait.js';
import { captureLog } from '../../unit/devices/helpers/capture-log.js';

/** A broker that hangs up on an MQTT 5 CONNECT (RabbitMQ 3.10's MQTT plugin) is spoken to in 3.1.1. */
let broker: Mosquitto;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  broker = new Mosquitto();
  await broker.start();
});

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

afterAll(() => broker.stop());

function mapMemory(): VersionMemory & { map: Map<string, number> } {
  const map = new Map<string, number>();
  return { map, get: (u) => map.get(u), remember: (u, at) => map.set(u, at) };
}

function link(
  urls: string[],
  o: { memory?: VersionMemory; protocolVersion?: 4 | 5; log?: ReturnType<typeof captureLog>['log'] } = {},
) {
  const l = new MqttLink({
    urls,
    clientId: 't1.D1',
    topics: topicsFor('t1', 'D1'),
    epoch: 'e',
    appVersion: 'test',
    bootedAt: new Date().toISOString(),
    log: o.log ?? captureLog().log,
    backoff: { initialMs: 20, maxMs: 100 },
    connectTimeoutMs: 30_000,
    ...(o.memory ? { versionMemory: o.memory } : {}),
    ...(o.protocolVersion ? { protocolVersion: o.protocolVersion } : {}),
  });
  cleanups.push(() => l.stop());
  return l;
}

async function front(): Promise<Mqtt311Front> {
  const f = new Mqtt311Front(broker.port);
  await f.start();
  cleanups.push(() => f.stop());
  return f;
}

const warnings = (lines: string[]) =>
  lines.map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.level === 'warn');

describe('MQTT 3.1.1 fallback', () => {
  it('a v5 CONNECT closed without a CONNACK is retried as 3.1.1 at once, and remembered per broker', async () => {
    const f = await front();
    const memory = mapMemory();
    const { log, lines } = captureLog();
    const first = link([f.url], { memory, log });
    first.start();
    await waitFor(() => (first.isConnected ? true : undefined), 'link up over 3.1.1', 30_000);
    expect(first.version).toBe(4);
    expect(f.levels).toEqual([5, 4]);
    expect([...memory.map.keys()]).toEqual([`mqtt://127.0.0.1:${f.port}`]);
    const said = warnings(lines).map((l) => l.msg);
    expect(said).toContain('broker refused MQTT 5; trying MQTT 3.1.1');
    expect(said).toContain('broker dropped MQTT 5 but speaks MQTT 3.1.1: using 3.1.1 with it from now on');
    await first.stop();

    // The next start (same memory, as posd.db keeps it) goes straight to 3.1.1.
    f.levels.length = 0;
    const again = link([f.url], { memory });
    again.start();
    await waitFor(() => (again.isConnected ? true : undefined), 'link up again', 30_000);
    expect(f.levels).toEqual([4]);
  });

  it('an MQTT 5 broker keeps MQTT 5 and nothing is remembered', async () => {
    const memory = mapMemory();
    const l = link([broker.url], { memory });
    l.start();
    await waitFor(() => (l.isConnected ? true : undefined), 'link up over 5', 30_000);
    expect(l.version).toBe(5);
    expect(memory.map.size).toBe(0);
  });

  it('mqtt.protocolVersion 5 forces 5: no fallback, and the failure is said once at warn, not per retry', async () => {
    const f = await front();
    const { log, lines } = captureLog();
    const l = link([f.url], { protocolVersion: 5, log });
    l.start();
    await waitFor(() => (l.failedAttempts >= 6 ? true : undefined), 'six attempts', 30_000);
    expect(f.levels.every((v) => v === 5)).toBe(true);
    expect(l.isConnected).toBe(false);
    const failing = warnings(lines).filter((w) => w.msg.startsWith('cloud link'));
    expect(failing.map((w) => w.msg)).toEqual(['cloud link failing: closed without CONNACK']);
    expect(failing[0]).toMatchObject({ reason: 'closed without CONNACK', failures: 1, mqtt: 5 });
  });

  it('a refused connection is said at warn once per broker, with the reason', async () => {
    const dead = `mqtt://127.0.0.1:${await refusedPort()}`;
    const { log, lines } = captureLog();
    const l = link([dead], { log });
    l.start();
    await waitFor(() => (l.failedAttempts >= 6 ? true : undefined), 'six refused attempts', 30_000);
    const failing = warnings(lines).filter((w) => w.msg.startsWith('cloud link'));
    expect(failing).toHaveLength(1);
    expect(failing[0]).toMatchObject({
      msg: 'cloud link failing: connection refused',
      reason: 'connection refused',
    });
  });

  it('a broker that accepts the CONNECT but hangs up on the SUBSCRIBE: said once at warn, retried with backoff', async () => {
    // CONNACK (MQTT 5, success), then a close on the first SUBSCRIBE: an ACL that denies the device's topics.
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', (d: Buffer) => {
        if (d[0] === 0x10) socket.write(Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]));
        else if (d[0] === 0x82) socket.destroy();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as { port: number }).port;
    const { log, lines } = captureLog();
    const l = link([`mqtt://127.0.0.1:${port}`], { log });
    l.start();
    await waitFor(() => (l.failedAttempts >= 6 ? true : undefined), 'six attempts', 30_000);
    const failing = warnings(lines).filter((w) => w.msg.startsWith('cloud link'));
    expect(failing.map((w) => w.msg)).toEqual(['cloud link failing: refused after CONNACK']);
    expect(lines.some((x) => x.includes('"cloud link up"'))).toBe(false);
  });
});
