import type { Db } from '../offline/db.js';
import type { AppScope } from './scopes.js';

export interface InstalledApp {
  appId: string;
  label: string;
  name: string;
  version: string;
  scopes: AppScope[];
  entry: string;
  /** Absolute folder of this version's files. */
  dir: string;
  installedAt: string;
}

interface Row {
  app_id: string;
  label: string;
  name: string;
  version: string;
  scopes: string;
  entry: string;
  dir: string;
  installed_at: string;
}

function toApp(r: Row): InstalledApp {
  return {
    appId: r.app_id,
    label: r.label,
    name: r.name,
    version: r.version,
    scopes: JSON.parse(r.scopes) as AppScope[],
    entry: r.entry,
    dir: r.dir,
    installedAt: r.installed_at,
  };
}

/** The `apps` and `app_sales` tables, read through a cache (only this process writes them). */
export class AppRegistry {
  private readonly stmt;
  private apps = new Map<string, InstalledApp>();
  private readonly sales = new Map<string, string>();

  constructor(db: Db) {
    this.stmt = {
      all: db.prepare<[], Row>('SELECT * FROM apps ORDER BY app_id'),
      upsert: db.prepare<[string, string, string, string, string, string, string, string]>(
        `INSERT INTO apps (app_id, label, name, version, scopes, entry, dir, installed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (app_id) DO UPDATE SET label = excluded.label, name = excluded.name,
           version = excluded.version, scopes = excluded.scopes, entry = excluded.entry,
           dir = excluded.dir, installed_at = excluded.installed_at`,
      ),
      delete: db.prepare<[string]>('DELETE FROM apps WHERE app_id = ?'),
      sales: db.prepare<[], { sale_id: string; app_id: string }>('SELECT sale_id, app_id FROM app_sales'),
      claim: db.prepare<[string, string, string]>(
        'INSERT OR IGNORE INTO app_sales (sale_id, app_id, at) VALUES (?, ?, ?)',
      ),
    };
    this.reload();
    for (const r of this.stmt.sales.all()) this.sales.set(r.sale_id, r.app_id);
  }

  /** After a transaction that may have rolled back: the table is the truth. */
  reload(): void {
    this.apps = new Map(this.stmt.all.all().map((r) => [r.app_id, toApp(r)]));
  }

  list(): InstalledApp[] {
    return [...this.apps.values()];
  }

  get(appId: string): InstalledApp | undefined {
    return this.apps.get(appId);
  }

  byLabel(label: string): InstalledApp | undefined {
    for (const a of this.apps.values()) if (a.label === label) return a;
    return undefined;
  }

  /** Inside a transaction. */
  putInTransaction(app: InstalledApp): void {
    this.stmt.upsert.run(
      app.appId,
      app.label,
      app.name,
      app.version,
      JSON.stringify(app.scopes),
      app.entry,
      app.dir,
      app.installedAt,
    );
  }

  /** Inside a transaction. */
  deleteInTransaction(appId: string): void {
    this.stmt.delete.run(appId);
  }

  /** Inside a transaction: `saleId` was made by `appId`. */
  claimSaleInTransaction(saleId: string, appId: string, at: string): void {
    this.stmt.claim.run(saleId, appId, at);
    if (!this.sales.has(saleId)) this.sales.set(saleId, appId);
  }

  appOfSale(saleId: string): string | undefined {
    return this.sales.get(saleId);
  }
}
