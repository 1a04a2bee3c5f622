import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { APP_VERSION } from '../../../src/version.js';
import { BundleServer } from '../../helpers/bundle-server.js';
import { deviceLedger } from '../../helpers/cloud-fixture.js';
import { cloudTerminals } from '../../helpers/cloud-terminals.js';
import { FakeRauc } from '../../helpers/fake-rauc.js';
import { FAST_PAYMENTS } from '../../helpers/money-fixtures.js';
import { updateReports } from '../../helpers/update-reports.js';
import { waitFor } from '../../helpers/wait.js';

/*
 * The daemon's side of issue 20 against mosquitto and the reference cloud: the signed
 * `update.install` command, the download (resumed after a SIGKILL), RAUC through its CLI (a test
 * double where a real slot would be needed), the reboot at a safe moment, and the report after it.
 */

const fx = cloudTerminals();
const servers: BundleServer[] = [];
/** Every `update` object each device reported in `P/up/state`, in order. */
const reported = updateReports(() => fx.broker.url, 'update-monitor');

type Body = Record<string, unknown> & { error?: { code: string } };

async function terminal(device: string, extra: { window?: string; payments?: Record<string, number> } = {}) {
  let rauc!: FakeRauc;
  const t = await fx.terminal(device, {
    online: false,
    config: (dir) => {
      rauc = new FakeRauc(dir, { bootedVersion: APP_VERSION, installVersion: '99.0.0' });
      return {
        update: {
          rauc: rauc.argv,
          reboot: rauc.rebootArgv,
          healthGraceSeconds: 600,
          ...(extra.window ? { window: extra.window } : {}),
        },
      };
    },
  });
  const { api } = t;
  await waitFor(
    async () => ((await api.call('GET', '/api/v1/status')).body.cloud === 'online' ? true : undefined),
    'the cloud link',
    30_000,
  );
  if (extra.payments) {
    await fx.cloud.pushConfig('t1', device, 1, { payments: extra.payments });
    await waitFor(
      async () => ((await deviceLedger(api)).some((r) => r.type === 'config.applied') ? true : undefined),
      'config applied',
    );
  }
  return { ...t, rauc };
}

async function bundle(size = 200_000, options = {}): Promise<BundleServer> {
  const s = await BundleServer.random(size, options).start();
  servers.push(s);
  return s;
}

const argsFor = (s: BundleServer) => ({
  version: '99.0.0',
  url: s.url,
  sha256: s.sha256,
  size: s.body.length,
});
const updates = (device: string) => reported.get(device) ?? [];
const lastUpdate = (device: string) => updates(device).at(-1);

afterAll(async () => {
  for (const s of servers) await s.stop();
});

