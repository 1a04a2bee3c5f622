import { join } from 'node:path';
import { EventBus } from './bus.js';
import { type ProvisioningRefusal, readRefusal } from './config/provisioning.js';
import type { PosdConfig } from './config/schema.js';
import { registerDeviceCommands } from './device-commands.js';
import { deviceHealthy } from './drivers/device.js';
import { DeviceManager } from './drivers/device-manager.js';
import { describeError } from './errors.js';
import { Lifecycle } from './lifecycle/lifecycle.js';
import { ledgerMemoryRelief, type MemoryRelief } from './lifecycle/memory-relief.js';
import { StateLock } from './lifecycle/state-lock.js';
import { type Logger, moduleLogger } from './log.js';
import { buildMoneyServices } from './money-services.js';
import { type Db, openDatabase } from './offline/db.js';
import { GroupCommit } from './offline/group-commit.js';
import type { Ledger } from './offline/ledger.js';
import { SalesStore } from './offline/sales-store.js';
import { ShiftStore } from './offline/shift-store.js';
import { AppTaggingLedger } from './platform/app-ledger.js';
import { Platform } from './platform/platform.js';
import { Printing } from './printing/printing.js';
import { type CloudPort, OFFLINE_CLOUD } from './services/cloud-port.js';
import { CommandService } from './services/command-service.js';
import { ConfigService } from './services/config-service.js';
import type { CouponIssuer } from './services/coupon-issuer.js';
import type { CouponService } from './services/coupon-service.js';
import { CustomerDisplayFeed } from './services/customer-display-feed.js';
import type { MemberService } from './services/member-service.js';
import { OrderCheckout } from './services/order-checkout.js';
import { OrderService } from './services/order-service.js';
import { type MoneyPending, moneySummary, type PaymentService } from './services/payment-service.js';
import type { RefundService } from './services/refund-service.js';
import type { SaleService } from './services/sale-service.js';
import { ShiftService } from './services/shift-service.js';
import { CloudSync } from './sync/cloud-sync.js';
import { loadPublicKey } from './sync/signature.js';
import { businessCatalog } from './ui-bridge/catalog.js';
import { HttpServer } from './ui-bridge/http-server.js';
import { installUiBridge, type UiBridge } from './ui-bridge/install.js';
import { couponRoutes } from './ui-bridge/routes/coupons.js';
import { deviceRoutes } from './ui-bridge/routes/devices.js';
import { ledgerRoutes } from './ui-bridge/routes/ledger.js';
import { memberRoutes } from './ui-bridge/routes/members.js';
import { orderRoutes } from './ui-bridge/routes/orders.js';
import { printImageRoutes } from './ui-bridge/routes/print-images.js';
import { saleLinesRoutes, saleListRoutes } from './ui-bridge/routes/sale-list.js';
import { saleRoutes } from './ui-bridge/routes/sales.js';
import { shiftRoutes } from './ui-bridge/routes/shifts.js';
import { ensureUiToken } from './ui-bridge/token.js';
import { installUpdates, type Updates } from './update/install-updates.js';
import type { WatchdogExtender } from './update/install-watchdog.js';
import { APP_VERSION } from './version.js';

export interface AppOptions {
  config: PosdConfig;
  log: Logger;
  mode: 'run' | 'demo';
  now?: () => Date;
  /** systemd's watchdog, when the daemon runs under it (lengthened during an update's install). */
  watchdog?: WatchdogExtender;
}

