import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterEach, expect, it } from 'vitest';
import { App } from '../../../src/app.js';
import { loadConfig } from '../../../src/config/load.js';
import { createRootLogger } from '../../../src/log.js';
import { freePort, refusedPort, tempDir } from '../../helpers/daemon.js';

// iconv-lite keeps each codec it has built here; this file runs in its own process.
const gb18030Built = () => 'gb18030' in (iconv as unknown as { _codecDataCache: object })._codecDataCache;

let app: App | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

it('builds the receipt encoder after READY, before any receipt, so the first sale does not pay for it', async () => {
  const stateDir = join(tempDir('posd-warm-'), 'state');
  const { config } = loadConfig({
    base: {
      device: { tenant: 't1', id: 'D1' },
      stateDir,
      ui: { port: await freePort() },
      printer: { uri: `tcp://127.0.0.1:${await refusedPort()}` },
      log: { level: 'silent' },
    },
    env: {},
  });
  app = new App({ config, log: createRootLogger('silent'), mode: 'run' });
  await app.start();
  expect(gb18030Built()).toBe(false); // not on the way to READY

  app.ready();
  await new Promise((r) => setImmediate(r));
  expect(gb18030Built()).toBe(true);
});
