import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { apiClient } from '../helpers/api.js';
import { MAIN_JS, refusedPort, waitHealthy, writeTestConfig } from '../helpers/daemon.js';

const PROBE = resolve(import.meta.dirname, '../helpers/loaded-modules.mjs');
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill('SIGKILL');
});

function loadedModules(c: ChildProcess): Promise<string[]> {
  return new Promise((resolveList) => {
    const onMessage = (m: unknown) => {
      const modules = (m as { modules?: string[] } | null)?.modules;
      if (!modules) return;
      c.off('message', onMessage);
      resolveList(modules);
    };
    c.on('message', onMessage);
    c.send('modules');
  });
}

/** Packages and parts a sale never needs: loaded where used, never by the start or a sale. */
const NOT_AT_START = [
  /node_modules\/mqtt\//,
  /node_modules\/mqtt-packet\//,
  /node_modules\/ws\//,
  /node_modules\/pngjs\//,
  /node_modules\/serialport\//,
  /node_modules\/@serialport\//,
  /node_modules\/aedes/,
  /node_modules\/@julusian\/freetype2/,
  /dist\/cloud\//,
  /dist\/src\/demo\.js/,
  /dist\/src\/doctor\.js/,
  /dist\/src\/drivers\/sim\/(rasterize|receipt-renderer|printer-font)\.js/,
];

describe('what the daemon loads to start and sell', () => {
  it('no broker client, WebSocket server, PNG codec, serial binding, demo or cloud until used', async () => {
    const closed = await refusedPort();
    const cfg = await writeTestConfig({ printer: { uri: `tcp://127.0.0.1:${closed}` } });
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('POSD_')));
    child = spawn(process.execPath, ['--import', PROBE, MAIN_JS, 'run', '--config', cfg.file], {
      env: clean,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    await waitHealthy(cfg.port);
    const api = apiClient(cfg.port, cfg.stateDir);
    const sale = await api.call('POST', '/api/v1/sales', {
      lines: [{ name: '拿铁', qty: 1, unitPrice: 2800 }],
      tenders: [{ method: 'cash', amount: 3000 }],
    });
    expect(sale.status).toBe(201);

    const atStart = await loadedModules(child);
    expect(atStart.some((m) => m.includes('dist/src/app.js'))).toBe(true); // the probe sees our modules
    expect(atStart.filter((m) => NOT_AT_START.some((re) => re.test(m)))).toEqual([]);

    // The event stream loads its WebSocket server with the first client, which gets its hello.
    const ws = new WebSocket(`ws://127.0.0.1:${cfg.port}/api/v1/events`, {
      headers: { authorization: `Bearer ${api.token}` },
    });
    const hello = await new Promise<{ type: string }>((resolveHello, reject) => {
      ws.once('message', (data) => resolveHello(JSON.parse(String(data)) as { type: string }));
      ws.once('error', reject);
    });
    ws.close();
    expect(hello.type).toBe('hello');
    expect((await loadedModules(child)).some((m) => /node_modules\/ws\//.test(m))).toBe(true);
  }, 60_000);
});
