import { EventBus } from './bus.js';
import type { PosdConfig } from './config/schema.js';
import { describeError } from './errors.js';
import { Lifecycle } from './lifecycle/lifecycle.js';
import { StateLock } from './lifecycle/state-lock.js';
import { type Logger, moduleLogger } from './log.js';
import { HttpServer } from './ui-bridge/http-server.js';
import { ensureUiToken } from './ui-bridge/token.js';
import { APP_VERSION } from './version.js';

export interface AppOptions {
  config: PosdConfig;
  log: Logger;
  mode: 'run' | 'demo';
  now?: () => Date;
}

/** The composition root: builds every part, starts them in order and stops them in reverse. */
export class App {
  readonly bus: EventBus;
  readonly lifecycle: Lifecycle;
  readonly http: HttpServer;
  private lock: StateLock | undefined;
  private token = '';
  private readonly bootedAt: Date;

  constructor(private readonly options: AppOptions) {
    const { config, log } = options;
    const now = options.now ?? (() => new Date());
    this.bootedAt = now();
    this.bus = new EventBus(now, (err, type) =>
      log.error({ err: describeError(err), type }, 'event listener failed'),
    );
    this.lifecycle = new Lifecycle(moduleLogger(log, 'lifecycle'));
    this.http = new HttpServer({
      host: config.ui.host,
      port: config.ui.port,
      log: moduleLogger(log, 'http'),
      token: () => this.token,
    });

    this.lifecycle.add({
      name: 'state',
      start: () => {
        this.lock = StateLock.acquire(config.stateDir);
        this.token = ensureUiToken(config.stateDir);
      },
      stop: () => this.lock?.release(),
    });
    this.http.add({
      method: 'GET',
      path: '/healthz',
      auth: false,
      handle: () => {
        const health = this.lifecycle.health();
        return {
          status: 200,
          body: {
            status: health.status,
            appVersion: APP_VERSION,
            mode: this.options.mode,
            bootedAt: this.bootedAt.toISOString(),
            components: health.components,
          },
        };
      },
    });
    this.lifecycle.add({ name: 'ui-bridge', start: () => this.http.start(), stop: () => this.http.stop() });
  }

  async start(): Promise<void> {
    await this.lifecycle.start();
    const addr = this.http.address;
    this.options.log.info(
      {
        mode: this.options.mode,
        ui: addr ? `http://${addr.address}:${addr.port}` : undefined,
        version: APP_VERSION,
      },
      'posd started',
    );
  }

  async stop(): Promise<void> {
    await this.lifecycle.stop();
    this.options.log.info('posd stopped');
  }
}
