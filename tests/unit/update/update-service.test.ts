import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { type Installer, InstallerError, RaucCli } from '../../../src/update/rauc.js';
import type { RebootBlockers } from '../../../src/update/safe-moment.js';
import { parseWindow } from '../../../src/update/safe-moment.js';
import { UpdateService } from '../../../src/update/update-service.js';
import { type UpdateState, UpdateStateStore } from '../../../src/update/update-state.js';
import { BundleServer } from '../../helpers/bundle-server.js';
import { tempDir } from '../../helpers/daemon.js';
import { FakeRauc } from '../../helpers/fake-rauc.js';
import { silentLogger } from '../../helpers/test-log.js';
import { waitFor } from '../../helpers/wait.js';

const log = silentLogger();
const servers: BundleServer[] = [];
const services: UpdateService[] = [];

afterEach(async () => {
  for (const s of services.splice(0)) s.stop();
  for (const s of servers.splice(0)) await s.stop();
});

async function setup(
  o: {
    window?: string;
    now?: () => Date;
    refuse?: string;
    /** The version the bundle turns out to hold (what RAUC's status says once it is installed). */
    installVersion?: string;
    /** `rauc status mark-active booted` fails this many times first. */
    markActiveFailures?: number;
    /** The posd that runs (default 1.0.0, the release the update starts from). */
    appVersion?: string;
    body?: Buffer;
    /** Runs while the ledger is being made durable (what may happen meanwhile). */
    whileDurable?: () => void;
    /** The state file as a previous posd left it. */
    state?: UpdateState;
    bootId?: string;
    /** RAUC as seen by posd (default: the fake rauc's command line). */
    installer?: (rauc: FakeRauc) => Installer;
  } = {},
) {
  const stateDir = tempDir('posd-update-');
  if (o.state) new UpdateStateStore(stateDir).set(o.state);
  const db = openDatabase({ file: join(stateDir, 'posd.db'), log });
  const ledger = new Ledger({ db, dir: stateDir });
  const rauc = new FakeRauc(stateDir, {
    bootedVersion: '1.0.0',
    installVersion: o.installVersion ?? '2.0.0',
    ...(o.refuse ? { refuse: o.refuse } : {}),
    ...(o.markActiveFailures ? { markActiveFailures: o.markActiveFailures } : {}),
  });
  const server = await (o.body ? new BundleServer(o.body) : BundleServer.random(40_000)).start();
  servers.push(server);
  const blockers: RebootBlockers = {
    openSalesWithPayments: 0,
    unresolvedPayments: 0,
    reversalsOwed: 0,
    printing: 0,
  };
  const reboots: string[] = [];
  const hold = { closed: false, changes: [] as string[] };
  const store = new UpdateStateStore(stateDir);
  const service = new UpdateService({
    stateDir,
    store,
    installer: o.installer?.(rauc) ?? new RaucCli(rauc.argv),
    appVersion: o.appVersion ?? '1.0.0',
    ledger: {
      transact: (work) => ledger.transact(work),
      append: (type, body) => ledger.append(type, body),
      findLatest: (type, field, value) => ledger.findLatest(type, field, value),
      durable: async () => {
        if (store.get().state === 'waiting-to-reboot') o.whileDurable?.();
        await ledger.durable();
      },
    },
    blockers: () => blockers,
    reboot: async () => {
      reboots.push(`${store.get().version ?? ''}${hold.closed ? '' : ' (money open)'}`);
    },
    hold: {
      close: () => {
        hold.closed = true;
        hold.changes.push('close');
      },
      open: () => {
        hold.closed = false;
        hold.changes.push('open');
      },
    },
    ...(o.window ? { window: parseWindow(o.window) } : {}),
    log,
    backoff: { initialMs: 10, maxMs: 50 },
    checkEveryMs: 20,
    rebootRetryMs: 50,
    raucRetryMs: 10,
    ...(o.now ? { now: o.now } : {}),
    freeBytes: () => 10 * 1024 ** 3,
    bootId: () => o.bootId ?? 'boot-now',
  });
  services.push(service);
  const args = { version: '2.0.0', url: server.url, sha256: server.sha256, size: server.body.length };
  const types = () => ledger.recordsAfter(0, 100).map((r) => r.type);
  return { stateDir, ledger, rauc, server, blockers, reboots, hold, store, service, args, types };
}

