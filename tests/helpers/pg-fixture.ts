import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { type PgCloudOptions, PgCloudService } from '../../cloud/pg/pg-cloud.js';
import { PgStore } from '../../cloud/pg/pg-store.js';
import { Postgres } from './postgres.js';

type Closable = { end?: () => Promise<void>; stop?: () => Promise<void> };

/**
 * One throwaway PostgreSQL for a test file. The stores and clouds its tests open through it are
 * closed, and the server removed, after the file's tests.
 */
export function pgForFile() {
  const server = new Postgres();
  const { privateKey } = generateKeyPairSync('ed25519');
  const open: Closable[] = [];
  beforeAll(async () => {
    await server.start();
  }, 120_000);
  afterAll(async () => {
    for (const o of open.splice(0)) await (o.stop ?? o.end)?.call(o);
    await server.stop();
  });
  return {
    server,
    privateKey,
    /** A store on the server, closed after the file. */
    store(): PgStore {
      const s = new PgStore(server.url);
      open.push(s);
      return s;
    },
    /** A started cloud on the server signing with the file's key, stopped after the file. */
    async cloud(options: Omit<PgCloudOptions, 'dbUrl' | 'signingKey'>): Promise<PgCloudService> {
      const c = new PgCloudService({ dbUrl: server.url, signingKey: privateKey, ...options });
      await c.start();
      open.push(c);
      return c;
    },
  };
}

export { chainedSales } from './chained-records.js';