/** The composition root: builds every part, starts them in order and stops them in reverse. */
export class App {
  readonly bus: EventBus;
  readonly lifecycle: Lifecycle;
  readonly http: HttpServer;
  private lock: StateLock | undefined;
  private db: Db | undefined;
  private groupCommit: GroupCommit | undefined;
  private memoryRelief: MemoryRelief | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  ledger!: Ledger;
  sales!: SaleService;
  refunds!: RefundService;
  shifts!: ShiftService;
  business!: ConfigService;
  payments!: PaymentService;
  orders!: OrderService;
  orderCheckout!: OrderCheckout;
  coupons!: CouponService;
  couponIssuer!: CouponIssuer;
  members!: MemberService;
  /** The cloud link as the money flows see it; offline-only without `mqtt.url`. */
  cloud: CloudPort = OFFLINE_CLOUD;
  sync: CloudSync | undefined;
  commands!: CommandService;
  printing!: Printing;
  devices!: DeviceManager;
  private displayFeed: CustomerDisplayFeed | undefined;
  /** Store apps (contract platform-v1). */
  readonly platform: Platform;
  private token = '';
  /** The last provisioning file refused on this device (image/files/provision.mjs), if any. */
  private provisioningRefused: ProvisioningRefusal | undefined;
  private uiBridge: UiBridge | undefined;
  /** Over-the-air updates (src/update). */
  updates: Updates | undefined;
  readonly bootedAt: Date;

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
      // No answer before what it tells of is on disk (the ledger's group commit, decision 0005).
      durable: () => this.ledger?.durable() ?? Promise.resolve(),
    });
    this.platform = new Platform({ config, log: moduleLogger(log, 'apps'), http: this.http, bus: this.bus });

    this.lifecycle.add({
      name: 'state',
      start: () => {
        this.lock = StateLock.acquire(config.stateDir);
        this.token = ensureUiToken(config.stateDir);
        this.provisioningRefused = readRefusal(config.stateDir);
        if (this.provisioningRefused) {
          log.warn({ provisioningRefused: this.provisioningRefused }, 'a provisioning file was refused');
        }
      },
      stop: () => this.lock?.release(),
    });
    this.lifecycle.add({
      name: 'ledger',
      start: () => {
        const file = join(config.stateDir, 'posd.db');
        const db = openDatabase({ file, log: moduleLogger(log, 'db'), synchronous: 'NORMAL' });
        this.db = db;
        // Sales arriving together share one fsync, off the event loop (decision 0005).
        this.groupCommit = new GroupCommit({ db, file, log: moduleLogger(log, 'db') });
        // Memory back once quiet after a rush (issue 18: RSS after many sales).
        this.memoryRelief = ledgerMemoryRelief(db, moduleLogger(log, 'memory'));
        this.memoryRelief.start();
        // Records made through a store app carry its appId (platform-v1).
        this.ledger = new AppTaggingLedger(
          { db, dir: config.stateDir, now, groupCommit: this.groupCommit },
          this.platform.context,
        );
        if (config.mqtt.url) {
          this.sync = new CloudSync({
            urls: config.mqtt.urls ?? [config.mqtt.url],
            tenant: config.device.tenant,
            device: config.device.id,
            ...(config.mqtt.ca || config.mqtt.cert
              ? { tls: { ca: config.mqtt.ca, cert: config.mqtt.cert, key: config.mqtt.key } }
              : {}),
            db,
            ledger: this.ledger,
            log: moduleLogger(log, 'sync'),
            appVersion: APP_VERSION,
            bootedAt: this.bootedAt.toISOString(),
            cloudKey: config.cloud.publicKey ? loadPublicKey(config.cloud.publicKey) : undefined,
            reportedState: () => this.reportedState(),
            backoff: { initialMs: config.mqtt.reconnectMinMs, maxMs: config.mqtt.reconnectMaxMs },
            ...(config.mqtt.protocolVersion ? { protocolVersion: config.mqtt.protocolVersion } : {}),
          });
          this.cloud = this.sync.requests;
        }
        const salesStore = new SalesStore(db);
        this.business = new ConfigService(db, this.ledger, this.bus, now);
        this.shifts = new ShiftService({
          ledger: this.ledger,
          store: new ShiftStore(db),
          bus: this.bus,
          now,
        });
        const money = buildMoneyServices({
          db,
          ledger: this.ledger,
          store: salesStore,
          shifts: this.shifts,
          cloud: this.cloud,
          bus: this.bus,
          log,
          deviceId: config.device.id,
          business: () => this.business.config,
          now,
        });
        ({
          sales: this.sales,
          refunds: this.refunds,
          payments: this.payments,
          coupons: this.coupons,
          couponIssuer: this.couponIssuer,
          members: this.members,
        } = money);
        this.http.add(...couponRoutes(this.coupons, this.sales, this.couponIssuer));
        this.http.add(...memberRoutes(this.members, this.sales));
        this.printing = new Printing({
          config,
          db,
          ledger: this.ledger,
          bus: this.bus,
          log: moduleLogger(log, 'printer'),
          business: () => this.business.config,
          cloudOnline: () => !this.cloud.configured || this.cloud.isOnline(),
          ticketPrinted: (orderId, kind, reprint) =>
            this.orders.ticketPrintedInTransaction(orderId, kind, reprint),
          now,
        });
        this.orders = new OrderService({
          db,
          ledger: this.ledger,
          bus: this.bus,
          log: moduleLogger(log, 'orders'),
          business: () => this.business.config,
          ...(this.printing.printer ? { tickets: this.printing } : {}),
          now,
        });
        this.devices = new DeviceManager({
          bus: this.bus,
          log,
          scannerUri: config.scanner.uri,
          displayUri: config.display.uri,
          ...(this.printing.printer ? { printer: this.printing.printer.device } : {}),
          classifyOptions: () => ({
            couponPrefixes: this.business.config.coupons.prefixes,
            memberPrefixes: this.business.config.membership.prefixes,
          }),
        });
        this.http.add(...deviceRoutes(this.devices, this.printing, this.shifts));
        this.http.add(...printImageRoutes(this.printing));
        // The cloud sees device trouble (paper out, scanner gone) in the retained reported state.
        this.bus.on('device.status', () => this.sync?.publishState(false));
        this.bus.on('config.rejection-suppressed', () => this.sync?.publishState(false));
        this.displayFeed = new CustomerDisplayFeed({
          bus: this.bus,
          sales: this.sales,
          // The pole display has no CJK font: a Chinese shop name would show as '?'.
          idleText: () => {
            const name = this.business.config.merchant.name;
            return /^[\x20-\x7e]*$/.test(name) ? name : '';
          },
        });
        this.orderCheckout = new OrderCheckout({
          orders: this.orders,
          sales: this.sales,
          store: salesStore,
          ledger: this.ledger,
          cloud: this.cloud,
          bus: this.bus,
          log: moduleLogger(log, 'orders'),
          business: () => this.business.config,
          now,
        });
        this.orders.start();
        this.orderCheckout.expireOld();
        this.expiryTimer = setInterval(() => this.orderCheckout.expireOld(), 60_000);
        this.expiryTimer.unref();
        this.commands = new CommandService(db, this.ledger, moduleLogger(log, 'commands'), now);
        registerDeviceCommands(this.commands, {
          diagnostics: () => ({
            appVersion: APP_VERSION,
            mode: this.options.mode,
            bootedAt: this.bootedAt.toISOString(),
            health: this.lifecycle.health(),
            ledger: this.ledger.figures(),
            configVersion: this.business.version,
            devices: this.devicesSnapshot(),
            ...this.moneyPending(),
            refusedPayloads: Object.fromEntries(this.sync?.refusedPayloads ?? []),
          }),
          resendFrom: (fromSeq) => this.sync?.uplink.resendFrom(fromSeq),
          reprint: (saleId) => this.printing.reprintReceipt(saleId),
          printTestPage: () => this.printing.printTestPage(),
          resubscribeConfig: async () => {
            await this.sync?.link.resubscribe(this.sync.topics.downConfig);
            return this.business.version;
          },
        });
        this.updates = installUpdates({
          config,
          mode: options.mode,
          log,
          db,
          ledger: this.ledger,
          moneyPending: () => this.payments.moneyPending(),
          commands: this.commands,
          http: this.http,
          bus: this.bus,
          sync: () => this.sync,
          ...(options.watchdog ? { watchdog: options.watchdog } : {}),
        });
        this.platform.attach({
          db,
          ledger: this.ledger,
          commands: this.commands,
          uiToken: () => this.token,
          print: (doc, appId) => this.printing.printAppDocument(doc, appId),
          saleOfPayment: (paymentId) => {
            try {
              return this.payments.get(paymentId).saleId;
            } catch {
              return undefined;
            }
          },
        });
        this.sync?.connectPorts({
          config: this.business,
          orders: this.orders,
          commands: this.commands,
          notify: (paymentId) => void this.payments.onNotify(paymentId),
          lastDownSeq: () => this.orders.lastDownSeq(),
        });
        this.payments.resumeUnresolved();
        this.http.add(...orderRoutes(this.orders, this.orderCheckout));
        this.http.add(
          ...saleRoutes(this.sales, this.payments, this.refunds),
          ...saleListRoutes(salesStore),
          ...saleLinesRoutes({ ledger: this.ledger, store: salesStore, sales: this.sales }),
          ...shiftRoutes(this.shifts),
          ...ledgerRoutes(this.ledger),
        );
        this.pruneLedger(now);
        this.pruneTimer = setInterval(() => this.pruneLedger(now), 3_600_000);
        this.pruneTimer.unref();
      },
      stop: async () => {
        this.updates?.stop();
        this.memoryRelief?.stop();
        clearInterval(this.pruneTimer);
        clearInterval(this.expiryTimer);
        this.ledger?.settleRiders(); // printing stopped before: nothing rides after; failures logged
        this.orders?.stop();
        await this.payments?.stop();
        await this.groupCommit?.close();
        this.db?.close();
      },
    });
    this.http.add({
      method: 'GET',
      path: '/healthz',
      auth: false,
      handle: async () => {
        const health = this.lifecycle.health();
        const updates = await this.updates?.summary();
        return {
          status: 200,
          body: {
            status: health.status,
            appVersion: APP_VERSION,
            mode: this.options.mode,
            bootedAt: this.bootedAt.toISOString(),
            components: health.components,
            ...this.moneyPending(true),
            // The pages signed in to the event stream (the kiosk's among them), by browser.
            uiClients: this.uiBridge?.events.uiClients() ?? [],
            ...(updates ? { updates } : {}),
          },
        };
      },
    });
    this.lifecycle.add({
      name: 'devices',
      // READY waits for each device's first attempt; a missing one is degraded, not a failure.
      start: async () => {
        await this.printing.start();
        await this.devices.start();
        this.displayFeed?.start();
      },
      stop: async () => {
        this.displayFeed?.stop();
        await this.devices?.stop();
        await this.printing?.stop(); // the printer and its queue, before the ledger closes
      },
      health: () => {
        return Object.values(this.devices.snapshot()).every((d) => deviceHealthy(d.state))
          ? 'ok'
          : 'degraded';
      },
    });
    this.lifecycle.add({
      name: 'cloud',
      start: () => this.sync?.start(),
      stop: () => this.sync?.stop(),
      health: () => (!this.sync || this.sync.link.isConnected ? 'ok' : 'degraded'),
    });
    this.lifecycle.add({ name: 'ui-bridge', start: () => this.http.start(), stop: () => this.http.stop() });
    this.lifecycle.add({
      name: 'apps',
      start: () => {
        if (options.mode === 'demo') this.platform.installBundled();
        return this.platform.ensureServer(options.mode === 'demo');
      },
      stop: () => this.platform.stop(),
    });
    // ui-bridge: PIN sessions, origin allow-list, event stream, status, catalog, OpenAPI, static UI.
    this.uiBridge = installUiBridge({
      http: this.http,
      bus: this.bus,
      lifecycle: this.lifecycle,
      log,
      stateDir: config.stateDir,
      listenHost: config.ui.host,
      mode: options.mode,
      ledger: () => this.ledger,
      payments: () => this.payments,
      catalog: businessCatalog(() => this.business?.config.catalog),
      cloudOnline: () => (this.cloud.configured ? this.cloud.isOnline() : undefined),
      apps: { origins: () => this.platform.origins(), audience: (req) => this.platform.audience(req) },
      onCloudChange: (listener) => {
        this.sync?.link.onConnect(listener);
        this.sync?.link.onDisconnect(listener);
      },
      merchantName: () => this.business?.config.merchant?.name,
    });
    this.platform.events = this.uiBridge.events;
  }

  /** `P/up/state` (mqtt-v1 "Reported state"). */
  reportedState(): Record<string, unknown> {
    const f = this.ledger.figures();
    const unsynced = this.ledger.unsyncedSales();
    return {
      epoch: this.ledger.epoch,
      appVersion: APP_VERSION,
      configVersion: this.business.version,
      lastSeq: f.lastSeq,
      ackedUpTo: f.ackedUpTo,
      outboxDepth: f.outboxDepth,
      oldestUnsyncedAt: f.oldestUnsyncedAt ?? null,
      devices: this.devicesSnapshot(),
      offlineTotals: { amount: unsynced.amount, count: unsynced.count, since: f.oldestUnsyncedAt ?? null },
      updatedAt: new Date().toISOString(),
      // Issue 20 names it here: the over-the-air update's progress.
      ...(this.updates ? { update: this.updates.service.view() } : {}),
      // Device-defined extras live under one key, apart from the contract's fields.
      extensions: {
        suppressedConfigRejections: this.business.suppressedRejections,
        ...(this.provisioningRefused ? { provisioningRefused: this.provisioningRefused } : {}),
      },
    };
  }

  /**
   * Money not settled yet (unresolved payments, reversals owed), for the technician. `summary`
   * (the unauthenticated /healthz) gives counts and the amount owed, no payment ids.
   */
  moneyPending(summary = false): { money?: Record<string, unknown> } {
    try {
      if (!this.payments) return {};
      const m: MoneyPending = this.payments.moneyPending();
      return { money: summary ? moneySummary(m) : { ...m } };
    } catch {
      return {}; // the database is closed (stopping)
    }
  }

  /**
   * After READY: blesses the booted slot once healthy, reports an update's outcome, and builds
   * what the first receipt needs, off the start.
   */
  ready(): void {
    void this.updates?.health.afterReady();
    this.printing?.warmSoon();
  }

  /** Each device as in `GET /api/v1/devices`. */
  devicesSnapshot(): Record<string, unknown> {
    return { ...this.devices.snapshot() };
  }

  /** Retention: synced records older than `ledger.retentionDays` go; unsynced ones never do. */
  private pruneLedger(now: () => Date): void {
    const cutoff = new Date(now().getTime() - this.options.config.ledger.retentionDays * 86_400_000);
    try {
      const removed = this.ledger.prune(cutoff);
      if (removed > 0) this.options.log.info({ removed }, 'pruned synced ledger records');
    } catch (err) {
      this.options.log.warn({ err: describeError(err) }, 'ledger pruning failed');
    }
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
