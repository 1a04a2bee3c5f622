import { execFile } from 'node:child_process';
import type { EventBus } from '../bus.js';
import type { PosdConfig } from '../config/schema.js';
import { PosError } from '../errors.js';
import { type Logger, moduleLogger } from '../log.js';
import type { Db } from '../offline/db.js';
import { MoneyInFlightStore } from '../offline/money-in-flight.js';
import type { CommandService } from '../services/command-service.js';
import type { MoneyPending } from '../services/payment-service.js';
import type { CloudSync } from '../sync/cloud-sync.js';
import { fileCashiers } from '../ui-bridge/cashiers.js';
import type { HttpServer } from '../ui-bridge/http-server.js';
import { fileThrottleStore, PinThrottle } from '../ui-bridge/pin-throttle.js';
import { APP_VERSION } from '../version.js';
import { BootHealth } from './boot-health.js';
import { type WatchdogExtender, withWatchdogDuringInstall } from './install-watchdog.js';
import { moneyHold } from './money-hold.js';
import { type Installer, RaucCli } from './rauc.js';
import { parseWindow } from './safe-moment.js';
import { type PinRole, updateRoutes } from './update-routes.js';
import { type UpdateLedger, UpdateService } from './update-service.js';
import { UpdateStateStore } from './update-state.js';
import { updateSummary } from './update-summary.js';

export interface UpdatesDeps {
  config: PosdConfig;
  mode: 'run' | 'demo';
  log: Logger;
  db: Db;
  ledger: UpdateLedger;
  moneyPending: () => MoneyPending;
  commands: CommandService;
  http: HttpServer;
  bus: EventBus;
  /** The cloud link, if configured: `P/up/state` and "the cloud was reached". */
  sync: () => CloudSync | undefined;
  installer?: Installer;
  /** systemd's watchdog, lengthened while RAUC writes a slot. */
  watchdog?: WatchdogExtender;
}

export interface Updates {
  service: UpdateService;
  health: BootHealth;
  /** Slots and the last outcome (`GET /healthz`), RAUC asked at most every few seconds. */
  summary(): Promise<Record<string, unknown>>;
  stop(): void;
}

function runArgv(argv: readonly string[]): Promise<void> {
  const [cmd, ...args] = argv;
  return new Promise((resolve, reject) => {
    execFile(cmd!, args, { timeout: 60_000 }, (err, _out, stderr) => {
      if (err) reject(new PosError('INTERNAL', `${argv.join(' ')} failed: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
}

/** Builds the update parts (src/update) from the terminal's; registers `update.install` and the routes. */
export function installUpdates(deps: UpdatesDeps): Updates {
  const log = moduleLogger(deps.log, 'update');
  const cashiers = fileCashiers(deps.config.stateDir, deps.mode === 'demo', log);
  let service: UpdateService | undefined;
  const d = {
    ...deps,
    log,
    appVersion: APP_VERSION,
    pinRole: ((pin) => {
      const cashier = cashiers.verifyPin(pin);
      return cashier ? (cashier.role ?? 'cashier') : undefined;
    }) as PinRole,
    onChange: () => {
      deps.sync()?.publishState(false);
      if (service) deps.bus.emit('update.changed', service.view());
    },
    cloudReached: () =>
      new Promise<void>((resolve) => {
        const sync = deps.sync();
        if (!sync || sync.link.isConnected) resolve();
        else sync.link.onConnect(resolve);
      }),
  };
  const store = new UpdateStateStore(d.config.stateDir);
  const rauc = d.installer ?? new RaucCli(d.config.update.rauc);
  const installer = d.watchdog ? withWatchdogDuringInstall(rauc, d.watchdog) : rauc;
  const inFlight = new MoneyInFlightStore(d.db);
  const hold = moneyHold(d.db);
  d.http.useGuard((req) => hold.guard(req));
  service = new UpdateService({
    stateDir: d.config.stateDir,
    store,
    installer,
    appVersion: d.appVersion,
    ledger: d.ledger,
    blockers: () => {
      const money = d.moneyPending();
      const f = inFlight.figures();
      return {
        openSalesWithPayments: f.openSalesWithPayments,
        printing: f.printing,
        rechargesPending: f.rechargesPending,
        unresolvedPayments: money.unresolvedPayments,
        reversalsOwed: money.pendingReversals.length,
      };
    },
    reboot: () => runArgv(d.config.update.reboot),
    hold,
    ...(d.config.update.window ? { window: parseWindow(d.config.update.window) } : {}),
    log: d.log,
    onChange: d.onChange,
  });
  const health = new BootHealth({
    store,
    installer,
    appVersion: d.appVersion,
    ledger: d.ledger,
    log: d.log,
    cloudReached: d.cloudReached,
    graceMs: d.config.update.healthGraceSeconds * 1000,
    onChange: d.onChange,
  });
  health.countStart();
  d.commands.register('update.install', (args, cmdId) => service.command(args, cmdId));
  const managerPins = new PinThrottle(
    Date.now,
    fileThrottleStore(d.config.stateDir, 'restart-pin-throttle.json'),
  );
  d.http.add(...updateRoutes(service, d.pinRole, managerPins));
  service.resume();
  let cached: { at: number; status: ReturnType<Installer['status']> } | undefined;
  const cachedStatus: Installer = {
    install: (bundle) => installer.install(bundle),
    markGood: () => installer.markGood(),
    keepBooted: () => installer.keepBooted(),
    status: () => {
      const now = Date.now();
      if (!cached || now - cached.at > 5_000) cached = { at: now, status: installer.status() };
      return cached.status;
    },
  };
  return {
    service,
    health,
    summary: () => updateSummary(cachedStatus, store.get()),
    stop: () => {
      service.stop();
      health.stop();
    },
  };
}
