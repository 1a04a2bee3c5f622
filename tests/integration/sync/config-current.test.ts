import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '../../../cloud/cloud-service.js';
import { topicsFor } from '../../../src/sync/topics.js';
import { apiClient } from '../../helpers/api.js';
import { cloudKeys, deviceLedger, startCloud } from '../../helpers/cloud-fixture.js';
import { type DaemonProcess, spawnPosd, waitHealthy, writeTestConfig } from '../../helpers/daemon.js';
import { Mosquitto } from '../../helpers/mosquitto.js';
import { waitFor } from '../../helpers/wait.js';

// mqtt-v1 `config.current`: a clustered broker may keep retained messages on one node only, so a
// device must not depend on the retained config reaching it.
const broker = new Mosquitto();
const keys = cloudKeys();
let cloud: CloudService;
let daemon: DaemonProcess | undefined;

beforeAll(async () => {
  await broker.start();
  cloud = await startCloud(broker.url, keys.privateKey);
});

afterAll(async () => {
  daemon?.child.kill('SIGKILL');
  await cloud?.stop();
  await broker.stop();
});

describe('config.current', () => {
  it('a device whose retained config never arrives still gets it, through the same checks', async () => {
    // The cloud holds version 5 for CC1, but no retained message is on this broker (another node's).
    cloud.signConfig('t1', 'CC1', 5, { merchant: { name: '只在云端' } });
    await cloud.publishRaw(topicsFor('t1', 'CC1').downConfig, '', true);
    const cfg = await writeTestConfig({
      device: { tenant: 't1', id: 'CC1' },
      mqtt: { url: broker.url, reconnectMinMs: 100, reconnectMaxMs: 300 },
      cloud: { publicKey: keys.publicPem },
    });
    daemon = spawnPosd(['run', '--config', cfg.file]);
    await waitHealthy(cfg.port);
    const api = apiClient(cfg.port, cfg.stateDir);
    const applied = await waitFor(async () => {
      const r = (await deviceLedger(api)).filter((x) => x.type === 'config.applied');
      return r.length > 0 ? r : undefined;
    }, 'config.applied from config.current');
    expect(applied.map((r) => r.body.version)).toEqual([5]);
  });

  it('answers the newest envelope only to a device that has an older one', () => {
    const newest = cloud.signConfig('t1', 'CC2', 7, { locale: 'zh-CN' });
    cloud.signConfig('t1', 'CC2', 6, { locale: 'en' }); // older: not the newest
    const ask = (haveVersion: number) =>
      cloud.handleRequest('t1', 'CC2', { reqId: 'r', op: 'config.current', args: { haveVersion } });
    expect(ask(0)).toMatchObject({ ok: true, result: { envelope: newest } });
    expect(ask(7)).toMatchObject({ ok: true, result: { envelope: null } });
  });
});
