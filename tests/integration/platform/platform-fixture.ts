import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { App } from '../../../src/app.js';
import { loadConfig } from '../../../src/config/load.js';
import { createRootLogger } from '../../../src/log.js';
import { freePort, tempDir } from '../../helpers/daemon.js';

export const PIN = '2468';

export interface PlatformApp {
  app: App;
  port: number;
  appsPort: number;
  stateDir: string;
  base: string;
  uiToken: string;
  stop(): Promise<void>;
}

/** The whole daemon in this process, with a free apps port and whatever config a test adds. */
export async function startPlatformApp(extra: Record<string, unknown> = {}): Promise<PlatformApp> {
  const dir = tempDir('posd-apps-');
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(
    join(stateDir, 'cashiers.json'),
    JSON.stringify({ cashiers: [{ id: 'c1', name: 'Test', pin: PIN }] }),
  );
  const port = await freePort();
  const { config } = loadConfig({
    base: {
      device: { tenant: 't1', id: 'D1' },
      stateDir,
      // Port 0: the apps listener takes a free port when it starts, no race with other tests.
      ui: { port, appsPort: 0 },
      log: { level: 'silent' },
      ...extra,
    },
    env: {},
  });
  const app = new App({ config, log: createRootLogger('silent'), mode: 'run' });
  await app.start();
  const uiToken = readFileSync(join(stateDir, 'ui-token'), 'utf8').trim();
  return {
    app,
    port,
    get appsPort() {
      const bound = app.platform.appsPort;
      if (bound === undefined) throw new Error('the apps listener is not started (install an app first)');
      return bound;
    },
    stateDir,
    base: `http://127.0.0.1:${port}`,
    uiToken,
    stop: () => app.stop(),
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown>;
}

/** A request with any headers (Host and Origin included), to 127.0.0.1:`port`. */
export function rawRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Calls the local API as the app holding `token` (from its own origin unless told otherwise). */
export function asApp(p: PlatformApp, token: string, origin?: string) {
  return (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    rawRequest(
      p.port,
      method,
      path,
      {
        host: `127.0.0.1:${p.port}`,
        authorization: `Bearer ${token}`,
        ...(origin ? { origin } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body === undefined ? undefined : JSON.stringify(body),
    );
}

/** The technician: the ui-token bearer. */
export function asTechnician(p: PlatformApp) {
  return (method: string, path: string, body?: Buffer | unknown, contentType?: string) =>
    rawRequest(
      p.port,
      method,
      path,
      {
        host: `127.0.0.1:${p.port}`,
        authorization: `Bearer ${p.uiToken}`,
        ...(body === undefined ? {} : { 'content-type': contentType ?? 'application/json' }),
      },
      body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
    );
}

/** GET from an app's origin on the apps listener. */
export function appsGet(p: PlatformApp, label: string, path: string): Promise<Answer> {
  return rawRequest(p.appsPort, 'GET', path, { host: `${label}.apps.localhost:${p.appsPort}` });
}
