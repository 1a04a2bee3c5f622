import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicsFor } from '../../../src/sync/topics.js';
import { cloudKeys } from '../../helpers/cloud-fixture.js';
import { type DaemonProcess, spawnPosd, waitHealthy, writeTestConfig } from '../../helpers/daemon.js';
import { Mosquitto } from '../../helpers/mosquitto.js';
import { waitFor } from '../../helpers/wait.js';

// A provisioning file the image refused (image/files/provision.mjs leaves
// {stateDir}/provisioning-refused.json) is reported in P/up/state under extensions.
const broker = new Mosquitto();
const keys = cloudKeys();
let daemon: DaemonProcess;
const T = topicsFor('t1', 'D1');
const refusal = {
  at: '2026-12-05T08:00:00.000Z',
  code: 'UNSIGNED',
  reasons: ["device D1 is provisioned: a new file must be signed by the fleet's provisioning key"],
  sha256: 'b'.repeat(64),
};

beforeAll(async () => {
  await broker.start();
  const cfg = await writeTestConfig({
    mqtt: { url: broker.url, reconnectMinMs: 100, reconnectMaxMs: 500 },
    cloud: { publicKey: keys.publicPem },
  });
  mkdirSync(cfg.stateDir, { recursive: true });
  writeFileSync(join(cfg.stateDir, 'provisioning-refused.json'), JSON.stringify(refusal));
  daemon = spawnPosd(['run', '--config', cfg.file]);
  await waitHealthy(cfg.port);
});

afterAll(async () => {
  daemon?.child.kill('SIGKILL');
  await daemon?.exited;
  await broker.stop();
});

describe('a refused provisioning file', () => {
  it('is in the reported state (P/up/state extensions.provisioningRefused)', async () => {
    const monitor = await mqtt.connectAsync(broker.url, { clientId: 'state-monitor', protocolVersion: 5 });
    let seen: unknown;
    monitor.on('message', (_t, payload) => {
      seen = (JSON.parse(payload.toString()) as { extensions?: { provisioningRefused?: unknown } }).extensions
        ?.provisioningRefused;
    });
    await monitor.subscribeAsync(T.upState, { qos: 1 });
    await waitFor(() => seen, 'the refusal in the reported state', 20_000);
    expect(seen).toEqual(refusal);
    await monitor.endAsync();
  });
});
