import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { EventBus } from '../bus.js';
import type { PosdConfig } from '../config/schema.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Db } from '../offline/db.js';
import type { Ledger } from '../offline/ledger.js';
import type { CommandService } from '../services/command-service.js';
import type { EventStream, StreamAudience } from '../ui-bridge/event-stream.js';
import type { HttpServer } from '../ui-bridge/http-server.js';
import { findUiRoot } from '../ui-bridge/static-ui.js';
import { AppAccess } from './app-access.js';
import { registerAppCommands } from './app-commands.js';
import { AppContext } from './app-ledger.js';
import { AppRegistry } from './app-registry.js';
import { appRoutes } from './app-routes.js';
import { AppSessions } from './app-sessions.js';
import { AppsServer } from './apps-server.js';
import { AppInstaller } from './installer.js';
import { checkPackage } from './package-check.js';
import type { AppPrintDocument } from './print-document.js';

export interface PlatformOptions {
  config: PosdConfig;
  log: Logger;
  http: HttpServer;
  bus: EventBus;
}

export interface PlatformParts {
  db: Db;
  ledger: Ledger;
  commands: CommandService;
  uiToken: () => string;
  print: (doc: AppPrintDocument, appId: string) => string;
  saleOfPayment: (paymentId: string) => string | undefined;
}

async function loadSdk(): Promise<{ js: Buffer; dts: Buffer } | undefined> {
  const root = findUiRoot();
  if (!root) return undefined;
  try {
    const dir = join(root, 'dist', 'sdk');
    return { js: await readFile(join(dir, 'posd-app.js')), dts: await readFile(join(dir, 'posd-app.d.ts')) };
  } catch {
    return undefined;
  }
}

/**
 * Store apps (contract platform-v1), wired into the daemon: the registry and installer (once the
 * ledger is open), the cloud commands, the routes, the access rules on the API and the apps
 * listener. The apps listener starts with the first installed app, so a terminal without apps
 * holds no second port.
 */
export class Platform {
  readonly context = new AppContext();
  readonly sessions = new AppSessions();
  readonly access: AppAccess;
  registry: AppRegistry | undefined;
  installer: AppInstaller | undefined;
  events: EventStream | undefined;
  private server: AppsServer | undefined;
  private serverStarting: Promise<void> | undefined;

  constructor(private readonly o: PlatformOptions) {
    this.access = new AppAccess({
      registry: {
        list: () => this.registry?.list() ?? [],
        get: (id: string) => this.registry?.get(id),
        appOfSale: (id: string) => this.registry?.appOfSale(id),
      },
      sessions: this.sessions,
      appsPort: () => this.server?.port,
      saleOfPayment: (id) => this.parts?.saleOfPayment(id),
      during: (appId, run) => this.context.during(appId, run),
      claimSale: (saleId, appId) =>
        this.parts?.ledger.transact(() =>
          this.registry?.claimSaleInTransaction(saleId, appId, new Date().toISOString()),
        ),
    });
    o.http.useGuard((req) => this.access.guard(req));
    o.http.acceptAuth((req) => this.access.authenticates(req));
    o.http.useHooks(this.access.hooks());
  }

  private parts: PlatformParts | undefined;

