import { afterEach, describe, expect, it } from 'vitest';
import { apiClient } from '../../helpers/api.js';
import { cloudKeys, deviceLedger, expectCloudMatches, startCloud } from '../../helpers/cloud-fixture.js';
import {
  type DaemonProcess,
  spawnPosd,
  waitHealthy,
  withTimeout,
  writeTestConfig,
} from '../../helpers/daemon.js';
import { Mosquitto } from '../../helpers/mosquitto.js';
import { TcpProxy } from '../../helpers/tcp-proxy.js';
import { waitFor } from '../../helpers/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const cash = (i: number) => ({
  lines: [{ name: `item ${i}`, qty: 1, unitPrice: 100 + i }],
  tenders: [{ method: 'cash', amount: 10_000 }],
});

async function setup(brokerPort: number, extra: Record<string, unknown> = {}) {
  const keys = cloudKeys();
  const cfg = await writeTestConfig({
    mqtt: { url: `mqtt://127.0.0.1:${brokerPort}`, reconnectMinMs: 100, reconnectMaxMs: 500 },
    cloud: { publicKey: keys.publicPem },
    ...extra,
  });
  let daemon: DaemonProcess = spawnPosd(['run', '--config', cfg.file]);
  cleanups.push(() => {
    daemon.child.kill('SIGKILL');
  });
  await waitHealthy(cfg.port);
  const api = apiClient(cfg.port, cfg.stateDir);
  return {
    keys,
    cfg,
    api,
    get daemon() {
      return daemon;
    },
    async restart(signal: NodeJS.Signals = 'SIGKILL') {
      daemon.child.kill(signal);
      await daemon.exited;
      daemon = spawnPosd(['run', '--config', cfg.file]);
      await waitHealthy(cfg.port);
    },
  };
}

async function allSynced(api: ReturnType<typeof apiClient>, timeoutMs = 60_000) {
  return waitFor(
    async () => {
      const ledger = await deviceLedger(api);
      return ledger.length > 0 && ledger.every((r) => r.sync === 'synced') ? ledger : undefined;
    },
    'every record synced on the device',
    timeoutMs,
    100,
  );
}

describe('ledger uplink against a real mosquitto', () => {
  it('sales made while the broker is down all arrive once, in order, chain verified, then are synced', async () => {
    const broker = new Mosquitto();
    cleanups.push(() => broker.stop());
    await broker.start();
    await broker.stop(); // the port is known; the broker is down
    const t = await setup(broker.port);
    for (let i = 0; i < 60; i++)
      expect((await t.api.call('POST', '/api/v1/sales', cash(i))).status).toBe(201);

    await broker.start();
    const cloud = await startCloud(broker.url, t.keys.privateKey);
    cleanups.push(() => cloud.stop());
    const ledger = await allSynced(t.api);
    expect(ledger.filter((r) => r.type === 'sale.completed')).toHaveLength(60);
    expect(expectCloudMatches(cloud, 't1', 'D1', ledger)).toEqual({ missing: 0, extra: 0, chainOk: true });
  });

  it('0 lost and 0 duplicated while the link is cut mid-batch again and again', async () => {
    const broker = new Mosquitto();
    cleanups.push(() => broker.stop());
    await broker.start();
    const proxy = new TcpProxy(broker.port);
    await proxy.start();
    cleanups.push(() => proxy.stop());
    const t = await setup(proxy.port);
    const cloud = await startCloud(broker.url, t.keys.privateKey);
    cleanups.push(() => cloud.stop());

    // Cut the link every 40 sales while the uplink drains: batches are in flight each time.
    let cuts = 0;
    for (let i = 0; i < 400; i++) {
      expect((await t.api.call('POST', '/api/v1/sales', cash(i))).status).toBe(201);
      if (i % 40 === 39) {
        proxy.cut();
        cuts += 1;
      }
    }
    expect(cuts).toBe(10);
    const ledger = await allSynced(t.api);
    expect(ledger.filter((r) => r.type === 'sale.completed')).toHaveLength(400);
    expect(expectCloudMatches(cloud, 't1', 'D1', ledger)).toEqual({ missing: 0, extra: 0, chainOk: true });
  });

  it('0 lost and 0 duplicated across a broker restart and a daemon SIGKILL mid-drain', async () => {
    const broker = new Mosquitto();
    cleanups.push(() => broker.stop());
    await broker.start();
    await broker.stop();
    const t = await setup(broker.port);
    for (let i = 0; i < 300; i++)
      expect((await t.api.call('POST', '/api/v1/sales', cash(i))).status).toBe(201);
    await broker.start();
    const cloud = await startCloud(broker.url, t.keys.privateKey);
    cleanups.push(() => cloud.stop());
    await waitFor(() => (cloud.batches >= 1 ? true : undefined), 'the drain to start', 20_000, 5);
    await t.restart('SIGKILL'); // killed mid-drain
    await waitFor(() => (cloud.batches >= 3 ? true : undefined), 'more batches', 20_000, 5);
    await cloud.stop();
    await broker.stop(); // and the broker restarts mid-drain too
    await broker.start();
    const cloud2 = await startCloud(broker.url, t.keys.privateKey, cloud.store.db.name);
    cleanups.push(() => cloud2.stop());
    const ledger = await allSynced(t.api);
    expect(expectCloudMatches(cloud2, 't1', 'D1', ledger)).toEqual({ missing: 0, extra: 0, chainOk: true });
    t.daemon.child.kill('SIGTERM');
    expect((await withTimeout(t.daemon.exited, 5_000, 'clean exit')).code).toBe(0);
  });
});
