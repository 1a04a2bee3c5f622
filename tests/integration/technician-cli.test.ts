import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/api.js';
import {
  type DaemonProcess,
  freePort,
  refusedPort,
  spawnPosd,
  tempDir,
  waitHealthy,
  withTimeout,
  writeTestConfig,
} from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const CLI = resolve(import.meta.dirname, '../../dist/cloud/cli.js');
const PUBLIC_KEY =
  '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAdrArYx8NHbZqVGHmBIjK977Gy9JqOdnBvvqE/ygDIAw=\n-----END PUBLIC KEY-----\n';

const started: DaemonProcess[] = [];
function track(d: DaemonProcess): DaemonProcess {
  started.push(d);
  return d;
}
afterAll(() => {
  for (const d of started) d.child.kill('SIGKILL');
});

async function doctor(extra: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  const cfg = await writeTestConfig(extra);
  const d = track(spawnPosd(['doctor', '--config', cfg.file], env));
  const { code } = await withTimeout(d.exited, 20_000, 'doctor');
  return { code, out: d.stdout(), cfg };
}

/** The doctor's line for a check, and the hint line under it (or ''). */
function lineOf(out: string, name: string): { line: string; hint: string } {
  const lines = out.split('\n');
  const at = lines.findIndex((l) => new RegExp(`^(ok|FAIL)\\s+${name}\\s`).test(l));
  const next = lines[at + 1] ?? '';
  return { line: lines[at] ?? '', hint: next.trim().startsWith('→') ? next.trim() : '' };
}

describe('posd doctor for a technician', () => {
  it('on a fresh install, before the first start, reports "not started yet" and passes', async () => {
    const { code, out, cfg } = await doctor({});
    expect(out).toMatch(/^ok\s+state dir\s+.*not started yet/m);
    expect(lineOf(out, 'ledger').line).toMatch(/^ok\s+ledger\s+no ledger yet/);
    expect(code, out).toBe(0);
    expect(out).not.toContain(`${cfg.stateDir}: ENOENT`);
  });

  it('says what each failure means and what to do, not a bare errno; exit 1', async () => {
    const closed = await refusedPort();
    const { code, out } = await doctor({
      mqtt: { url: `mqtt://127.0.0.1:${closed}` },
      cloud: { publicKey: PUBLIC_KEY },
      printer: { uri: `tcp://127.0.0.1:${closed}` },
      scanner: { uri: 'serial:///dev/posd-nonexistent-tty9' },
    });
    expect(code, out).toBe(1);
    const broker = lineOf(out, 'broker');
    expect(broker.line).toMatch(
      /^FAIL\s+broker\s+mqtt:\/\/127\.0\.0\.1:\d+: connection refused.*\(ECONNREFUSED\)$/,
    );
    expect(broker.hint).toMatch(/is the broker running\? check host and port in mqtt\.url/);
    const printer = lineOf(out, 'printer');
    expect(printer.line).toMatch(/connection refused: nothing listens there \(ECONNREFUSED\)/);
    expect(printer.hint).toMatch(/printer\.uri/);
    const scanner = lineOf(out, 'scanner');
    expect(scanner.line).toMatch(
      /^FAIL\s+scanner\s+\/dev\/posd-nonexistent-tty9: no such device \(ENOENT\)$/,
    );
    expect(scanner.hint).toMatch(/plugged in/);
    expect(out).toContain('check(s) failed');
  });

  it('several brokers: ok while one answers, each unreachable one named; all down fails', async () => {
    const live = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => live.listen(0, '127.0.0.1', () => r()));
    const livePort = (live.address() as { port: number }).port;
    const dead = await refusedPort();
    try {
      const one = await doctor({
        mqtt: { urls: [`mqtt://127.0.0.1:${dead}`, `mqtt://127.0.0.1:${livePort}`] },
        cloud: { publicKey: PUBLIC_KEY },
      });
      expect(lineOf(one.out, 'broker').line).toMatch(
        new RegExp(
          `^ok\\s+broker\\s+mqtt://127\\.0\\.0\\.1:${dead} unreachable \\(ECONNREFUSED\\), mqtt://127\\.0\\.0\\.1:${livePort}$`,
        ),
      );
      const none = await doctor({
        mqtt: { urls: [`mqtt://127.0.0.1:${dead}`, `mqtt://127.0.0.1:${dead}/`] },
        cloud: { publicKey: PUBLIC_KEY },
      });
      expect(lineOf(none.out, 'broker').line).toMatch(/^FAIL\s+broker\s+.*connection refused/);
      expect(none.code).toBe(1);
    } finally {
      await new Promise<void>((r) => live.close(() => r()));
    }
  });

  it('a state dir that is a file: says so and what to fix', async () => {
    const file = join(tempDir(), 'not-a-dir');
    writeFileSync(file, '');
    const { code, out } = await doctor({}, { POSD_STATE_DIR: file });
    expect(code, out).toBe(1);
    const state = lineOf(out, 'state dir');
    expect(state.line).toMatch(/not a directory \(ENOTDIR\)/);
    expect(state.hint).toMatch(/fix stateDir/);
  });

  it('an mqtts:// broker without cloud.publicKey is an incomplete config (pushes would be refused)', async () => {
    const port = await freePort();
    const bad = await doctor({ mqtt: { url: `mqtts://127.0.0.1:${port}` } });
    expect(bad.code, bad.out).toBe(1);
    const config = lineOf(bad.out, 'config');
    expect(config.line).toMatch(/^FAIL\s+config\s+incomplete: .*cloud\.publicKey is missing/);
    expect(config.hint).toMatch(/set cloud\.publicKey/);

    const good = await doctor({
      mqtt: { url: `mqtts://127.0.0.1:${port}` },
      cloud: { publicKey: PUBLIC_KEY },
    });
    expect(lineOf(good.out, 'config').line).toMatch(/^ok\s+config\s+valid$/);
  });
});

