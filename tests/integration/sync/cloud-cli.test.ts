import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient } from '../../helpers/api.js';
import { deviceLedger } from '../../helpers/cloud-fixture.js';
import {
  type DaemonProcess,
  spawnPosd,
  tempDir,
  waitHealthy,
  writeTestConfig,
} from '../../helpers/daemon.js';
import { Mosquitto } from '../../helpers/mosquitto.js';
import { waitFor } from '../../helpers/wait.js';

const run = promisify(execFile);
const CLI = resolve(import.meta.dirname, '../../../dist/cloud/cli.js');
const broker = new Mosquitto();
let daemon: DaemonProcess | undefined;

afterAll(async () => {
  daemon?.child.kill('SIGKILL');
  await broker.stop();
});

describe('reference cloud CLI', () => {
  it('makes a key, pushes a signed config and a command the daemon accepts', async () => {
    await broker.start();
    const dir = tempDir();
    const key = join(dir, 'cloud.key');
    const db = join(dir, 'cloud.db');
    const publicPem = (await run(process.execPath, [CLI, 'keygen', '--out', key])).stdout;
    expect(publicPem).toContain('BEGIN PUBLIC KEY');
    const cfg = await writeTestConfig({
      mqtt: { url: broker.url, reconnectMinMs: 100, reconnectMaxMs: 300 },
      cloud: { publicKey: publicPem },
    });
    daemon = spawnPosd(['run', '--config', cfg.file]);
    await waitHealthy(cfg.port);
    const api = apiClient(cfg.port, cfg.stateDir);
    const common = ['--broker', broker.url, '--db', db, '--key', key, '--tenant', 't1', '--device', 'D1'];
    await run(process.execPath, [
      CLI,
      'push-config',
      ...common,
      '--version',
      '5',
      '--doc',
      '{"merchant":{"name":"CLI 商户"}}',
    ]);
    await waitFor(
      async () => ((await deviceLedger(api)).some((r) => r.type === 'config.applied') ? true : undefined),
      'applied',
    );
    const answer = await run(process.execPath, [CLI, 'push-cmd', ...common, '--name', 'diagnostics']);
    expect(JSON.parse(answer.stdout)).toMatchObject({ ok: true, result: { configVersion: 5 } });
    // Issue 20's command goes the same way (accepted; its download, to a closed port, only retries).
    const update = {
      version: '99.0.0',
      url: 'http://127.0.0.1:9/posd.raucb',
      sha256: 'a'.repeat(64),
      size: 1_000,
    };
    const accepted = await run(process.execPath, [
      CLI,
      'push-cmd',
      ...common,
      '--name',
      'update.install',
      '--args',
      JSON.stringify(update),
    ]);
    expect(JSON.parse(accepted.stdout)).toMatchObject({
      ok: true,
      result: { accepted: true, version: '99.0.0' },
    });
  });
});