  /** Inside the ledger component's start: the tables exist now. */
  attach(parts: PlatformParts): void {
    this.parts = parts;
    const registry = new AppRegistry(parts.db);
    this.registry = registry;
    this.context.appOfSale = (saleId) => registry.appOfSale(saleId);
    this.installer = new AppInstaller({
      registry,
      ledger: parts.ledger,
      root: join(this.o.config.stateDir, 'apps'),
      log: this.o.log,
      onRemoved: (appId) => {
        this.sessions.revokeApp(appId);
        this.events?.closeEnded();
      },
    });
    const installer = this.installer;
    registerAppCommands(parts.commands, {
      install: (...args) => {
        const app = installer.install(...args);
        void this.ensureServer();
        return app;
      },
      remove: (appId) => installer.remove(appId),
    });
    this.o.http.add(
      ...appRoutes({
        registry,
        installer: {
          install: (gz: Uint8Array) => {
            const app = installer.install(gz);
            void this.ensureServer();
            return app;
          },
          remove: (appId: string) => installer.remove(appId),
        },
        sessions: this.sessions,
        bus: this.o.bus,
        uiToken: parts.uiToken,
        originOf: (app) => this.access.originOf(app),
        appOf: (ctx) => {
          const m = /^Bearer\s+(\S+)$/i.exec(ctx.headers.authorization ?? '');
          return m ? this.sessions.find(m[1]!)?.appId : undefined;
        },
        print: parts.print,
      }),
      {
        method: 'GET',
        path: '/sdk/:file',
        auth: false,
        doc: {
          summary: 'The store app SDK: posd-app.js (ES module) and posd-app.d.ts',
          tag: 'pages',
          responses: { 200: { description: 'JavaScript or TypeScript declarations' } },
          errors: ['NOT_FOUND'],
        },
        handle: async (ctx) => {
          const sdk = await loadSdk();
          const file = ctx.params.file;
          if (!sdk || (file !== 'posd-app.js' && file !== 'posd-app.d.ts')) {
            return { status: 404, body: { error: { code: 'NOT_FOUND', message: 'no such file' } } };
          }
          const js = file.endsWith('.js');
          return {
            status: 200,
            body: js ? sdk.js : sdk.dts,
            headers: { 'content-type': js ? 'text/javascript; charset=utf-8' : 'text/plain; charset=utf-8' },
          };
        },
      },
    );
  }

  origins(): readonly string[] {
    return this.access.origins();
  }

  audience(req: IncomingMessage): StreamAudience | undefined {
    return this.access.audience(req);
  }

  /**
   * The demo's store apps (dist/apps, made by `npm run build`): installed when absent or another
   * version, as a technician would. A package that fails is logged; the demo runs without it.
   */
  installBundled(): void {
    const root = findUiRoot();
    const installer = this.installer;
    if (!root || !installer || !this.registry) return;
    const dir = join(root, 'dist', 'apps');
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.tar.gz'));
    } catch {
      return;
    }
    for (const name of names) {
      try {
        const bytes = readFileSync(join(dir, name));
        const { manifest } = checkPackage(bytes);
        if (this.registry.get(manifest.id)?.version === manifest.version) continue;
        installer.install(bytes);
      } catch (err) {
        this.o.log.warn({ err: describeError(err), name }, 'bundled app not installed');
      }
    }
  }

  /** The apps listener's port once it listens. */
  get appsPort(): number | undefined {
    return this.server?.port;
  }

  /** Starts the apps listener if an app is installed (at boot, and after each install). */
  async ensureServer(anyPortIfTaken = false): Promise<void> {
    if (this.server || !this.registry || this.registry.list().length === 0) return this.serverStarting;
    const { config, http, log } = this.o;
    const server = new AppsServer({
      host: config.ui.host,
      port: config.ui.appsPort,
      registry: this.registry,
      log,
      apiOrigins: () => {
        const port = http.address?.port ?? config.ui.port;
        return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
      },
      sdk: loadSdk,
    });
    this.server = server;
    this.serverStarting = server.start().catch(async (err: unknown) => {
      if (anyPortIfTaken && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        // The demo beside another posd: any free port (the launcher names the one bound).
        this.server = undefined;
        this.o.config.ui.appsPort = 0;
        return this.ensureServer();
      }
      // Not fatal: the till sells without apps; the technician sees why in the log.
      log.error({ err: describeError(err), port: config.ui.appsPort }, 'apps listener not started');
      this.server = undefined;
    });
    return this.serverStarting;
  }

  async stop(): Promise<void> {
    await this.serverStarting;
    await this.server?.stop();
    this.server = undefined;
  }
}
