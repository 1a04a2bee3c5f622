import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/api.js';
import {
  type DaemonProcess,
  freePort,
  spawnPosd,
  tempDir,
  waitHealthy,
  withTimeout,
  writeTestConfig,
} from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) child.kill('SIGKILL');
});

function track(d: DaemonProcess): DaemonProcess {
  running.push(d.child);
  return d;
}

/** A real unix datagram socket standing in for systemd's NOTIFY_SOCKET. */
async function notifyListener(): Promise<{ path: string; messages: () => string[] }> {
  const path = join(tempDir(), 'notify.sock');
  const child = spawn('python3', [resolve(import.meta.dirname, '../helpers/notify-listener.py'), path], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.push(child);
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  await waitFor(() => (out.includes('LISTENING') ? true : undefined), 'notify listener');
  return { path, messages: () => out.split('\n').filter((l) => l && l !== 'LISTENING') };
}

const rsaPem = generateKeyPairSync('rsa', { modulusLength: 1024 })
  .publicKey.export({ type: 'spki', format: 'pem' })
  .toString();

describe('posd run', () => {
  it('exits 78 with one line per problem on bad config of several kinds', async () => {
    const dir = tempDir();
    const cases: Array<{ content: string; env?: Record<string, string>; expected: string[] }> = [
      { content: '{not json', expected: ['(file)'] },
      {
        content: JSON.stringify({ device: { tenant: 't', id: 'd' }, ui: { port: 'x' } }),
        expected: ['ui.port'],
      },
      {
        content: JSON.stringify({ device: {}, printer: { uri: 'lpt:1' }, bogus: 1 }),
        expected: ['device.tenant', 'device.id', 'printer.uri', 'bogus'],
      },
      {
        content: JSON.stringify({ device: { tenant: 't', id: 'd' } }),
        env: { POSD_UI_PORT: 'eighty', POSD_PRINTER_PAPER_WIDTH: '70' },
        expected: ['ui.port', 'printer.paperWidth'],
      },
      {
        // Plain MQTT off the machine, and a cloud key that is RSA, not Ed25519.
        content: JSON.stringify({
          device: { tenant: 't', id: 'd' },
          mqtt: { url: 'mqtt://broker.example.com:1883' },
          cloud: { publicKey: rsaPem },
        }),
        expected: ['mqtt.url', 'cloud.publicKey'],
      },
    ];
    for (const [i, c] of cases.entries()) {
      const file = join(dir, `bad-${i}.json`);
      writeFileSync(file, c.content);
      const d = track(spawnPosd(['run', '--config', file], { POSD_STATE_DIR: join(dir, 'state'), ...c.env }));
      const { code } = await withTimeout(d.exited, 10_000, 'exit on bad config');
      expect(code, d.stderr()).toBe(78);
      const lines = d.stderr().trim().split('\n').slice(1);
      expect(lines.map((l) => l.split(':')[0])).toEqual(expect.arrayContaining(c.expected));
      expect(lines).toHaveLength(new Set(lines).size);
    }
  });

  it('a missing config file is a config error too', async () => {
    const d = track(spawnPosd(['run', '--config', '/nonexistent/posd.json']));
    expect((await withTimeout(d.exited, 10_000, 'exit')).code).toBe(78);
    expect(d.stderr()).toContain('cannot read /nonexistent/posd.json: ENOENT');
  });

  it('tells systemd READY=1, then WATCHDOG=1, and STOPPING=1 on SIGTERM, exiting 0 within 5 s', async () => {
    const notify = await notifyListener();
    const cfg = await writeTestConfig();
    const d = track(
      spawnPosd(['run', '--config', cfg.file], { NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '400000' }),
    );
    await waitFor(() => (notify.messages().some((m) => m.includes('READY=1')) ? true : undefined), 'READY=1');
    await waitHealthy(cfg.port);
    await waitFor(
      () => (notify.messages().filter((m) => m === 'WATCHDOG=1').length >= 2 ? true : undefined),
      'two WATCHDOG=1',
    );
    const readyIndex = notify.messages().findIndex((m) => m.includes('READY=1'));
    const firstPing = notify.messages().indexOf('WATCHDOG=1');
    expect(firstPing).toBeGreaterThan(readyIndex);

    d.child.kill('SIGTERM');
    const { code } = await withTimeout(d.exited, 5_000, 'clean exit after SIGTERM');
    expect(code).toBe(0);
    expect(notify.messages()).toContain('STOPPING=1');
    const stopIndex = notify.messages().indexOf('STOPPING=1');
    expect(notify.messages().slice(stopIndex + 1)).not.toContain('READY=1');
  });

  it('sends no watchdog pings when WATCHDOG_PID names another process', async () => {
    const notify = await notifyListener();
    const cfg = await writeTestConfig();
    const d = track(
      spawnPosd(['run', '--config', cfg.file], {
        NOTIFY_SOCKET: notify.path,
        WATCHDOG_USEC: '100000',
        WATCHDOG_PID: '1',
      }),
    );
    await waitFor(() => (notify.messages().some((m) => m.includes('READY=1')) ? true : undefined), 'READY=1');
    // Half the interval would have pinged ~10 times by the time a healthz round trip and a SIGTERM finish.
    await waitHealthy(cfg.port);
    d.child.kill('SIGTERM');
    await withTimeout(d.exited, 5_000, 'exit');
    expect(notify.messages()).not.toContain('WATCHDOG=1');
  });

  it('answers /healthz, creates the UI token 0600, and a second daemon on the same state dir refuses', async () => {
    const cfg = await writeTestConfig();
    const first = track(spawnPosd(['run', '--config', cfg.file]));
    const health = await waitHealthy(cfg.port);
    expect(health.status).toBe('ok');
    expect(health.appVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(statSync(join(cfg.stateDir, 'ui-token')).mode & 0o777).toBe(0o600);

    const second = track(spawnPosd(['run', '--config', cfg.file], { POSD_UI_PORT: '0' }));
    const { code } = await withTimeout(second.exited, 10_000, 'second daemon exit');
    expect(code).toBe(75);
    expect(second.stderr()).toContain(
      `state dir ${cfg.stateDir} is in use by another posd (pid ${first.child.pid})`,
    );

    const res = await fetch(`http://127.0.0.1:${cfg.port}/healthz`);
    expect(res.status).toBe(200);
    const unauth = await fetch(`http://127.0.0.1:${cfg.port}/api/v1/ledger`);
    expect(unauth.status).toBe(401);
    expect(((await unauth.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
  });

  it('takes the state dir over after the holder was SIGKILLed (the lock dies with it)', async () => {
    const cfg = await writeTestConfig();
    const first = track(spawnPosd(['run', '--config', cfg.file]));
    await waitHealthy(cfg.port);
    first.child.kill('SIGKILL');
    await first.exited;
    const second = track(spawnPosd(['run', '--config', cfg.file]));
    expect((await waitHealthy(cfg.port)).status).toBe('ok');
    second.child.kill('SIGTERM');
    expect((await withTimeout(second.exited, 5_000, 'exit')).code).toBe(0);
  });

  it('doctor reports ledger and outbox figures while the daemon runs', async () => {
    const cfg = await writeTestConfig();
    const d = track(spawnPosd(['run', '--config', cfg.file]));
    await waitHealthy(cfg.port);
    const api = apiClient(cfg.port, cfg.stateDir);
    for (let i = 0; i < 3; i++) {
      await api.call('POST', '/api/v1/sales', {
        lines: [{ name: 'x', qty: 1, unitPrice: 100 }],
        tenders: [{ method: 'cash', amount: 100 }],
      });
    }
    const doc = track(spawnPosd(['doctor', '--config', cfg.file]));
    expect((await withTimeout(doc.exited, 15_000, 'doctor')).code, doc.stdout()).toBe(0);
    expect(doc.stdout()).toMatch(/ok\s+ledger\s+last seq 7, acked 0, outbox 7, oldest unsynced /);
    expect(doc.stdout()).toMatch(/daemon\s+running/);
    d.child.kill('SIGTERM');
    await withTimeout(d.exited, 5_000, 'exit');
  });

  it('doctor passes on a healthy offline setup and fails on an unreachable broker', async () => {
    const cfg = await writeTestConfig();
    const ok = track(spawnPosd(['doctor', '--config', cfg.file], { POSD_STATE_DIR: tempDir() }));
    expect((await withTimeout(ok.exited, 15_000, 'doctor')).code, ok.stdout()).toBe(0);
    expect(ok.stdout()).toContain('all checks passed');

    const bad = track(
      spawnPosd(['doctor', '--config', cfg.file], {
        POSD_STATE_DIR: tempDir(),
        POSD_MQTT_URL: 'mqtt://127.0.0.1:1',
      }),
    );
    expect((await withTimeout(bad.exited, 15_000, 'doctor')).code).toBe(1);
    expect(bad.stdout()).toMatch(/FAIL\s+broker/);
  });

  it('posd demo starts with no config file and sells', async () => {
    const stateDir = join(tempDir(), 'demo-state');
    const port = await freePort();
    const d = track(spawnPosd(['demo'], { POSD_STATE_DIR: stateDir, POSD_UI_PORT: String(port) }));
    expect(await waitHealthy(port)).toMatchObject({ mode: 'demo' });
    // The embedded broker and reference cloud: the link comes up (over MQTT 3.1.1).
    await waitFor(
      async () => ((await waitHealthy(port)).status === 'ok' ? true : undefined),
      'demo cloud link up',
      20_000,
      100,
    );
    const api = apiClient(port, stateDir);
    const sale = await api.call('POST', '/api/v1/sales', {
      lines: [{ name: 'Demo', qty: 1, unitPrice: 100 }],
      tenders: [{ method: 'cash', amount: 100 }],
    });
    expect(sale.status).toBe(201);
    expect(sale.body.receiptNo).toBe('D1-000001');
    // The demo cloud pushed its merchant config, and the sale syncs to it.
    await waitFor(
      async () => {
        const records = (
          await api.call<{ records: Array<{ type: string; sync: string }> }>('GET', '/api/v1/ledger')
        ).body.records;
        return records.some((r) => r.type === 'config.applied') && records.every((r) => r.sync === 'synced')
          ? true
          : undefined;
      },
      'demo ledger synced',
      20_000,
      100,
    );
    d.child.kill('SIGINT');
    expect((await withTimeout(d.exited, 5_000, 'exit')).code).toBe(0);
  });

  it('rejects unknown commands and arguments with usage (exit 64)', async () => {
    const d = track(spawnPosd(['fly']));
    expect((await withTimeout(d.exited, 10_000, 'exit')).code).toBe(64);
    expect(d.stderr()).toContain('unknown command "fly"');
  });
});
