import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../../helpers/api.js';
import { cloudKeys } from '../../helpers/cloud-fixture.js';
import { spawnPosd, waitHealthy, withTimeout, writeTestConfig } from '../../helpers/daemon.js';
import { Mosquitto } from '../../helpers/mosquitto.js';
import { waitFor } from '../../helpers/wait.js';

const broker = new Mosquitto();
beforeAll(() => broker.start());
afterAll(() => broker.stop());

describe('status and reported state', () => {
  it('birth online, Last Will lost on SIGKILL, offline on a clean stop, retained state with figures', async () => {
    const keys = cloudKeys();
    const cfg = await writeTestConfig({
      mqtt: { url: broker.url, reconnectMinMs: 100, reconnectMaxMs: 300 },
      cloud: { publicKey: keys.publicPem },
    });
    const monitor = await mqtt.connectAsync(broker.url, { clientId: 'monitor', protocolVersion: 5 });
    const seen: Array<{ topic: string; body: Record<string, unknown> }> = [];
    monitor.on('message', (topic, payload) => seen.push({ topic, body: JSON.parse(payload.toString()) }));
    await monitor.subscribeAsync(['pos/v1/t1/D1/status', 'pos/v1/t1/D1/up/state']);
    const statuses = () => seen.filter((m) => m.topic.endsWith('/status')).map((m) => m.body);

    let d = spawnPosd(['run', '--config', cfg.file]);
    await waitHealthy(cfg.port);
    await waitFor(() => statuses().find((s) => s.state === 'online'), 'birth');
    const birth = statuses().find((s) => s.state === 'online')!;
    expect(birth).toMatchObject({
      epoch: expect.any(String),
      connId: expect.any(String),
      appVersion: expect.any(String),
    });

    const api = apiClient(cfg.port, cfg.stateDir);
    await api.call('POST', '/api/v1/sales', {
      lines: [{ name: 'x', qty: 1, unitPrice: 100 }],
      tenders: [{ method: 'cash', amount: 100 }],
    });
    const state = await waitFor(
      () =>
        seen
          .filter((m) => m.topic.endsWith('/up/state'))
          .map((m) => m.body)
          .find((b) => b.lastSeq === 3),
      'reported state after the sale',
    );
    expect(state).toMatchObject({
      epoch: birth.epoch,
      configVersion: 0,
      outboxDepth: 3,
      offlineTotals: { amount: 100, count: 1 },
    });

    d.child.kill('SIGKILL');
    await d.exited;
    const lost = await waitFor(() => statuses().find((s) => s.state === 'lost'), 'Last Will');
    expect(lost).toEqual({ state: 'lost', epoch: birth.epoch, connId: birth.connId });

    d = spawnPosd(['run', '--config', cfg.file]);
    await waitHealthy(cfg.port);
    await waitFor(
      () => (statuses().filter((s) => s.state === 'online').length === 2 ? true : undefined),
      'second birth',
    );
    const second = statuses().filter((s) => s.state === 'online')[1]!;
    expect(second.connId).not.toBe(birth.connId);
    d.child.kill('SIGTERM');
    expect((await withTimeout(d.exited, 5_000, 'clean stop')).code).toBe(0);
    const offline = await waitFor(() => statuses().find((s) => s.state === 'offline'), 'clean offline');
    expect(offline).toMatchObject({ connId: second.connId });
    expect(statuses().filter((s) => s.state === 'lost')).toHaveLength(1);
    await monitor.endAsync();
  });
});
