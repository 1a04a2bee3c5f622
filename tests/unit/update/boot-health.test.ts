import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { BootHealth, type BootHealthOptions, TRIAL_DEADLINE_MS } from '../../../src/update/boot-health.js';
import { currentBootId } from '../../../src/update/boot-id.js';
import { type Installer, RaucCli } from '../../../src/update/rauc.js';
import { type UpdateState, UpdateStateStore } from '../../../src/update/update-state.js';
import { tempDir } from '../../helpers/daemon.js';
import { FakeRauc } from '../../helpers/fake-rauc.js';
import { silentLogger } from '../../helpers/test-log.js';
import { waitFor } from '../../helpers/wait.js';

const log = silentLogger();

function setup(
  appVersion: string,
  state: UpdateState,
  bootId = 'boot-2',
  markGoodFailures = 0,
  timing: Partial<
    Pick<BootHealthOptions, 'graceMs' | 'uptimeMs' | 'processUptimeMs' | 'trialDeadlineMs'> & {
      /** Wraps the ledger posd records into (to hold its flushes). */
      wrapLedger: (ledger: Ledger) => BootHealthOptions['ledger'];
    }
  > = {},
) {
  const stateDir = tempDir('posd-health-');
  const db = openDatabase({ file: join(stateDir, 'posd.db'), log });
  const ledger = new Ledger({ db, dir: stateDir });
  const rauc = new FakeRauc(stateDir, { bootedVersion: appVersion, otherVersion: '1.0.0' });
  const store = new UpdateStateStore(stateDir);
  store.set(state);
  let reachCloud: () => void = () => {};
  const cloud = new Promise<void>((resolve) => {
    reachCloud = resolve;
  });
  // RAUC's CLI (the double behind it), each call noted the moment posd makes it.
  const cli = new RaucCli(rauc.argv);
  const asked: string[] = [];
  const installer: Installer = {
    install: (b) => cli.install(b),
    keepBooted: () => cli.keepBooted(),
    status: () => {
      asked.push('status');
      return cli.status();
    },
    markGood: () => {
      asked.push('mark-good');
      if (asked.filter((a) => a === 'mark-good').length <= markGoodFailures) {
        return Promise.reject(new Error('rauc status mark-good failed: D-Bus service restarting'));
      }
      return cli.markGood();
    },
  };
  const { wrapLedger, ...times } = timing;
  const health = new BootHealth({
    store,
    installer,
    appVersion,
    ledger: wrapLedger ? wrapLedger(ledger) : ledger,
    log,
    cloudReached: () => cloud,
    graceMs: 600_000,
    bootId: () => bootId,
    retryMs: 10,
    uptimeMs: () => 30_000, // READY half a minute after the kernel started, as on a terminal
    processUptimeMs: () => 1_000,
    ...times,
  });
  const records = () => ledger.recordsAfter(0, 100);
  return { store, rauc, health, reachCloud, records, asked, ledger };
}

const rebooting: UpdateState = {
  state: 'rebooting',
  version: '2.0.0',
  fromVersion: '1.0.0',
  cmdId: 'cmd-9',
  attemptId: 'a-1',
  bootId: 'boot-1',
  startsOfNew: 0,
};

