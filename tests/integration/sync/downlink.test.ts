import { generateKeyPairSync, sign } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '../../../cloud/cloud-service.js';
import { canonicalJson } from '../../../src/offline/chain.js';
import { topicsFor } from '../../../src/sync/topics.js';
import { apiClient } from '../../helpers/api.js';
import { cloudKeys, deviceLedger, startCloud } from '../../helpers/cloud-fixture.js';
import { type DaemonProcess, spawnPosd, waitHealthy, writeTestConfig } from '../../helpers/daemon.js';
import { Mosquitto } from '../../helpers/mosquitto.js';
import { seededRandom } from '../../helpers/random.js';
import { waitFor } from '../../helpers/wait.js';

const broker = new Mosquitto();
const keys = cloudKeys();
let cloud: CloudService;
let daemon: DaemonProcess;
let api: ReturnType<typeof apiClient>;
let port: number;
const T = topicsFor('t1', 'D1');

beforeAll(async () => {
  await broker.start();
  cloud = await startCloud(broker.url, keys.privateKey);
  const cfg = await writeTestConfig({
    mqtt: { url: broker.url, reconnectMinMs: 100, reconnectMaxMs: 500 },
    cloud: { publicKey: keys.publicPem },
  });
  port = cfg.port;
  daemon = spawnPosd(['run', '--config', cfg.file]);
  await waitHealthy(cfg.port);
  api = apiClient(cfg.port, cfg.stateDir);
  await waitFor(
    async () =>
      ((await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.json())) as { status: string })
        .status === 'ok' || undefined,
    'link up',
  );
});

afterAll(async () => {
  daemon?.child.kill('SIGKILL');
  await cloud?.stop();
  await broker.stop();
});

async function records(type: string) {
  return (await deviceLedger(api)).filter((r) => r.type === type);
}

const otherKey = generateKeyPairSync('ed25519').privateKey;
const signWith = (key: typeof otherKey, fields: Record<string, unknown>) =>
  sign(null, Buffer.from(canonicalJson(fields)), key).toString('base64');

