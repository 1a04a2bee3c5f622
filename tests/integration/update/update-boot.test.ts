import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { UpdateState } from '../../../src/update/update-state.js';
import { APP_VERSION } from '../../../src/version.js';
import { deviceLedger } from '../../helpers/cloud-fixture.js';
import { cloudTerminals } from '../../helpers/cloud-terminals.js';
import { refusedPort, spawnPosd } from '../../helpers/daemon.js';
import { FakeRauc, type FakeRaucState } from '../../helpers/fake-rauc.js';
import { updateReports } from '../../helpers/update-reports.js';
import { waitFor } from '../../helpers/wait.js';

/*
 * The boot after an update (issue 20): posd marks the booted slot good once healthy, and the
 * version that came up tells the cloud what became of the update.
 */

const fx = cloudTerminals();
const reported = updateReports(() => fx.broker.url, 'boot-monitor');

type Json = Record<string, unknown>;

async function terminal(
  device: string,
  o: {
    state?: UpdateState;
    slots?: Partial<FakeRaucState>;
    mqttUrl?: string | null;
    grace?: number;
    rauc?: string[];
  } = {},
) {
  let rauc!: FakeRauc;
  const t = await fx.terminal(device, {
    online: false,
    ...(typeof o.mqttUrl === 'string' ? { brokerUrl: o.mqttUrl } : {}),
    config: (dir) => {
      rauc = new FakeRauc(dir, { bootedVersion: APP_VERSION, otherVersion: '0.9.0', ...(o.slots ?? {}) });
      return {
        ...(o.mqttUrl === null ? { mqtt: undefined } : {}),
        update: { rauc: o.rauc ?? rauc.argv, reboot: rauc.rebootArgv, healthGraceSeconds: o.grace ?? 600 },
      };
    },
    beforeStart: (cfg) => {
      if (!o.state) return;
      mkdirSync(cfg.stateDir, { recursive: true });
      writeFileSync(join(cfg.stateDir, 'update-state.json'), JSON.stringify(o.state));
    },
  });
  return { cfg: t.cfg, rauc, api: t.api, daemon: t.daemon };
}

