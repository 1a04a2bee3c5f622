import { execFile } from 'node:child_process';
import type { PosdConfig } from '../config/schema.js';
import { PosError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Db } from '../offline/db.js';
import { MoneyInFlightStore } from '../offline/money-in-flight.js';
import type { CommandService } from '../services/command-service.js';
import type { MoneyPending } from '../services/payment-service.js';
import type { HttpServer } from '../ui-bridge/http-server.js';
import { BootHealth } from './boot-health.js';
import { moneyHold } from './money-hold.js';
import { type Installer, RaucCli } from './rauc.js';
import { parseWindow } from './safe-moment.js';
import { type PinRole, updateRoutes } from './update-routes.js';
import { type UpdateLedger, UpdateService } from './update-service.js';
import { UpdateStateStore } from './update-state.js';
import { updateSummary } from './update-summary.js';

export interface UpdatesDeps {
  config: PosdConfig;
  log: Logger;
  db: Db;
  ledger: UpdateLedger;
  moneyPending: () => MoneyPending;
  commands: CommandService;
  http: HttpServer;
  appVersion: string;
  pinRole: PinRole;
  /** The reported state changed. */
  onChange: () => void;
  /** Resolves once the cloud has been reached (at once without one). */
  cloudReached: () => Promise<void>;
  installer?: Installer;
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
export function installUpdates(d: UpdatesDeps): Updates {
  const store = new UpdateStateStore(d.config.stateDir);
  const installer = d.installer ?? new RaucCli(d.config.update.rauc);
  const inFlight = new MoneyInFlightStore(d.db);
  const hold = moneyHold(d.db);
  d.http.useGuard((req) => hold.guard(req));
  const service = new UpdateService({
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
  d.http.add(...updateRoutes(service, d.pinRole));
  service.resume();
  let cached: { at: number; status: ReturnType<Installer['status']> } | undefined;
  const cachedStatus: Installer = {
    install: (bundle) => installer.install(bundle),
    markGood: () => installer.markGood(),
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
