import { sign } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '../../../cloud/cloud-service.js';
import { canonicalJson } from '../../../src/offline/chain.js';
import { topicsFor } from '../../../src/sync/topics.js';
import { cloudKeys, startCloud } from '../../helpers/cloud-fixture.js';
import { type DaemonProcess, spawnPosd, waitHealthy, writeTestConfig } from '../../helpers/daemon.js';
import { Mosquitto } from '../../helpers/mosquitto.js';
import { waitFor } from '../../helpers/wait.js';

/*
 * Command answers go to `P/up/resp` only (mqtt-v1 "Commands"): a Response Topic of the sender's
 * choosing, even `#` or another device's topic, is ignored, and the device stays connected.
 */

const broker = new Mosquitto();
const keys = cloudKeys();
const T = topicsFor('t1', 'RT1');
let cloud: CloudService;
let daemon: DaemonProcess;
let monitor: MqttClient;
const seen: Array<{ topic: string; body: Record<string, unknown> }> = [];

beforeAll(async () => {
  await broker.start();
  // The monitor sees every publish on the broker, from the start.
  monitor = await mqtt.connectAsync(broker.url, { clientId: 'monitor', protocolVersion: 5 });
  monitor.on('message', (topic, payload) => {
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(payload.toString()) as Record<string, unknown>;
    } catch {
      // not JSON: the topic is what matters
    }
    seen.push({ topic, body });
  });
  await monitor.subscribeAsync('#', { qos: 1 });
  cloud = await startCloud(broker.url, keys.privateKey);
  const cfg = await writeTestConfig({
    device: { tenant: 't1', id: 'RT1' },
    mqtt: { url: broker.url, reconnectMinMs: 100, reconnectMaxMs: 300 },
    cloud: { publicKey: keys.publicPem },
  });
  daemon = spawnPosd(['run', '--config', cfg.file]);
  await waitHealthy(cfg.port);
  await waitFor(() => seen.find((m) => m.topic === T.status && m.body.state === 'online'), 'birth');
}, 60_000);

afterAll(async () => {
  daemon?.child.kill('SIGKILL');
  await monitor?.endAsync();
  await cloud?.stop();
  await broker.stop();
});

function signedCommand(name: string, args: Record<string, unknown> = {}) {
  const cmdId = uuidv7();
  const issuedAt = new Date().toISOString();
  const expiresAt = new Date(Date.now() + 60_000).toISOString();
  const fields = { cmdId, name, args, issuedAt, expiresAt };
  return {
    ...fields,
    sig: sign(null, Buffer.from(canonicalJson(fields)), keys.privateKey).toString('base64'),
  };
}

describe('command answers', () => {
  it('go to P/up/resp whatever Response Topic the command names; the device stays connected', async () => {
    const sender = await mqtt.connectAsync(broker.url, { clientId: 'sender', protocolVersion: 5 });
    const unsigned = { ...signedCommand('diagnostics'), sig: 'AAAA' };
    const cases = [
      { cmd: signedCommand('diagnostics'), responseTopic: '#' },
      { cmd: signedCommand('diagnostics'), responseTopic: 'pos/v1/t1/OTHER/down/resp' },
      { cmd: unsigned, responseTopic: 'pos/v1/t1/OTHER/down/cmd' },
      { cmd: signedCommand('diagnostics'), responseTopic: 'pos/v1/+/+/up/ledger' },
    ];
    for (const { cmd, responseTopic } of cases) {
      await sender.publishAsync(T.downCmd, JSON.stringify(cmd), {
        qos: 1,
        properties: { responseTopic, correlationData: Buffer.from(cmd.cmdId) },
      });
    }
    for (const { cmd } of cases) {
      const answer = await waitFor(
        () => seen.find((m) => m.body.reqId === cmd.cmdId),
        `answer to ${cmd.cmdId}`,
      );
      expect(answer.topic).toBe(T.upResp);
    }
    expect(seen.find((m) => m.body.reqId === unsigned.cmdId)?.body).toMatchObject({
      ok: false,
      error: { code: 'BAD_SIGNATURE' },
    });
    await sender.endAsync();
    // Still the first connection: one birth, no Last Will; and the reference cloud gets answers.
    expect(await cloud.pushCommand('t1', 'RT1', 'diagnostics', {})).toMatchObject({ ok: true });
    const statuses = seen.filter((m) => m.topic === T.status).map((m) => m.body.state);
    expect(statuses).toEqual(['online']);
    expect(daemon.child.exitCode).toBeNull();
    // The device published only under P/status and P/up/; everything else here is the cloud's P/down/.
    const outside = seen
      .map((m) => m.topic)
      .filter(
        (t) => t !== T.status && !t.startsWith(`${T.prefix}/up/`) && !t.startsWith(`${T.prefix}/down/`),
      );
    expect(outside).toEqual([]);
  });
});