describe('downlink: config and commands', () => {
  it('applies a valid signed config and records config.applied', async () => {
    await cloud.pushConfig('t1', 'D1', 3, { merchant: { name: '测试商户' }, locale: 'zh-CN' });
    await waitFor(
      async () => ((await records('config.applied')).length === 1 ? true : undefined),
      'config.applied',
    );
    expect((await records('config.applied'))[0]!.body).toMatchObject({ version: 3 });
  });

  it('rejects a forged config and a stale one; an invalid field changes nothing', async () => {
    const issuedAt = new Date().toISOString();
    const forgedDoc = { merchant: { name: '伪造' } };
    await cloud.publishRaw(
      T.downConfig,
      JSON.stringify({
        version: 9,
        issuedAt,
        doc: forgedDoc,
        sig: signWith(otherKey, { version: 9, issuedAt, doc: forgedDoc }),
      }),
      true,
    );
    await waitFor(
      async () => ((await records('config.rejected')).length >= 1 ? true : undefined),
      'config.rejected',
    );
    const rejected = await records('config.rejected');
    expect(rejected.at(-1)!.body).toMatchObject({ version: 9, reasons: ['signature does not verify'] });

    await cloud.pushConfig('t1', 'D1', 2, { merchant: { name: 'stale' } }); // older than 3: ignored
    await cloud.pushConfig('t1', 'D1', 10, { merchant: { name: 'x' }, offline: { maxOfflineTotal: -5 } });
    await waitFor(
      async () => ((await records('config.rejected')).length >= 2 ? true : undefined),
      'second reject',
    );
    const last = (await records('config.rejected')).at(-1)!;
    expect(last.body.version).toBe(10);
    expect(String((last.body.reasons as string[])[0])).toMatch(/^offline\.maxOfflineTotal/);
    expect((await records('config.applied')).map((r) => r.body.version)).toEqual([3]);
  });

  it('a flood of distinct unsigned or malformed config envelopes adds at most one record per reason; the rest are counted in P/up/state', async () => {
    const before = (await records('config.rejected')).length;
    const monitor = await mqtt.connectAsync(broker.url, { clientId: 'state-monitor', protocolVersion: 5 });
    let suppressed = 0;
    monitor.on('message', (_t, payload) => {
      const state = JSON.parse(payload.toString()) as {
        extensions?: { suppressedConfigRejections?: number };
      };
      suppressed = state.extensions?.suppressedConfigRejections ?? suppressed;
    });
    await monitor.subscribeAsync(T.upState, { qos: 1 });
    const issuedAt = new Date().toISOString();
    for (let i = 0; i < 100; i++) {
      const doc = { merchant: { name: `flood ${i}` } };
      const version = 1000 + i;
      await cloud.publishRaw(
        T.downConfig,
        JSON.stringify({ version, issuedAt, doc, sig: signWith(otherKey, { version, issuedAt, doc }) }),
      );
      await cloud.publishRaw(T.downConfig, JSON.stringify({ version: `v${i}`, issuedAt, doc, sig: 'A' }));
    }
    // The forged config of the test before already made this hour's bad-signature record.
    await waitFor(() => (suppressed >= 199 ? true : undefined), 'the count in the reported state', 20_000);
    await monitor.endAsync();
    const added = (await records('config.rejected')).slice(before);
    expect(added.length).toBeLessThanOrEqual(1);
    expect(added.map((r) => r.body.reasons)).toEqual(
      added.length ? [[expect.stringMatching(/version/)]] : [],
    );
    expect((await records('config.applied')).map((r) => r.body.version)).toEqual([3]);
  });

  it('runs a signed command once, answers it, and refuses forged and expired ones', async () => {
    const answer = await cloud.pushCommand('t1', 'D1', 'diagnostics', {});
    expect(answer).toMatchObject({ ok: true, result: { configVersion: 3 } });
    expect((await records('cmd.executed')).length).toBe(1);

    const issuedAt = new Date().toISOString();
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    const cmdId = 'forged-1';
    const forged = { cmdId, name: 'diagnostics', args: {}, issuedAt, expiresAt };
    expect(
      await cloud.publishAndAwait('t1', 'D1', { ...forged, sig: signWith(otherKey, forged) }, cmdId),
    ).toMatchObject({ ok: false, error: { code: 'BAD_SIGNATURE' } });

    const expired = {
      cmdId: 'old-1',
      name: 'diagnostics',
      args: {},
      issuedAt,
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    };
    expect(
      await cloud.publishAndAwait(
        't1',
        'D1',
        { ...expired, sig: signWith(keys.privateKey, expired) },
        'old-1',
      ),
    ).toMatchObject({ ok: false, error: { code: 'CMD_EXPIRED' } });

    // The same signed command delivered twice runs once.
    const twice = { cmdId: 'twice-1', name: 'ledger.resync', args: { fromSeq: 1 }, issuedAt, expiresAt };
    const signed = { ...twice, sig: signWith(keys.privateKey, twice) };
    expect(await cloud.publishAndAwait('t1', 'D1', signed, 'twice-1')).toMatchObject({ ok: true });
    expect(await cloud.publishAndAwait('t1', 'D1', signed, 'twice-1')).toMatchObject({ ok: true });
    expect((await records('cmd.executed')).filter((r) => r.body.cmdId === 'twice-1')).toHaveLength(1);
  });

  it('refuses ledger.resync with a fromSeq that is not a whole number; logs an unknown command at warn', async () => {
    for (const fromSeq of ['abc', 0, 1.5, -3]) {
      expect(await cloud.pushCommand('t1', 'D1', 'ledger.resync', { fromSeq })).toMatchObject({
        ok: false,
        error: { code: 'VALIDATION_FAILED', message: 'args.fromSeq: must be a whole number from 1' },
      });
    }
    expect(await cloud.pushCommand('t1', 'D1', 'ledger.resync', { fromSeq: 1 })).toMatchObject({
      ok: true,
      result: { fromSeq: 1 },
    });
    expect(await cloud.pushCommand('t1', 'D1', 'self.destruct', {})).toMatchObject({
      ok: false,
      error: { code: 'CMD_UNKNOWN' },
    });
    await waitFor(
      () => (daemon.stdout().includes('"msg":"unknown command refused"') ? true : undefined),
      'the warn line',
    );
    expect(daemon.stdout()).toMatch(
      /"level":"warn"[^\n]*"name":"self\.destruct"[^\n]*"msg":"unknown command refused"/,
    );
  });

  it('survives 10,000 malformed payloads on every down topic, applying none, and stays correct', async () => {
    const rand = seededRandom(4242);
    const before = await deviceLedger(api);
    const topics = [T.downAck, T.downConfig, T.downOrder, T.downCmd, T.downResp, T.downNotify];
    const shapes = [
      () => '{"truncated":',
      () => 'not json at all',
      () => Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]),
      () => JSON.stringify([1, 2, 3]),
      () => JSON.stringify(null),
      () => JSON.stringify({ epoch: 'x'.repeat(100_000), ackedUpTo: 'ten' }),
      () => JSON.stringify({ epoch: 'other-epoch', ackedUpTo: 999_999, rejected: [] }),
      () => JSON.stringify({ version: 'v', issuedAt: 5, doc: [], sig: null }),
      () => JSON.stringify({ downSeq: -1, order: { id: 5 } }),
      () => JSON.stringify({ downSeq: 1, order: { id: 'o', lines: [], total: -1 } }),
      () => JSON.stringify({ cmdId: 'c', name: 'diagnostics', issuedAt: 'x', expiresAt: 'y', sig: 'zz' }),
      () => JSON.stringify({ reqId: 'nobody-waits', ok: 'yes' }),
      () => JSON.stringify({ type: 'payment', paymentId: 'no-such-payment', status: 'SUCCESS' }),
      () => JSON.stringify({ type: 'refund' }),
      () => JSON.stringify({ a: { b: { c: { d: Array.from({ length: 50 }, () => ({ x: rand() })) } } } }),
    ];
    let sent = 0;
    while (sent < 10_000) {
      const batch: Promise<void>[] = [];
      for (let i = 0; i < 200 && sent < 10_000; i++, sent++) {
        const topic = topics[Math.floor(rand() * topics.length)]!;
        const payload = shapes[Math.floor(rand() * shapes.length)]!();
        batch.push(cloud.publishRaw(topic, payload, false));
      }
      await Promise.all(batch);
    }
    // Still up, still answering, nothing applied: the next real command and sale work.
    await waitFor(
      async () =>
        (await cloud.pushCommand('t1', 'D1', 'diagnostics', {}, 60, 2_000))?.ok ? true : undefined,
      'daemon answers',
      60_000,
      200,
    );
    const sale = await api.call('POST', '/api/v1/sales', {
      lines: [{ name: 'after the storm', qty: 1, unitPrice: 100 }],
      tenders: [{ method: 'cash', amount: 100 }],
    });
    expect(sale.status).toBe(201);
    const after = await deviceLedger(api);
    const newTypes = after.slice(before.length).map((r) => r.type);
    expect(newTypes.filter((t) => t === 'config.applied' || t === 'order.received')).toEqual([]);
    // The stale/other-epoch acks did not mark anything synced that the cloud does not hold.
    const stored = new Set(cloud.store.records('t1', 'D1').map((r) => r.seq));
    for (const r of after) if (r.sync === 'synced') expect(stored.has(r.seq)).toBe(true);
    expect(daemon.child.exitCode).toBeNull();
    // They reached the daemon and were refused there (not lost on the way).
    const diag = await cloud.pushCommand('t1', 'D1', 'diagnostics', {});
    const refused = Object.values(
      (diag!.result as { refusedPayloads: Record<string, number> }).refusedPayloads,
    );
    expect(refused.reduce((a, b) => a + b, 0)).toBeGreaterThan(5_000);
  }, 120_000);
});