const healthz = async (port: number) =>
  (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as Json;

const rebootingInto = (version: string, fromVersion: string, startsOfNew = 0): UpdateState => ({
  state: 'rebooting',
  version,
  fromVersion,
  cmdId: 'cmd-boot',
  attemptId: `attempt-${version}`,
  bootId: 'a-boot-before-this-one',
  startsOfNew,
});

/** The terminal's `update.activated`, once its ledger holds it. */
const activatedRecord = (api: Parameters<typeof deviceLedger>[0]) =>
  waitFor(
    async () => (await deviceLedger(api)).find((r) => r.type === 'update.activated'),
    'update.activated',
  );

describe('after the reboot into an update', () => {
  it('the new version, healthy and the cloud reached, marks its slot good and reports update.activated', async () => {
    const t = await terminal('UB1', { state: rebootingInto(APP_VERSION, '0.9.0') });
    await waitFor(() => (t.rauc.calls('mark-good').length > 0 ? true : undefined), 'mark-good', 30_000);
    expect((await activatedRecord(t.api)).body).toMatchObject({
      version: APP_VERSION,
      fromVersion: '0.9.0',
      starts: 1,
      slot: 'A',
    });
    await waitFor(
      () => (reported.get('UB1')?.at(-1)?.state === 'idle' ? true : undefined),
      'idle with the new version in P/up/state',
    );
    expect(reported.get('UB1')?.at(-1)).toMatchObject({ state: 'idle', version: APP_VERSION, error: null });
    await waitFor(
      () =>
        fx.cloud.store.records('t1', 'UB1').some((r) => r.type === 'update.activated') ? true : undefined,
      'update.activated synced',
    );
    expect(t.rauc.calls('mark-good')).toHaveLength(1);
    const h = await waitFor(async () => {
      const body = await healthz(t.cfg.port);
      return (body.updates as Json | undefined)?.last && ((body.updates as Json).last as Json).outcome
        ? body
        : undefined;
    }, 'the outcome in /healthz');
    expect(h.updates).toMatchObject({
      available: true,
      booted: 'A',
      slots: [
        { name: 'rootfs.0', bootname: 'A', state: 'booted', version: APP_VERSION },
        { name: 'rootfs.1', bootname: 'B', version: '0.9.0' },
      ],
      last: { state: 'idle', version: APP_VERSION, outcome: 'activated' },
    });
  });

  it('booted into the installed update before posd rebooted (a power cut while it waited): reported activated, no reboot more', async () => {
    const t = await terminal('UB5', {
      state: {
        state: 'waiting-to-reboot',
        version: APP_VERSION,
        fromVersion: '0.9.0',
        cmdId: 'cmd-cut',
        attemptId: 'attempt-cut',
        installedAt: '2026-12-06T10:00:00.000Z',
      },
    });
    expect((await activatedRecord(t.api)).body).toMatchObject({
      version: APP_VERSION,
      fromVersion: '0.9.0',
      starts: 1,
      slot: 'A',
    });
    expect(t.rauc.calls('mark-good')).toHaveLength(1);
    expect(t.rauc.calls('reboot')).toEqual([]);
    const h = await healthz(t.cfg.port);
    expect((h.updates as Json).last).toMatchObject({ state: 'idle', outcome: 'activated' });
  });

  it('the old version coming back reports rolled-back with the failed version and why; posd doctor shows it', async () => {
    const t = await terminal('UB2', {
      state: rebootingInto('99.0.0', APP_VERSION, 3),
      slots: {
        slots: {
          'rootfs.0': { bootname: 'A', version: APP_VERSION },
          'rootfs.1': { bootname: 'B', version: '99.0.0', boot_status: 'bad' },
        },
      },
    });
    const back = await waitFor(
      () => reported.get('UB2')?.find((u) => u.state === 'rolled-back'),
      'rolled-back in P/up/state',
      30_000,
    );
    expect(back).toMatchObject({ version: '99.0.0' });
    expect(String(back.error)).toMatch(/99.0.0 started posd 3 time\(s\) without becoming healthy/);
    const record = (await deviceLedger(t.api)).find((r) => r.type === 'update.rolled-back');
    expect(record?.body).toMatchObject({
      version: '99.0.0',
      fromVersion: APP_VERSION,
      running: APP_VERSION,
      starts: 3,
    });
    expect(String(record?.body.reason)).toMatch(
      /slot rootfs.1 \(B\) is inactive, boot status bad, holds 99.0.0/,
    );
    const doctor = spawnPosd(['doctor', '--config', t.cfg.file]);
    await doctor.exited;
    const line = doctor
      .stdout()
      .split('\n')
      .find((l) => /\supdates\s/.test(l));
    expect(line).toMatch(
      /^ok\s+updates\s+booted A; rootfs.0=\S+ booted\/good, rootfs.1=99.0.0 inactive\/bad; last update 99.0.0: rolled-back/,
    );
  });

  it('without the cloud, marks the slot good once the grace is over', async () => {
    const port = await refusedPort(); // nothing listens there
    const t = await terminal('UB3', { mqttUrl: `mqtt://127.0.0.1:${port}`, grace: 1 });
    await waitFor(
      () => (t.rauc.calls('mark-good').length > 0 ? true : undefined),
      'mark-good after the grace',
    );
  });

  it('a machine without RAUC says updates are not available, and it is not an error', async () => {
    const t = await terminal('UB4', { mqttUrl: null, rauc: ['/nonexistent/rauc'] });
    const h = await healthz(t.cfg.port);
    expect(h.status).toBe('ok');
    expect(h.updates).toEqual({
      available: false,
      note: 'updates not available on this machine',
      last: { state: 'idle' },
    });
  });
});