/** The state a posd left in `installing` for the server's bundle, in a boot before this one. */
function installingAfterReboot(t: Awaited<ReturnType<typeof setup>>, attemptId: string): void {
  t.store.set({
    state: 'installing',
    version: '2.0.0',
    fromVersion: '1.0.0',
    url: t.server.url,
    sha256: t.server.sha256,
    size: t.server.body.length,
    bytes: t.server.body.length,
    attemptId,
    bootId: 'a-boot-before-the-power-cut',
  });
}

describe('update.install', () => {
  it('downloads, lets RAUC install, records update.installed, and reboots only once no payment is unresolved', async () => {
    const t = await setup();
    t.blockers.unresolvedPayments = 1; // a code payment whose outcome is not known yet
    expect(t.service.command(t.args, 'cmd-1')).toEqual({
      accepted: true,
      version: '2.0.0',
      fromVersion: '1.0.0',
    });
    await t.service.settled();
    expect(t.rauc.calls('install')).toEqual([{ cmd: 'install', sha256: t.server.sha256 }]);
    expect(t.types()).toEqual(['update.installed']);
    expect(t.ledger.recordsAfter(0, 1)[0]!.body).toMatchObject({
      version: '2.0.0',
      fromVersion: '1.0.0',
      cmdId: 'cmd-1',
    });
    expect(readdirSync(join(t.stateDir, 'update'))).toEqual([]); // the bundle is gone once installed
    expect(t.service.view()).toMatchObject({ state: 'waiting-to-reboot', version: '2.0.0', progress: 1 });
    expect(t.service.view().waitingFor).toEqual(['1 unresolved payment(s)']);
    // The payment resolves: the reboot follows, and not before.
    expect(t.reboots).toEqual([]);
    t.blockers.unresolvedPayments = 0;
    await waitFor(() => (t.reboots.length > 0 ? true : undefined), 'the reboot');
    expect(t.reboots).toEqual(['2.0.0']);
    expect(t.store.get()).toMatchObject({
      state: 'rebooting',
      version: '2.0.0',
      fromVersion: '1.0.0',
      cmdId: 'cmd-1',
    });
  });

  it('each thing in flight holds the reboot back: an open sale with payments, a reversal owed, a print job printing', async () => {
    const t = await setup();
    Object.assign(t.blockers, { openSalesWithPayments: 1, reversalsOwed: 1, printing: 1 });
    t.service.command(t.args, 'cmd-2');
    await t.service.settled();
    expect(t.service.view().waitingFor).toEqual([
      '1 open sale(s) with payments',
      '1 reversal(s) owed',
      '1 print job(s) printing',
    ]);
    await expect(t.service.restartNow()).rejects.toMatchObject({ code: 'UPDATE_NOT_READY' });
    t.blockers.openSalesWithPayments = 0;
    t.blockers.reversalsOwed = 0;
    expect(t.service.view().waitingFor).toEqual(['1 print job(s) printing']);
    t.blockers.printing = 0;
    await waitFor(() => (t.reboots.length > 0 ? true : undefined), 'the reboot');
  });

  it('a payment that starts while the ledger is made durable holds the reboot back; from the check to the reboot new money is refused', async () => {
    let started = 0;
    const t = await setup({
      whileDurable: () => {
        if (started++ === 0) t.blockers.unresolvedPayments = 1; // a QR payment started just now
      },
    });
    t.service.command(t.args, 'cmd-race');
    await t.service.settled();
    await waitFor(() => (started > 0 ? true : undefined), 'the reboot making the ledger durable');
    await new Promise((resolve) => setImmediate(resolve)); // the reboot's next step has run
    expect(t.reboots).toEqual([]);
    expect(t.hold).toMatchObject({ closed: false, changes: ['close', 'open'] });
    expect(t.service.view()).toMatchObject({
      state: 'waiting-to-reboot',
      waitingFor: ['1 unresolved payment(s)'],
    });
    t.blockers.unresolvedPayments = 0; // it is resolved: now the reboot goes ahead, with the hold closed
    await waitFor(() => (t.reboots.length > 0 ? true : undefined), 'the reboot');
    expect(t.reboots).toEqual(['2.0.0']);
    expect(t.hold.changes).toEqual(['close', 'open', 'close']);
    expect(t.store.get().state).toBe('rebooting');
  });

  it('a reboot command that fails opens the hold again: the terminal sells on', async () => {
    const t = await setup({ window: '02:00-04:00', now: () => new Date(2026, 0, 5, 14, 0) });
    t.service.command(t.args, 'cmd-fail');
    await t.service.settled();
    const failing = t.service as unknown as { o: { reboot: () => Promise<void> } };
    failing.o.reboot = () => Promise.reject(new Error('systemctl: Access denied'));
    await expect(t.service.restartNow()).rejects.toThrow('Access denied');
    expect(t.hold).toMatchObject({ closed: false, changes: ['close', 'open'] });
    expect(t.service.view().state).toBe('waiting-to-reboot');
  });

  it('a reboot command that fails is tried again later, not left waiting for good', async () => {
    const t = await setup();
    const service = t.service as unknown as { o: { reboot: () => Promise<void> } };
    const reboot = service.o.reboot;
    let tries = 0;
    service.o.reboot = () => {
      tries += 1;
      return tries === 1 ? Promise.reject(new Error('systemctl: Access denied')) : reboot();
    };
    t.service.command(t.args, 'cmd-retry');
    await t.service.settled();
    await waitFor(() => (t.reboots.length > 0 ? true : undefined), 'the reboot tried again');
    expect(tries).toBe(2);
    expect(t.reboots).toEqual(['2.0.0']);
    expect(t.hold.changes).toEqual(['close', 'open', 'close']);
    expect(t.store.get().state).toBe('rebooting');
  });

  it('a manager’s restart while the automatic reboot is under way joins it: one reboot, the hold closed once', async () => {
    let manager: Promise<unknown> | undefined;
    const t = await setup({
      whileDurable: () => {
        manager ??= t.service.restartNow();
      },
    });
    t.service.command(t.args, 'cmd-both');
    await t.service.settled();
    await waitFor(() => (t.reboots.length > 0 ? true : undefined), 'the reboot');
    await expect(manager).resolves.toEqual({ restarting: true });
    expect(t.reboots).toEqual(['2.0.0']);
    expect(t.hold.changes).toEqual(['close']);
  });

  it('posd restarted before the reboot it asked for (same boot): the update waits for its safe moment again, not stuck in rebooting', async () => {
    const t = await setup({
      state: {
        state: 'rebooting',
        version: '2.0.0',
        fromVersion: '1.0.0',
        bootId: 'boot-1',
        attemptId: 'a1',
      },
      bootId: 'boot-1',
    });
    t.blockers.unresolvedPayments = 1;
    t.service.resume();
    expect(t.service.view()).toMatchObject({
      state: 'waiting-to-reboot',
      waitingFor: ['1 unresolved payment(s)'],
    });
    t.blockers.unresolvedPayments = 0;
    await waitFor(() => (t.reboots.length > 0 ? true : undefined), 'the reboot');
    expect(t.reboots).toEqual(['2.0.0']);
  });

  it('posd stopped after update.installed was recorded (the bundle already removed): goes on to the reboot, not failed, recorded once', async () => {
    const t = await setup({
      state: {
        state: 'installing',
        version: '2.0.0',
        fromVersion: '1.0.0',
        sha256: 'ab'.repeat(32),
        attemptId: 'a1',
      },
    });
    t.ledger.transact(() => t.ledger.append('update.installed', { version: '2.0.0', attemptId: 'a1' }));
    t.blockers.printing = 1;
    t.service.resume();
    await t.service.settled();
    expect(t.rauc.calls('install')).toEqual([]);
    expect(t.service.view().state).toBe('waiting-to-reboot');
    expect(t.types()).toEqual(['update.installed']);
  });

  it('a restart in installing finds the bundle torn (a power cut) or gone: it is downloaded again and installed whole, not failed', async () => {
    for (const damage of ['torn', 'gone', 'whole'] as const) {
      const t = await setup();
      installingAfterReboot(t, 'a3');
      const bundle = join(t.stateDir, 'update', `bundle-${t.server.sha256.slice(0, 16)}.raucb`);
      mkdirSync(join(t.stateDir, 'update'), { recursive: true });
      const onDisk = Buffer.from(t.server.body);
      if (damage === 'torn') onDisk.fill(0, 16_384);
      if (damage !== 'gone') writeFileSync(bundle, onDisk);
      t.service.resume();
      await t.service.settled();
      expect(t.service.view().state).toBe('waiting-to-reboot');
      // RAUC got the command's bundle, once; fetched again only when the one on disk was not it.
      expect(t.rauc.calls('install')).toEqual([{ cmd: 'install', sha256: t.server.sha256 }]);
      expect(t.server.requests.length).toBe(damage === 'whole' ? 0 : 1);
      expect(t.types()).toEqual(['update.installed']);
    }
  });

  it('posd stopping while it checks a bundle found after a reboot does not start RAUC; nothing under way keeps no bundle', async () => {
    const t = await setup();
    installingAfterReboot(t, 'a4');
    const dir = join(t.stateDir, 'update');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `bundle-${t.server.sha256.slice(0, 16)}.raucb`), t.server.body);
    t.service.resume();
    t.service.stop(); // systemd stops posd while the bundle is read
    await t.service.settled();
    expect(t.rauc.calls('install')).toEqual([]);
    expect(t.store.get().state).toBe('installing'); // the next start goes on from here

    // A bundle left behind when nothing is under way (installed before a power cut) is removed.
    const after = await setup({ state: { state: 'rebooting', version: '2.0.0', bootId: 'x' } });
    mkdirSync(join(after.stateDir, 'update'), { recursive: true });
    writeFileSync(join(after.stateDir, 'update', 'bundle-0123456789abcdef.raucb'), 'left');
    after.service.resume();
    expect(readdirSync(join(after.stateDir, 'update'))).toEqual([]);
  });

  it('posd stopped while RAUC installs (its client killed with posd): the state stays installing and the bundle stays, for the next start to ask again', async () => {
    let killClient: (() => void) | undefined;
    const t = await setup({
      state: {
        state: 'installing',
        version: '2.0.0',
        fromVersion: '1.0.0',
        url: 'http://127.0.0.1:9/bundle.raucb',
        size: 6,
        sha256: 'cd'.repeat(32),
        attemptId: 'a2',
        bootId: 'boot-now', // whole on disk in this boot: RAUC may be reading it, it is not read again
      },
      installer: (rauc) => {
        const cli = new RaucCli(rauc.argv);
        return {
          status: () => cli.status(),
          markGood: () => cli.markGood(),
          keepBooted: () => cli.keepBooted(),
          // systemd stops posd's whole cgroup: `rauc install` dies with it, RAUC's service goes on.
          install: () =>
            new Promise<void>((_, reject) => {
              killClient = () => reject(new InstallerError('rauc install failed: Terminated'));
            }),
        };
      },
    });
    const bundle = join(t.stateDir, 'update', `bundle-${'cd'.repeat(8)}.raucb`);
    mkdirSync(join(t.stateDir, 'update'), { recursive: true });
    writeFileSync(bundle, 'bundle');
    t.service.resume();
    await waitFor(() => killClient, 'the install under way');
    t.service.stop();
    killClient!();
    await t.service.settled();
    expect(t.store.get().state).toBe('installing');
    expect(t.store.get().outcome).toBeUndefined();
    expect(existsSync(bundle)).toBe(true);
  });

  it('outside the update window waits for it; a manager may restart now when nothing is in flight', async () => {
    const now = () => new Date(2026, 0, 5, 14, 0); // local 14:00, window 02:00-04:00
    const t = await setup({ window: '02:00-04:00', now });
    t.service.command(t.args, 'cmd-3');
    await t.service.settled();
    const view = t.service.view();
    expect(view.state).toBe('waiting-to-reboot');
    expect(new Date(view.restartsAt!).getTime()).toBe(new Date(2026, 0, 6, 2, 0).getTime());
    expect(t.reboots).toEqual([]);
    await t.service.restartNow();
    expect(t.reboots).toEqual(['2.0.0']);
  });

  it('RAUC refusing the bundle (its signature) leaves the terminal unchanged: failed, with the reason', async () => {
    const t = await setup({ refuse: 'signature verification failed: unknown certificate' });
    t.service.command(t.args, 'cmd-4');
    await t.service.settled();
    expect(t.service.view()).toMatchObject({ state: 'failed', version: '2.0.0' });
    expect(t.service.view().error).toMatch(/signature verification failed/);
    expect(t.types()).toEqual([]);
    expect(t.reboots).toEqual([]);
    expect(t.rauc.state().slots['rootfs.1']!.version).toBeUndefined();
    expect(readdirSync(join(t.stateDir, 'update'))).toEqual([]);
  });

  it('a bundle that installs another version than the command named is not booted: failed, the running slot stays the one booted', async () => {
    const t = await setup({ installVersion: '2.1.0' });
    t.service.command(t.args, 'cmd-6');
    await t.service.settled();
    expect(t.rauc.calls('install')).toHaveLength(1);
    expect(t.service.view()).toMatchObject({ state: 'failed', version: '2.0.0' });
    expect(t.service.view().error).toBe(
      'the bundle installed 2.1.0, not 2.0.0: the running slot stays the one booted',
    );
    expect(t.rauc.calls('mark-active')).toHaveLength(1);
    expect(t.rauc.state().primary).toBe('rootfs.0'); // the booted slot (bootname A)
    expect(t.types()).toEqual([]);
    expect(t.reboots).toEqual([]);
    expect(readdirSync(join(t.stateDir, 'update'))).toEqual([]);
  });

  it('keeping the booted slot is tried again when RAUC fails it, and said when it never works', async () => {
    const twice = await setup({ installVersion: '2.1.0', markActiveFailures: 2 });
    twice.service.command(twice.args, 'cmd-8');
    await twice.service.settled();
    expect(twice.rauc.calls('mark-active')).toHaveLength(3);
    expect(twice.rauc.state().primary).toBe('rootfs.0');
    expect(twice.service.view().error).toMatch(/the running slot stays the one booted$/);

    const never = await setup({ installVersion: '2.1.0', markActiveFailures: 100 });
    never.service.command(never.args, 'cmd-9');
    await never.service.settled();
    expect(never.rauc.calls('mark-active')).toHaveLength(3);
    expect(never.service.view()).toMatchObject({ state: 'failed' });
    expect(never.service.view().error).toMatch(
      /^the bundle installed 2\.1\.0, not 2\.0\.0: the running slot could not be made the one booted: .*timed out/,
    );
    expect(never.types()).toEqual([]);
    expect(never.reboots).toEqual([]);
  });

  it('posd stopping while it asks RAUC what it installed records nothing: the next start installs and asks again', async () => {
    let service: UpdateService | undefined;
    const t = await setup({
      installer: (rauc) => {
        const cli = new RaucCli(rauc.argv);
        return {
          install: (b) => cli.install(b),
          markGood: () => cli.markGood(),
          keepBooted: () => cli.keepBooted(),
          // systemd stops posd: the `rauc status` child dies with it.
          status: async () => {
            service?.stop();
            throw new InstallerError('rauc status failed: Terminated');
          },
        };
      },
    });
    service = t.service;
    t.service.command(t.args, 'cmd-10');
    await t.service.settled();
    expect(t.rauc.calls('install')).toHaveLength(1);
    expect(t.store.get().state).toBe('installing');
    expect(t.types()).toEqual([]);
    expect(t.reboots).toEqual([]);
  });

  it('a start that finds neither the release it updated from nor the update running leaves the slots alone', async () => {
    // A power cut right after RAUC installed a bundle of another release into B (RAUC had made B
    // primary): B boots it. Installing again would write over A, the only release to fall back to.
    const t = await setup({ appVersion: '2.1.0' });
    installingAfterReboot(t, 'a9');
    t.service.resume();
    await t.service.settled();
    expect(t.rauc.calls('install')).toEqual([]);
    expect(t.service.view()).toMatchObject({ state: 'failed', version: '2.0.0' });
    expect(t.service.view().error).toBe(
      'posd 2.1.0 runs, neither 1.0.0 (updated from) nor 2.0.0: the slots are left as they are',
    );
    expect(t.reboots).toEqual([]);
  });

  it('the same release with its build named is the version the command named', async () => {
    const t = await setup({ installVersion: '2.0.0+20261206' });
    t.service.command(t.args, 'cmd-7');
    await t.service.settled();
    expect(t.service.view().state).toBe('waiting-to-reboot');
    expect(t.rauc.calls('mark-active')).toEqual([]);
    expect(t.types()).toEqual(['update.installed']);
  });

  it('a bundle whose sha256 is not the command’s never reaches RAUC', async () => {
    const t = await setup();
    t.service.command({ ...t.args, sha256: '0'.repeat(64) }, 'cmd-5');
    await t.service.settled();
    expect(t.service.view().state).toBe('failed');
    expect(t.service.view().error).toMatch(/sha256 mismatch/);
    expect(t.rauc.calls('install')).toEqual([]);
    expect(t.types()).toEqual([]);
  });

  it('a bundle bigger than the command’s size is refused', async () => {
    const t = await setup();
    t.service.command({ ...t.args, size: 1_000 }, 'cmd-6');
    await t.service.settled();
    expect(t.service.view().error).toMatch(/more than the command's size 1000/);
    expect(t.rauc.calls('install')).toEqual([]);
  });

  it('answers at once with a clear error: bad arguments, the running version, one already under way, no room', async () => {
    const t = await setup();
    expect(() => t.service.command({ version: '2.0.0', url: 'ftp://x', sha256: 'z', size: -1 }, 'c')).toThrow(
      /args.url.*args.sha256.*args.size/,
    );
    expect(() => t.service.command({ ...t.args, version: '1.0.0' }, 'c')).toThrow(
      expect.objectContaining({ code: 'UPDATE_SAME_VERSION' }),
    );
    expect(() => t.service.command({ ...t.args, version: '1.0.0+g1a2b3c' }, 'c')).toThrow(
      expect.objectContaining({ code: 'UPDATE_SAME_VERSION' }),
    );
    // Control text, path separators or spaces in the version (it names files and lines of logs).
    for (const version of ['../../etc', '2.0.0\nlevel=error', '2.0.0 beta', '']) {
      expect(() => t.service.command({ ...t.args, version }, 'c'), version).toThrow(/args.version/);
    }
    t.blockers.printing = 1;
    t.service.command(t.args, 'c1');
    expect(() => t.service.command(t.args, 'c2')).toThrow(
      expect.objectContaining({ code: 'UPDATE_IN_PROGRESS' }),
    );
    await t.service.settled();
    const u = await setup();
    const small = new UpdateService({
      stateDir: u.stateDir,
      store: u.store,
      installer: new RaucCli(u.rauc.argv),
      appVersion: '1.0.0',
      ledger: u.ledger,
      blockers: () => u.blockers,
      reboot: async () => {},
      log,
      freeBytes: () => 1_000,
    });
    expect(() => small.command(u.args, 'c3')).toThrow(expect.objectContaining({ code: 'UPDATE_NO_SPACE' }));
    expect(existsSync(u.store.file)).toBe(false);
  });
});
