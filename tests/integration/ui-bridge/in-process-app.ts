import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from '../../../src/app.js';
import { loadConfig } from '../../../src/config/load.js';
import { createRootLogger } from '../../../src/log.js';
import { freePort, tempDir } from '../../helpers/daemon.js';

export const PIN = '2468';

/** The whole daemon in this process, so a test can compare the API with the router's own table. */
export async function startApp(): Promise<{ app: App; port: number; stateDir: string; base: string }> {
  const dir = tempDir('posd-ui-');
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(
    join(stateDir, 'cashiers.json'),
    JSON.stringify({ cashiers: [{ id: 'c1', name: 'Test', pin: PIN }] }),
  );
  const port = await freePort();
  const { config } = loadConfig({
    base: { device: { tenant: 't1', id: 'D1' }, stateDir, ui: { port }, log: { level: 'silent' } },
    env: {},
  });
  const app = new App({ config, log: createRootLogger('silent'), mode: 'run' });
  await app.start();
  return { app, port, stateDir, base: `http://127.0.0.1:${port}` };
}