describe('after the boot', () => {
  it('the new version marks its slot good only once the cloud is reached, then records update.activated', async () => {
    const t = setup('2.0.0', rebooting);
    t.health.countStart();
    const done = t.health.afterReady();
    // READY is sent, the ledger is open: not yet healthy while the cloud was never reached.
    await new Promise((r) => setImmediate(r));
    expect(t.asked).toEqual([]);
    t.reachCloud();
    await done;
    expect(t.rauc.calls('mark-good')).toHaveLength(1);
    expect(t.records().map((r) => [r.type, r.body])).toEqual([
      [
        'update.activated',
        { version: '2.0.0', fromVersion: '1.0.0', starts: 1, slot: 'A', cmdId: 'cmd-9', attemptId: 'a-1' },
      ],
    ]);
    expect(t.store.get()).toMatchObject({ state: 'idle', version: '2.0.0', outcome: 'activated' });
  });

  it('the installed update booted before its reboot (a power cut while it waited): judged as its reboot, not rebooted once more', async () => {
    const waiting: UpdateState = {
      state: 'waiting-to-reboot',
      version: '2.0.0',
      fromVersion: '1.0.0',
      cmdId: 'cmd-7',
      attemptId: 'a-7',
      installedAt: '2026-12-06T10:00:00.000Z',
      bootId: 'boot-2', // a reboot asked for in this very boot id once failed: still not this boot's
    };
    // On the old slot (the bootloader chose it): the update goes on waiting for its reboot.
    const old = setup('1.0.0', waiting);
    old.health.countStart();
    expect(old.store.get()).toMatchObject({ state: 'waiting-to-reboot', version: '2.0.0' });

    const t = setup('2.0.0', waiting);
    t.health.countStart();
    expect(t.store.get()).toMatchObject({ state: 'rebooting', version: '2.0.0', startsOfNew: 1 });
    t.reachCloud();
    await t.health.afterReady();
    expect(t.rauc.calls('mark-good')).toHaveLength(1);
    expect(t.records().map((r) => [r.type, r.body])).toEqual([
      [
        'update.activated',
        { version: '2.0.0', fromVersion: '1.0.0', starts: 1, slot: 'A', cmdId: 'cmd-7', attemptId: 'a-7' },
      ],
    ]);
    expect(t.store.get()).toMatchObject({ state: 'idle', outcome: 'activated' });
  });

  it('booted into the update while it was still installing (a power cut as RAUC finished): update.installed recorded with the outcome, once', async () => {
    const installing: UpdateState = {
      state: 'installing',
      version: '2.0.0',
      fromVersion: '1.0.0',
      cmdId: 'cmd-8',
      attemptId: 'a-8',
      sha256: 'ef'.repeat(32),
      size: 40_000,
      bootId: 'boot-1',
    };
    for (const recordedBefore of [false, true]) {
      const t = setup('2.0.0', installing);
      if (recordedBefore) {
        // posd recorded it, then the power went before the state file said so.
        t.ledger.transact(() =>
          t.ledger.append('update.installed', { version: '2.0.0', cmdId: 'cmd-8', attemptId: 'a-8' }),
        );
      }
      t.health.countStart();
      // Not installing any more: the update service, resumed next, installs nothing over slot A.
      expect(t.store.get()).toMatchObject({ state: 'rebooting', startsOfNew: 1 });
      t.reachCloud();
      await t.health.afterReady();
      expect(t.rauc.calls('install')).toEqual([]);
      expect(t.records().map((r) => r.type)).toEqual(['update.installed', 'update.activated']);
      if (!recordedBefore) {
        expect(t.records()[0]!.body).toEqual({
          version: '2.0.0',
          fromVersion: '1.0.0',
          sha256: 'ef'.repeat(32),
          size: 40_000,
          cmdId: 'cmd-8',
          attemptId: 'a-8',
        });
      }
      expect(t.store.get()).toMatchObject({ state: 'idle', outcome: 'activated' });
      expect(t.store.get().installUnrecorded).toBeUndefined();
    }
  });

  it('the outcome is on disk in the ledger before the state file says it: a power cut between them records it again, never loses it', async () => {
    let release!: () => void;
    const flushed = new Promise<void>((r) => {
      release = r;
    });
    let asked = 0;
    const t = setup('2.0.0', rebooting, 'boot-2', 0, {
      wrapLedger: (ledger) => ({
        transact: (work) => ledger.transact(work),
        append: (type, body) => ledger.append(type, body),
        findLatest: (type, field, value) => ledger.findLatest(type, field, value),
        durable: async () => {
          asked += 1;
          await flushed;
        },
      }),
    });
    t.health.countStart();
    t.reachCloud();
    const done = t.health.afterReady();
    await waitFor(() => (asked > 0 ? true : undefined), 'the flush asked for');
    expect(t.records().map((r) => r.type)).toEqual(['update.activated']);
    expect(t.store.get().state).toBe('rebooting'); // not yet: a power cut now finds it to report again
    release();
    await done;
    expect(t.store.get()).toMatchObject({ state: 'idle', outcome: 'activated' });
  });

  it('a grace set past the trial deadline ends before it: a healthy slot whose cloud stays away is blessed, not rebooted', async () => {
    // An hour of grace; the boot's trial ends 2 min 50 ms after the kernel started, READY at 0.
    const t = setup('2.0.0', rebooting, 'boot-2', 0, {
      graceMs: 3_600_000,
      uptimeMs: () => 0,
      trialDeadlineMs: 2 * 60_000 + 50,
    });
    t.health.countStart();
    const outcome = await Promise.race([
      t.health.afterReady().then(() => 'blessed'),
      new Promise((r) => setTimeout(() => r('still waiting at the deadline'), 2_000)),
    ]);
    t.health.stop();
    expect(outcome).toBe('blessed');
    expect(t.rauc.calls('mark-good')).toHaveLength(1);
    expect(t.store.get()).toMatchObject({ state: 'idle', outcome: 'activated' });
  });

  it("the trial deadline posd keeps clear of is the image's timer's", () => {
    const timer = readFileSync(
      join(import.meta.dirname, '../../../image/files/update/posd-trial-deadline.timer'),
      'utf8',
    );
    expect(/^OnBootSec=(\d+)min$/m.exec(timer)?.[1]).toBe(String(TRIAL_DEADLINE_MS / 60_000));
  });

  it('a posd restarted late in the trial (after a crash) keeps its whole grace: the deadline decides', async () => {
    // Started 11 min after the kernel, the trial ends at 13 min: the first start's rule would bless it at once.
    const t = setup('2.0.0', rebooting, 'boot-2', 0, {
      graceMs: 3_600_000,
      uptimeMs: () => 11 * 60_000,
      processUptimeMs: () => 1_000,
      trialDeadlineMs: 13 * 60_000,
    });
    t.health.countStart();
    void t.health.afterReady();
    await new Promise((r) => setTimeout(r, 200));
    t.health.stop();
    expect(t.asked).toEqual([]); // not blessed on READY alone
    expect(t.store.get()).toMatchObject({ state: 'rebooting' });
  });

  it('a new posd whose version carries build metadata the command did not (2.0.0+g1a2b3c for 2.0.0) is activated, not a rollback', async () => {
    const t = setup('2.0.0+g1a2b3c', rebooting);
    t.health.countStart();
    const done = t.health.afterReady();
    t.reachCloud();
    await done;
    expect(t.records().map((r) => r.type)).toEqual(['update.activated']);
    expect(t.store.get()).toMatchObject({ state: 'idle', outcome: 'activated', startsOfNew: 1 });
  });

  it('the old version coming back records update.rolled-back with the failed version and why', async () => {
    const t = setup('1.0.0', { ...rebooting, startsOfNew: 3 });
    t.rauc.patch({
      slots: {
        'rootfs.0': { bootname: 'A', version: '1.0.0' },
        'rootfs.1': { bootname: 'B', version: '2.0.0', boot_status: 'bad' },
      },
    });
    t.health.countStart(); // the old version's start is not counted
    t.reachCloud();
    await t.health.afterReady();
    expect(t.rauc.calls('mark-good')).toHaveLength(1);
    const [rec] = t.records();
    expect(rec?.type).toBe('update.rolled-back');
    expect(rec?.body).toMatchObject({ version: '2.0.0', fromVersion: '1.0.0', running: '1.0.0', starts: 3 });
    expect(rec?.body.reason).toBe(
      '2.0.0 started posd 3 time(s) without becoming healthy; 1.0.0 is running again; ' +
        'slot rootfs.1 (B) is inactive, boot status bad, holds 2.0.0',
    );
    expect(t.store.get()).toMatchObject({ state: 'rolled-back', version: '2.0.0', outcome: 'rolled-back' });
  });

  it('tries mark-good again when it failed, and reports the update only once the slot is marked good', async () => {
    const t = setup('2.0.0', rebooting, 'boot-2', 2);
    t.reachCloud();
    await t.health.afterReady();
    expect(t.asked.filter((a) => a === 'mark-good')).toHaveLength(3);
    expect(t.rauc.calls('mark-good')).toHaveLength(1);
    expect(t.records().map((r) => r.type)).toEqual(['update.activated']);
  });

  it('a posd restart before the reboot happened is not a rollback', async () => {
    const t = setup('1.0.0', rebooting, 'boot-1');
    t.reachCloud();
    await t.health.afterReady();
    expect(t.records()).toEqual([]);
    expect(t.store.get().state).toBe('rebooting');
  });

  it('records the outcome once, even when the state file was not written after the record', async () => {
    const t = setup('2.0.0', rebooting);
    t.reachCloud();
    await t.health.afterReady();
    t.store.set(rebooting); // as if posd died between the ledger commit and the state file
    await t.health.afterReady();
    expect(t.records().map((r) => r.type)).toEqual(['update.activated']);
  });
});

describe("this boot's id", () => {
  it("comes from the unit's BOOT_ID (systemd's %b; the unit hides /proc/sys), written as the kernel writes it", () => {
    expect(currentBootId({ BOOT_ID: '0A1B2C3D4E5F60718293A4B5C6D7E8F9' })).toBe(
      '0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9',
    );
  });

  it("is the kernel's without BOOT_ID, or with one that is not a boot id (an unexpanded %b)", () => {
    const kernel = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    expect(currentBootId({})).toBe(kernel);
    expect(currentBootId({ BOOT_ID: '%b' })).toBe(kernel);
  });
});
