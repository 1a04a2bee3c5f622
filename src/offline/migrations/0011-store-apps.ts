import type { Migration } from './migration.js';

/**
 * Store apps (contract platform-v1): the installed version of each app and where its files are,
 * and which sales each app made (an app sees only its own; its records carry its `appId`).
 */
export const storeAppsMigration: Migration = {
  version: 11,
  name: 'store-apps',
  up(db) {
    db.exec(`
      CREATE TABLE apps (
        app_id TEXT PRIMARY KEY,
        label TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        scopes TEXT NOT NULL,
        entry TEXT NOT NULL,
        dir TEXT NOT NULL,
        installed_at TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE app_sales (
        sale_id TEXT PRIMARY KEY,
        app_id TEXT NOT NULL,
        at TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
