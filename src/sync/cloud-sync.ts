import type { KeyObject } from 'node:crypto';
import { systemTimers, type Timers } from '../drivers/transport/timers.js';
import type { Logger } from '../log.js';
import type { Db } from '../offline/db.js';
import type { Ledger } from '../offline/ledger.js';
import { Downlink, type DownlinkPorts } from './downlink.js';
import { MqttLink } from './mqtt-link.js';
import { takePulledOrders } from './pulled-orders.js';
import { RequestClient } from './request-client.js';
import { StatePublisher } from './state-publisher.js';
import { type Topics, topicsFor } from './topics.js';
import { Uplink, type UplinkSettings } from './uplink.js';

export interface CloudSyncOptions {
  /** The brokers, tried in turn (a cluster's nodes); at least one. */
  urls: readonly string[];
  tenant: string;
  device: string;
  tls?: { ca?: string; cert?: string; key?: string };
  db: Db;
  ledger: Ledger;
  log: Logger;
  appVersion: string;
  bootedAt: string;
  cloudKey: KeyObject | undefined;
  protocolVersion?: 4 | 5;
  uplink?: Partial<UplinkSettings>;
  backoff?: { initialMs: number; maxMs: number };
  /** Timers and clock (ms), so the simulation drives sync in its own time. */
  timers?: Timers;
  now?: () => number;
  /** The reported state (`P/up/state`) as of now. */
  reportedState: () => Record<string, unknown>;
}

/**
 * The device side of mqtt-v1, wired: link, uplink of the ledger, downlink, requests, reported
 * state; after every connect it pulls the orders it may have missed.
 */
export class CloudSync {
  readonly topics: Topics;
  readonly link: MqttLink;
  readonly requests: RequestClient;
  readonly uplink: Uplink;
  private downlink: Downlink | undefined;
  private readonly state: StatePublisher;
  private readonly timers: Timers;
  private readonly now: () => number;
  private pulling = false;
  private pullAgain = false;
  private readonly stmt;

