import { readFileSync } from 'node:fs';
import type { IClientOptions, IClientPublishOptions, IPublishPacket, MqttClient } from 'mqtt';
import { v7 as uuidv7 } from 'uuid';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { BrokerRotation, type VersionMemory } from './broker-rotation.js';
import { redactBrokerUrl } from './broker-url.js';
import { classifyLinkError, type LinkFailure, LinkTrouble, UNSUPPORTED_VERSION } from './link-failure.js';
import { MAX_PAYLOAD } from './payloads.js';
import type { Topics } from './topics.js';

/** mqtt.js, loaded at the first connect: off the daemon's start (a sale never needs it). */
let mqttConnect: typeof import('mqtt').connect | undefined;
const loadMqtt = async () => {
  mqttConnect ??= (await import('mqtt')).connect;
};

export interface LinkOptions {
  /** One broker (`url`) or several (`urls`, tried in turn; `url` first when both are given). */
  url?: string;
  urls?: readonly string[];
  clientId: string;
  topics: Topics;
  /** The ledger's current epoch (it changes when a restored copy moves on). */
  epoch: string | (() => string);
  appVersion: string;
  bootedAt: string;
  tls?: { ca?: string; cert?: string; key?: string };
  log: Logger;
  /** Forces a version; otherwise 5, falling back to 3.1.1 when the broker refuses or drops 5. */
  protocolVersion?: 4 | 5;
  /** Brokers known to speak 3.1.1 only (persisted: the next start goes there with 3.1.1 at once). */
  versionMemory?: VersionMemory;
  backoff?: { initialMs: number; maxMs: number };
  connectTimeoutMs?: number;
  /** Resolves once every commit so far is on disk (the ledger's group commit). */
  durable?: () => Promise<void>;
}

/** The largest payload taken (1 MiB) plus room for the topic and properties. */
const MAX_PACKET_BYTES = MAX_PAYLOAD + 64 * 1024;

export type MessageHandler = (payload: Buffer, packet: IPublishPacket) => void;

/**
 * The device's MQTT connection (mqtt-v1 "Transport"): client id `{tenant}.{device}`, Clean Start
 * false with a 1 h session, a birth message and Last Will on `P/status` with a fresh `connId` per
 * connection, reconnect with backoff. Correctness never rests on the broker's session: the SQLite
 * outbox is the queue.
 */
export class MqttLink {
  private client: MqttClient | undefined;
  private connected = false;
  private stopped = true;
  private connId = '';
  private protocolVersion: 4 | 5;
  private readonly rotation: BrokerRotation;
  private readonly trouble: LinkTrouble;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly handlers = new Map<string, MessageHandler>();
  private readonly connectListeners = new Set<() => void>();
  private readonly disconnectListeners = new Set<() => void>();
  private receiveMaximum = 65_535;
  private lastUp: Date | undefined;

  constructor(private readonly o: LinkOptions) {
    const urls = [...new Set([...(o.url ? [o.url] : []), ...(o.urls ?? [])])];
    this.rotation = new BrokerRotation(
      urls,
      o.protocolVersion,
      o.versionMemory,
      o.backoff ?? { initialMs: 1_000, maxMs: 30_000 },
    );
    this.protocolVersion = this.rotation.version;
    this.trouble = new LinkTrouble(o.log);
  }

  /** Failed connection attempts since the link was last up. */
  get failedAttempts(): number {
    return this.trouble.failedAttempts;
  }