describe('posd demo for a newcomer', () => {
  it('greets a person with the URL and PIN, an online order arrives by itself, the cloud CLI pushes one without --mqtt', async () => {
    const cfg = await writeTestConfig();
    const d = track(spawnPosd(['demo', '--config', cfg.file, '--orders-every', '1']));
    await waitHealthy(cfg.port, 30_000);
    const greeting = await waitFor(
      () => d.stdout().match(/^posd demo is ready: open (\S+) , PIN (\d+)$/m) ?? undefined,
      'the greeting',
      20_000,
    );
    expect(greeting[1]).toBe(`http://127.0.0.1:${cfg.port}/`);
    expect(greeting[2]).toBe('1234');
    expect(d.stdout()).toContain(`http://127.0.0.1:${cfg.port}/customer`);
    // The page a person opens from the greeting (and its file name) is there.
    for (const path of ['/customer', '/customer.html']) {
      const res = await fetch(`http://127.0.0.1:${cfg.port}${path}`);
      expect([path, res.status, res.headers.get('content-type')]).toEqual([
        path,
        200,
        'text/html; charset=utf-8',
      ]);
    }

    const api = apiClient(cfg.port, cfg.stateDir);
    const orders = async () =>
      (await api.call<{ orders: Array<{ orderId: string }> }>('GET', '/api/v1/orders')).body.orders ?? [];
    await waitFor(
      async () => ((await orders()).some((o) => o.orderId.startsWith('demo-')) ? true : undefined),
      'an online order from the demo cloud',
      30_000,
      100,
    );

    const cli = d
      .stdout()
      .match(/cloud CLI\s+node dist\/cloud\/cli\.js push-order (.*) --db FILE --order JSON/);
    expect(cli).toBeTruthy();
    const args = (cli?.[1] ?? '').split(' ');
    const order = {
      id: 'web-cli-1',
      source: 'meituan',
      placedAt: new Date().toISOString(),
      lines: [{ name: '拿铁咖啡', qty: 1, unitPrice: 2800 }],
      total: 2800,
      currency: 'CNY',
    };
    const pushed = await run(process.execPath, [
      CLI,
      'push-order',
      ...args,
      '--db',
      join(tempDir(), 'cloud.db'),
      '--order',
      JSON.stringify(order),
    ]);
    expect(pushed.stdout).toMatch(/order pushed with downSeq \d+/);
    await waitFor(
      async () => ((await orders()).some((o) => o.orderId === 'web-cli-1') ? true : undefined),
      'the CLI order',
      20_000,
      100,
    );
  }, 90_000);
});

describe('reference cloud CLI', () => {
  it('--help prints the usage on stdout and exits 0; no command or an unknown one exits 64', async () => {
    const help = await run(process.execPath, [CLI, '--help']);
    expect(help.stdout).toMatch(/^usage: node dist\/cloud\/cli\.js <command>/);
    expect(help.stdout).toContain('--mqtt 4|5');
    for (const args of [[], ['frobnicate'], ['push-order', '--bogus']]) {
      const failed = await run(process.execPath, [CLI, ...args]).catch(
        (err: { code: number; stderr: string }) => err,
      );
      expect([args.join(' '), (failed as { code: number }).code]).toEqual([args.join(' '), 64]);
      expect((failed as { stderr: string }).stderr).toContain('usage:');
    }
  });
});