  constructor(private readonly o: CloudSyncOptions) {
    this.topics = topicsFor(o.tenant, o.device);
    this.timers = o.timers ?? systemTimers();
    this.now = o.now ?? Date.now;
    this.stmt = {
      get: o.db.prepare<[string], { value: string }>('SELECT value FROM sync_state WHERE key = ?'),
      set: o.db.prepare<[string, string]>(
        'INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
    };
    this.link = new MqttLink({
      urls: o.urls,
      // A broker found to speak MQTT 3.1.1 only is remembered in the ledger's database (sync_state).
      versionMemory: {
        // The value is when (ms); a row from before that ('4') reads as long ago.
        get: (broker) => {
          const row = this.stmt.get.get(`link.mqtt311 ${broker}`);
          return row ? Number(row.value) || 0 : undefined;
        },
        remember: (broker, at) => {
          try {
            this.stmt.set.run(`link.mqtt311 ${broker}`, String(at));
          } catch (err) {
            o.log.warn({ err }, 'could not persist the broker MQTT version');
          }
        },
      },
      clientId: `${o.tenant}.${o.device}`,
      topics: this.topics,
      epoch: () => o.ledger.epoch,
      appVersion: o.appVersion,
      bootedAt: o.bootedAt,
      log: o.log,
      ...(o.tls ? { tls: o.tls } : {}),
      ...(o.protocolVersion ? { protocolVersion: o.protocolVersion } : {}),
      ...(o.backoff ? { backoff: o.backoff } : {}),
      durable: () => o.ledger.durable(),
    });
    const saved = this.stmt.get.get('link.lastOnlineAt')?.value;
    if (saved) this.link.lastOnlineAt = new Date(saved);
    this.requests = new RequestClient(
      this.link,
      this.topics,
      o.log,
      () => this.link.lastOnlineAt,
      this.timers,
      this.now,
    );
    const link = this.link;
    this.uplink = new Uplink({
      // The uplink reads only flushed records: its batches need not wait for a flush.
      link: {
        get isConnected() {
          return link.isConnected;
        },
        get sendWindow() {
          return link.sendWindow;
        },
        publish: (topic, payload) => link.publishNow(topic, payload),
      },
      outbox: o.ledger.outbox,
      topic: this.topics.upLedger,
      log: o.log,
      onNewEpoch: () => this.publishState(true),
      // The outbox figures in the state moved (ackedUpTo, outboxDepth, oldestUnsyncedAt).
      onAcked: () => this.publishState(false),
      timers: this.timers,
      now: this.now,
      ...(o.uplink ? { settings: o.uplink } : {}),
    });
    this.state = new StatePublisher({
      isConnected: () => link.isConnected,
      state: o.reportedState,
      publish: (json) => link.publish(this.topics.upState, json, { retain: true }),
      timers: this.timers,
      now: this.now,
    });
  }

  /** The services that take what the cloud sends (config, orders, commands, payment hints). */
  connectPorts(ports: DownlinkPorts & { lastDownSeq: () => number }): void {
    this.downlink = new Downlink({
      ...ports,
      link: this.link,
      topics: this.topics,
      uplink: this.uplink,
      requests: this.requests,
      cloudKey: this.o.cloudKey,
      log: this.o.log,
      // A pushed order above the next expected downSeq: one was missed, pull from the gap.
      onOrderGap: () => void this.pullOrders(ports),
    });
    this.downlink.install();
    const downlink = this.downlink;
    this.link.onConnect(() => {
      void this.pullOrders(ports);
      void downlink.fetchConfig();
    });
  }

  get refusedPayloads(): ReadonlyMap<string, number> {
    return this.downlink?.refused ?? new Map();
  }

  start(): void {
    this.link.onConnect(() => {
      this.uplink.onConnected();
      this.rememberOnline();
      this.publishState(true);
    });
    this.link.onDisconnect(() => {
      this.uplink.onDisconnected();
      this.rememberOnline();
    });
    this.o.ledger.onAppend(() => this.publishState(false));
    this.uplink.start();
    this.link.start();
  }

  async stop(): Promise<void> {
    this.state.stop();
    this.uplink.stop();
    await this.link.stop();
    this.rememberOnline();
  }

  /** `P/up/state` (retained): at once when `now`, else on change, at most once per second. */
  publishState(now: boolean): void {
    this.state.request(now);
  }

  private rememberOnline(): void {
    const at = this.link.lastOnlineAt;
    if (!at) return;
    try {
      this.stmt.set.run('link.lastOnlineAt', at.toISOString());
    } catch (err) {
      this.o.log.warn({ err }, 'could not persist lastOnlineAt');
    }
  }

  /**
   * `orders.pull` from the contiguous watermark, page after page; a range answered in full lets
   * the watermark pass downSeqs the cloud does not have. One pull at a time; a request for
   * another while one runs makes it go round once more.
   */
  private async pullOrders(ports: {
    orders: DownlinkPorts['orders'];
    lastDownSeq: () => number;
  }): Promise<void> {
    if (this.pulling) {
      this.pullAgain = true;
      return;
    }
    this.pulling = true;
    try {
      for (let page = 0; page < 100; page++) {
        this.pullAgain = false;
        const since = ports.lastDownSeq();
        const reply = await this.requests.request<{ orders?: Array<{ downSeq?: unknown; order?: unknown }> }>(
          'orders.pull',
          { sinceDownSeq: since },
          10_000,
        );
        if (reply.kind !== 'ok' || !Array.isArray(reply.result.orders)) return;
        const page = takePulledOrders(
          reply.result.orders,
          since,
          (d, o) => ports.orders.receive(d, o),
          this.o.log,
        );
        if (!page.complete) return;
        const upTo = page.upTo;
        ports.orders.pulled?.(since, upTo);
        if (ports.lastDownSeq() <= since && !this.pullAgain) return; // nothing more to fill
      }
    } finally {
      this.pulling = false;
    }
  }
}