  /** The broker in use now (or tried next). */
  get url(): string {
    return this.rotation.url;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** The version in use now: 5, or 4 after a fallback. */
  get version(): 4 | 5 {
    return this.protocolVersion;
  }

  /** Unacknowledged QoS 1 publishes allowed: min(server Receive Maximum, 32). */
  get sendWindow(): number {
    return Math.max(1, Math.min(this.receiveMaximum, 32));
  }

  get lastOnlineAt(): Date | undefined {
    return this.connected ? new Date() : this.lastUp;
  }

  set lastOnlineAt(at: Date | undefined) {
    this.lastUp = at;
  }

  on(topic: string, handler: MessageHandler): void {
    this.handlers.set(topic, handler);
  }

  onConnect(listener: () => void): () => void {
    this.connectListeners.add(listener);
    return () => this.connectListeners.delete(listener);
  }

  onDisconnect(listener: () => void): () => void {
    this.disconnectListeners.add(listener);
    return () => this.disconnectListeners.delete(listener);
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Publishes `offline` (retained) and disconnects cleanly, so the Last Will is not sent. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (this.connected) {
      try {
        await Promise.race([
          client.publishAsync(this.o.topics.status, this.statusPayload('offline'), { qos: 1, retain: true }),
          new Promise((r) => setTimeout(r, 1_000)),
        ]);
      } catch {
        // going down anyway
      }
    }
    this.setConnected(false);
    await client.endAsync(false).catch(() => client.end(true));
  }

  /** Subscribes again, so the broker delivers a retained message once more (`config.resync`). */
  async resubscribe(topic: string): Promise<void> {
    const client = this.client;
    if (!client || !this.connected) throw new Error('not connected');
    await client.unsubscribeAsync(topic);
    await client.subscribeAsync(topic, { qos: 1 });
  }

  /**
   * QoS 1 publish; resolves on PUBACK (one network hop: not delivery to the cloud). It leaves
   * only once every commit so far is on disk (a request's payment id, a command's claim).
   */
  async publish(topic: string, payload: string | Buffer, options: IClientPublishOptions = {}): Promise<void> {
    await this.o.durable?.();
    return this.publishNow(topic, payload, options);
  }

  /** A publish whose content is on disk already (ledger batches: the uplink sends flushed records). */
  async publishNow(
    topic: string,
    payload: string | Buffer,
    options: IClientPublishOptions = {},
  ): Promise<void> {
    const client = this.client;
    if (!client || !this.connected) throw new Error('not connected');
    await client.publishAsync(topic, payload, { qos: 1, ...options });
  }

  private statusPayload(state: 'online' | 'lost' | 'offline'): string {
    const epoch = typeof this.o.epoch === 'function' ? this.o.epoch() : this.o.epoch;
    const base = { state, epoch, connId: this.connId };
    return JSON.stringify(
      state === 'online' ? { ...base, appVersion: this.o.appVersion, bootedAt: this.o.bootedAt } : base,
    );
  }

  private clientOptions(): IClientOptions {
    const v5 = this.protocolVersion === 5;
    const tls = this.o.tls;
    return {
      clientId: this.o.clientId,
      protocolVersion: this.protocolVersion,
      // mqtt-packet's number cache is 65,536 Buffers (6 MB of heap) for a link that sends a few packets a second.
      writeCache: false,
      clean: false,
      // Maximum Packet Size: the broker drops what we would refuse anyway, before we buffer it.
      ...(v5 ? { properties: { sessionExpiryInterval: 3600, maximumPacketSize: MAX_PACKET_BYTES } } : {}),
      reconnectPeriod: 0,
      connectTimeout: this.o.connectTimeoutMs ?? 10_000,
      keepalive: 30,
      will: {
        topic: this.o.topics.status,
        payload: Buffer.from(this.statusPayload('lost')),
        qos: 1,
        retain: true,
      },
      ...(tls?.ca ? { ca: readFileSync(tls.ca) } : {}),
      ...(tls?.cert ? { cert: readFileSync(tls.cert) } : {}),
      ...(tls?.key ? { key: readFileSync(tls.key) } : {}),
      rejectUnauthorized: true,
    };
  }

  private connect(): void {
    if (this.stopped) return;
    if (!mqttConnect) {
      loadMqtt().then(
        () => this.connect(),
        (err: unknown) =>
          this.attemptFailed(this.rotation.url, { reason: 'error', detail: describeError(err) }),
      );
      return;
    }
    this.connId = uuidv7();
    const url = this.rotation.url;
    this.protocolVersion = this.rotation.version;
    let client: MqttClient;
    try {
      client = mqttConnect(url, this.clientOptions());
    } catch (err) {
      this.attemptFailed(url, { reason: 'error', detail: describeError(err) });
      return;
    }
    this.client = client;
    const version = this.protocolVersion;
    let transportUp = false;
    let connacked = false;
    /** Subscribed and birth published: only then is a close a lost link rather than a failed attempt. */
    let setUp = false;
    let failure: LinkFailure | undefined;
    // TCP (or TLS) up: a close from here on without a CONNACK is the broker hanging up on the CONNECT.
    client.stream?.once(url.startsWith('mqtts:') ? 'secureConnect' : 'connect', () => {
      transportUp = true;
    });
    client.on('connect', (connack) => {
      connacked = true;
      this.receiveMaximum = connack.properties?.receiveMaximum ?? 65_535;
      if (this.rotation.connected(version)) {
        this.o.log.warn(
          { url: redactBrokerUrl(url) },
          'broker dropped MQTT 5 but speaks MQTT 3.1.1: using 3.1.1 with it from now on',
        );
      }
      void this.onConnected(client, url).then((ok) => {
        setUp = ok;
      });
    });
    client.on('message', (topic, payload, packet) => {
      const handler = this.handlers.get(topic);
      if (!handler) return;
      try {
        handler(payload, packet);
      } catch (err) {
        this.o.log.error({ topic, err: describeError(err) }, 'message handler failed');
      }
    });
    client.on('error', (err) => {
      if (connacked) {
        this.o.log.warn({ err: describeError(err) }, 'mqtt error');
        return;
      }
      failure ??= classifyLinkError(err, transportUp);
    });
    client.on('close', () => {
      if (this.client !== client) return;
      this.setConnected(false);
      client.removeAllListeners('connect');
      client.end(true);
      this.client = undefined;
      if (setUp) {
        this.scheduleReconnect(this.rotation.failed(true));
        return;
      }
      if (connacked) {
        // Refused after the CONNACK (a subscribe or the birth denied): said by onConnected.
        this.scheduleReconnect(this.rotation.failed(false));
        return;
      }
      const why: LinkFailure = failure ?? {
        reason: transportUp ? 'closed without CONNACK' : 'connection lost',
      };
      // A broker that cannot parse MQTT 5 either refuses it (CONNACK 0x84, or 1 from a 3.1.1
      // broker) or, like RabbitMQ 3.10, hangs up without a CONNACK: the same broker again as 3.1.1.
      const v5Refused =
        why.reason === 'closed without CONNACK' ||
        (why.connackCode !== undefined && UNSUPPORTED_VERSION.has(why.connackCode));
      if (version === 5 && this.rotation.mayFallBack && v5Refused) {
        this.o.log.warn(
          { url: redactBrokerUrl(url), reason: why.reason },
          'broker refused MQTT 5; trying MQTT 3.1.1',
        );
        this.rotation.fallBack();
        this.scheduleReconnect(0);
        return;
      }
      this.attemptFailed(url, why);
    });
  }

  private attemptFailed(url: string, failure: LinkFailure): void {
    this.trouble.failed(url, failure, this.protocolVersion);
    this.scheduleReconnect(this.rotation.failed(false));
  }

  private async onConnected(client: MqttClient, url: string): Promise<boolean> {
    try {
      await client.subscribeAsync(this.o.topics.down, { qos: 1 });
      await client.publishAsync(this.o.topics.status, this.statusPayload('online'), { qos: 1, retain: true });
    } catch (err) {
      // E.g. a broker ACL that denies the subscription: said like any failed attempt, not per retry.
      const failure: LinkFailure = { reason: 'refused after CONNACK', detail: describeError(err) };
      this.trouble.failed(url, failure, this.protocolVersion);
      client.end(true);
      return false;
    }
    if (this.client !== client) return false;
    const failedAttempts = this.trouble.up();
    this.setConnected(true);
    this.o.log.info(
      {
        url: redactBrokerUrl(this.rotation.url),
        mqtt: this.protocolVersion,
        connId: this.connId,
        ...(failedAttempts > 0 ? { failedAttempts } : {}),
      },
      'cloud link up',
    );
    return true;
  }

  private setConnected(up: boolean): void {
    if (this.connected === up) return;
    this.connected = up;
    if (up) {
      this.lastUp = new Date();
      for (const l of this.connectListeners) l();
    } else {
      this.lastUp = new Date();
      this.o.log.info('cloud link down');
      for (const l of this.disconnectListeners) l();
    }
  }

  private scheduleReconnect(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
    this.reconnectTimer.unref();
  }
}
