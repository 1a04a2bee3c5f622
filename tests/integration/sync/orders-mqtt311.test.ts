import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '../../../cloud/cloud-service.js';
import { apiClient } from '../../helpers/api.js';
import { cloudKeys, deviceLedger, startCloud } from '../../helpers/cloud-fixture.js';
import { type DaemonProcess, spawnPosd, waitHealthy, writeTestConfig } from '../../helpers/daemon.js';
import { Mosquitto } from '../../helpers/mosquitto.js';
import { TcpProxy } from '../../helpers/tcp-proxy.js';
import { waitFor } from '../../helpers/wait.js';

const broker = new Mosquitto();
const keys = cloudKeys();
let cloud: CloudService;
let proxy: TcpProxy;
let daemon: DaemonProcess;
let api: ReturnType<typeof apiClient>;

const order = (id: string) => ({
  id,
  source: 'meituan',
  placedAt: new Date().toISOString(),
  lines: [{ name: '牛肉面', qty: 2, unitPrice: 1800 }],
  total: 3600,
  currency: 'CNY',
});

beforeAll(async () => {
  await broker.start();
  proxy = new TcpProxy(broker.port);
  await proxy.start();
  cloud = await startCloud(broker.url, keys.privateKey);
  const cfg = await writeTestConfig({
    mqtt: {
      url: `mqtt://127.0.0.1:${proxy.port}`,
      protocolVersion: 4,
      reconnectMinMs: 100,
      reconnectMaxMs: 300,
    },
    cloud: { publicKey: keys.publicPem },
  });
  daemon = spawnPosd(['run', '--config', cfg.file]);
  await waitHealthy(cfg.port);
  api = apiClient(cfg.port, cfg.stateDir);
  await cloud.pushConfig('t1', 'D1', 1, {
    payments: { requestTimeoutMs: 500, queryDelayMs: 150, queryIntervalMs: 150, resolveWithinMs: 1_500 },
  });
  await waitFor(
    async () => ((await deviceLedger(api)).some((r) => r.type === 'config.applied') ? true : undefined),
    'config',
  );
});

afterAll(async () => {
  daemon?.child.kill('SIGKILL');
  await proxy?.stop();
  await cloud?.stop();
  await broker.stop();
});

async function received(): Promise<string[]> {
  return (await deviceLedger(api))
    .filter((r) => r.type === 'order.received')
    .map((r) => String(r.body.orderId));
}

describe('MQTT 3.1.1 and online orders', () => {
  it('requests are matched on reqId alone: a code payment completes over 3.1.1', async () => {
    const sale = await api.call<{ saleId: string }>('POST', '/api/v1/sales', {
      lines: [{ name: 'x', qty: 1, unitPrice: 700 }],
    });
    const pay = await api.call('POST', `/api/v1/sales/${sale.body.saleId}/payments`, {
      method: 'code',
      authCode: '134567890123456785', // USERPAYING, then SUCCESS on the 2nd query
    });
    expect(pay.status).toBe(202);
    await waitFor(
      async () =>
        (await api.call<{ status: string }>('GET', `/api/v1/sales/${sale.body.saleId}`)).body.status ===
        'completed'
          ? true
          : undefined,
      'paid over 3.1.1',
    );
  });

  it('an order pushed live is received once; orders pushed while offline arrive by orders.pull after reconnect', async () => {
    await cloud.pushOrder('t1', 'D1', order('o-live'));
    await waitFor(async () => ((await received()).includes('o-live') ? true : undefined), 'live order');

    proxy.setRefusing(true); // the terminal is offline
    await waitFor(
      async () =>
        ((await fetch(api.base + '/healthz').then((r) => r.json())) as { status: string }).status ===
          'degraded' || undefined,
      'link down',
    );
    await cloud.pushOrder('t1', 'D1', order('o-offline-1'));
    await cloud.pushOrder('t1', 'D1', order('o-offline-2'));
    proxy.setRefusing(false);
    await waitFor(
      async () => {
        const ids = await received();
        return ids.includes('o-offline-1') && ids.includes('o-offline-2') ? ids : undefined;
      },
      'offline orders pulled',
      20_000,
    );
    // Push and pull overlap: still once each.
    await cloud.pushOrder('t1', 'D1', order('o-live')).catch(() => {});
    const ids = await received();
    expect(ids.filter((id) => id === 'o-live')).toHaveLength(1);
    expect(ids.filter((id) => id === 'o-offline-1')).toHaveLength(1);

    const accepted = await api.call<{ status: string }>('POST', '/api/v1/orders/o-offline-1/accept');
    expect(accepted.body.status).toBe('accepted');
  });
});