describe('update.install from the cloud', () => {
  it('is accepted at once, installed through RAUC, and the reboot waits until the unresolved code payment is resolved', async () => {
    // Code ending 6: USERPAYING until reversed, which the device does after resolveWithinMs.
    const t = await terminal('UP1', { payments: { ...FAST_PAYMENTS, resolveWithinMs: 15_000 } });
    const sale = await t.api.call<Body>('POST', '/api/v1/sales', {
      lines: [{ name: 'Item', qty: 1, unitPrice: 800 }],
    });
    const saleId = String(sale.body.saleId);
    const pay = await t.api.call<Body>('POST', `/api/v1/sales/${saleId}/payments`, {
      method: 'code',
      authCode: '134567890123456786',
    });
    expect(pay.status).toBe(202);
    const s = await bundle();
    const answer = await fx.cloud.pushCommand('t1', 'UP1', 'update.install', argsFor(s));
    expect(answer).toMatchObject({
      ok: true,
      result: { accepted: true, version: '99.0.0', fromVersion: APP_VERSION },
    });
    // Installed; the payment is still unknown: the device waits, and says why.
    const waiting = await waitFor(
      () => (lastUpdate('UP1')?.state === 'waiting-to-reboot' ? lastUpdate('UP1') : undefined),
      'waiting-to-reboot in P/up/state',
      30_000,
    );
    expect(waiting).toMatchObject({ version: '99.0.0', progress: 1, error: null });
    expect(waiting.waitingFor).toContain('1 unresolved payment(s)');
    expect(t.rauc.calls('install')).toEqual([{ cmd: 'install', sha256: s.sha256 }]);
    expect(t.rauc.calls('reboot')).toEqual([]);
    const banner = await t.api.call<Body>('GET', '/api/v1/update');
    expect(banner.body).toMatchObject({ state: 'waiting-to-reboot', version: '99.0.0' });
    // The payment resolves (reversed after the bound); then, and only then, the reboot.
    const [reboot] = await waitFor(
      () => (t.rauc.calls('reboot').length > 0 ? t.rauc.calls('reboot') : undefined),
      'the reboot',
      40_000,
    );
    const ledger = await deviceLedger(t.api);
    const resolved = ledger.find((r) => ['payment.reversed', 'payment.failed'].includes(r.type));
    expect(resolved, 'the payment resolved before the reboot').toBeDefined();
    expect(Date.parse(reboot!.at!)).toBeGreaterThanOrEqual(Date.parse(resolved!.at));
    const installed = ledger.find((r) => r.type === 'update.installed');
    expect(installed?.body).toMatchObject({ version: '99.0.0', fromVersion: APP_VERSION, sha256: s.sha256 });
    await waitFor(() => (lastUpdate('UP1')?.state === 'rebooting' ? true : undefined), 'rebooting reported');
    // The cloud took the new record kind.
    await waitFor(
      () =>
        fx.cloud.store.records('t1', 'UP1').some((r) => r.type === 'update.installed') ? true : undefined,
      'update.installed synced',
    );
  });

  it('goes on downloading after posd is killed mid-way, from the bytes on disk', async () => {
    const s = await bundle(400_000, { holdAfter: (i: number) => (i === 0 ? 150_000 : undefined) });
    const t = await terminal('UP2');
    expect(await fx.cloud.pushCommand('t1', 'UP2', 'update.install', argsFor(s))).toMatchObject({ ok: true });
    const file = join(t.cfg.stateDir, 'update', `bundle-${s.sha256.slice(0, 16)}.raucb`);
    await waitFor(() => {
      try {
        return statSync(file).size >= 150_000 ? true : undefined;
      } catch {
        return undefined;
      }
    }, '150 kB on disk');
    t.daemon.child.kill('SIGKILL');
    await t.daemon.exited;
    const onDisk = statSync(file).size;
    s.release();
    await t.spawn();
    await waitFor(
      () => (t.rauc.calls('reboot').length > 0 ? true : undefined),
      'installed and rebooted',
      30_000,
    );
    expect(s.requests.map((r) => r.range)).toEqual([undefined, `bytes=${onDisk}-`]);
    expect(t.rauc.calls('install')).toEqual([{ cmd: 'install', sha256: s.sha256 }]);
  });

  it('answers a bad command at once: the running version, bad arguments, one already under way', async () => {
    const s = await bundle(50_000, { holdAfter: () => 10_000 });
    await terminal('UP3');
    expect(
      await fx.cloud.pushCommand('t1', 'UP3', 'update.install', { ...argsFor(s), version: APP_VERSION }),
    ).toMatchObject({
      ok: false,
      error: { code: 'UPDATE_SAME_VERSION' },
    });
    expect(await fx.cloud.pushCommand('t1', 'UP3', 'update.install', { version: '99.0.0' })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED' },
    });
    expect(await fx.cloud.pushCommand('t1', 'UP3', 'update.install', argsFor(s))).toMatchObject({ ok: true });
    expect(await fx.cloud.pushCommand('t1', 'UP3', 'update.install', argsFor(s))).toMatchObject({
      ok: false,
      error: { code: 'UPDATE_IN_PROGRESS' },
    });
    await waitFor(
      () => (lastUpdate('UP3')?.state === 'downloading' ? true : undefined),
      'downloading reported',
    );
  });

  it('outside the update window a manager restarts at once; a cashier may not; new sales are then refused (UPDATE_RESTARTING)', async () => {
    const h = (new Date().getHours() + 3) % 24;
    const window = `${String(h).padStart(2, '0')}:00-${String((h + 1) % 24).padStart(2, '0')}:00`;
    const t = await terminal('UP4', { window });
    writeFileSync(
      join(t.cfg.stateDir, 'cashiers.json'),
      JSON.stringify({
        cashiers: [
          { id: 'c1', name: 'Cashier', pin: '1111' },
          { id: 'm1', name: 'Manager', pin: '9999', role: 'manager' },
        ],
      }),
    );
    const s = await bundle(20_000);
    const early = await t.api.call<Body>('POST', '/api/v1/update/restart', { pin: '9999' });
    expect(early.body.error?.code).toBe('UPDATE_NOT_READY');
    expect(await fx.cloud.pushCommand('t1', 'UP4', 'update.install', argsFor(s))).toMatchObject({ ok: true });
    const view = await waitFor(async () => {
      const v = (await t.api.call<Body>('GET', '/api/v1/update')).body;
      return v.state === 'waiting-to-reboot' ? v : undefined;
    }, 'waiting-to-reboot');
    expect(new Date(String(view.restartsAt)).getHours()).toBe(h);
    const cashier = await t.api.call<Body>('POST', '/api/v1/update/restart', { pin: '1111' });
    expect([cashier.status, cashier.body.error?.code]).toEqual([403, 'FORBIDDEN']);
    expect((await t.api.call<Body>('POST', '/api/v1/update/restart', { pin: '0000' })).status).toBe(401);
    expect(t.rauc.calls('reboot')).toEqual([]);
    const manager = await t.api.call<Body>('POST', '/api/v1/update/restart', { pin: '9999' });
    expect([manager.status, manager.body]).toEqual([202, { restarting: true }]);
    expect(t.rauc.calls('reboot')).toHaveLength(1);
    // From the check to the reboot no new money starts: the cashier is told why.
    const sale = await t.api.call<Body>('POST', '/api/v1/sales', {
      lines: [{ sku: 'x', name: 'X', qty: 1, unitPrice: 100 }],
      tenders: [{ method: 'cash', amount: 100 }],
    });
    expect([sale.status, sale.body.error?.code]).toEqual([503, 'UPDATE_RESTARTING']);
  });
});
