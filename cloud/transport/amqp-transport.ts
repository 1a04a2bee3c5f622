import { EventEmitter } from 'node:events';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import type { CloudTransport, PublishOptions, UplinkMessage } from './transport.js';

export interface AmqpTransportOptions {
  /** amqp://… of the cluster's nodes; on failure the next one is tried, round the list. */
  urls: string[];
  /** false for a client that only pushes (the CLI): it consumes no uplinks. */
  ingest?: boolean;
  /** The replicated queue the instances compete on. */
  queue?: string;
  /** Uplinks in flight per instance (delivered, not yet settled). */
  prefetch?: number;
  instanceId?: string;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

export const UPLINK_QUEUE = 'posd-cloud.uplink';
/** The devices' uplinks as RabbitMQ's MQTT plugin routes them (MQTT `/` is AMQP `.`). */
export const UPLINK_BINDING = 'pos.v1.*.*.up.#';
const RESP_BINDING = 'pos.v1.*.*.up.resp';
const EXCHANGE = 'amq.topic';

/** MQTT topic ↔ AMQP routing key, as RabbitMQ's MQTT plugin maps them (`/` and `.` swap). */
export function routingKeyOf(topic: string): string {
  return topic.replace(/[./]/g, (c) => (c === '/' ? '.' : '/'));
}
export const topicOf = routingKeyOf;

/**
 * The cloud on a RabbitMQ cluster over AMQP 0-9-1. Uplinks come from one durable quorum queue bound
 * to `amq.topic` for `pos.v1.*.*.up.#` (replicated: it survives a node), which the instances consume
 * as competing consumers; a message is acked only after the instance committed it (`settle`), so
 * one in flight when an instance or node dies is delivered again. Command answers reach every
 * instance through a queue of its own. Downlinks are published persistent to `amq.topic` under the
 * device topic's routing key, so they reach the device on whichever node it is connected to. A
 * lost connection moves to the next node of the list.
 */
export class AmqpTransport implements CloudTransport {
  readonly mqtt5 = false;
  /** 'connected' (url), 'disconnected' (err): for reports and tests. */
  readonly events = new EventEmitter();
  private conn: ChannelModel | undefined;
  private pub: ConfirmChannel | undefined;
  private sub: Channel | undefined;
  private next = 0;
  private stopped = false;
  private handlers: Parameters<CloudTransport['start']>[0] | undefined;
  private ready: Promise<void> | undefined;
  /** The URL of the node in use. */
  url: string | undefined;
  reconnects = 0;

  constructor(private readonly o: AmqpTransportOptions) {
    if (o.urls.length === 0) throw new Error('no AMQP URL');
  }

  private log(msg: string, extra?: Record<string, unknown>): void {
    this.o.log?.(msg, extra);
  }

  async start(handlers: Parameters<CloudTransport['start']>[0]): Promise<void> {
    this.handlers = handlers;
    await this.connectAny();
  }

  /** Tries the nodes in turn until one takes the connection (pausing after each full round). */
  private connectAny(): Promise<void> {
    if (this.ready) return this.ready;
    this.ready = (async () => {
      for (let round = 0; !this.stopped; round++) {
        for (let i = 0; i < this.o.urls.length && !this.stopped; i++) {
          const url = this.o.urls[this.next % this.o.urls.length]!;
          this.next += 1;
          try {
            await this.connect(url);
            return;
          } catch (err) {
            this.log('AMQP node unavailable', { url: redact(url), err: String(err) });
          }
        }
        await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** round)));
      }
    })().finally(() => {
      this.ready = undefined;
    });
    return this.ready;
  }

  private async connect(url: string): Promise<void> {
    const conn = await amqp.connect(url, { timeout: 5_000 });
    try {
      conn.on('error', () => {}); // 'close' follows and reconnects
      const pub = await conn.createConfirmChannel();
      let sub: Channel | undefined;
      const handlers = this.handlers!;
      sub = await conn.createChannel();
      await sub.prefetch(this.o.prefetch ?? 500);
      // Answers to commands: a queue of this instance's own, gone with its connection.
      const own = await sub.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
      await sub.bindQueue(own.queue, EXCHANGE, RESP_BINDING);
      await sub.consume(
        own.queue,
        (m) => {
          if (m) handlers.onAnswer(topicOf(m.fields.routingKey), m.content);
        },
        { noAck: true },
      );
      if (this.o.ingest !== false) {
        const queue = this.o.queue ?? UPLINK_QUEUE;
        await sub.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
        await sub.bindQueue(queue, EXCHANGE, UPLINK_BINDING);
        const channel = sub;
        await sub.consume(queue, (m) => {
          if (m) handlers.onUplink(this.uplink(channel, m));
        });
      }
      this.conn = conn;
      this.pub = pub;
      this.sub = sub;
      this.url = url;
      conn.once('close', (err?: Error) => this.onClose(conn, err));
      this.log('AMQP connected', { url: redact(url) });
      this.events.emit('connected', url);
    } catch (err) {
      await conn.close().catch(() => {});
      throw err;
    }
  }

  private onClose(conn: ChannelModel, err?: Error): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.pub = undefined;
    this.sub = undefined;
    if (this.stopped) return;
    this.reconnects += 1;
    this.log('AMQP connection lost; moving to the next node', { err: String(err) });
    this.events.emit('disconnected', err);
    void this.connectAny();
  }

  private uplink(channel: Channel, m: ConsumeMessage): UplinkMessage {
    let settled = false;
    const done = (ack: boolean) => {
      if (settled) return;
      settled = true;
      // On a channel that died meanwhile, the broker has already put it back for redelivery.
      if (this.sub !== channel) return;
      try {
        if (ack) channel.ack(m);
        else channel.nack(m, false, true);
      } catch {
        // channel closing: the same
      }
    };
    return {
      topic: topicOf(m.fields.routingKey),
      payload: m.content,
      settle: () => done(true),
      retry: () => done(false),
    };
  }

  /**
   * Publishes persistent to `amq.topic` and waits for the broker's confirm; without a connection,
   * waits for the next one. (Retained is MQTT-only: devices ask `config.current` after each connect.)
   */
  async publish(topic: string, payload: string, options: PublishOptions = {}): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (let attempt = 1; ; attempt++) {
      if (!this.pub) await this.connectAny();
      const pub = this.pub;
      if (!pub) throw new Error('AMQP transport stopped');
      try {
        await new Promise<void>((resolve, reject) => {
          pub.publish(
            EXCHANGE,
            routingKeyOf(topic),
            Buffer.from(payload, 'utf8'),
            {
              persistent: true,
              contentType: 'application/json',
              ...(options.expirySeconds ? { expiration: String(options.expirySeconds * 1000) } : {}),
            },
            (err) => (err ? reject(err) : resolve()),
          );
        });
        return;
      } catch (err) {
        // Nacked (a queue's leader moved after a node died) or the connection lost: again, on a
        // new channel (RabbitMQ 3.10 keeps nacking on a channel that last knew the dead leader).
        // A downlink may then arrive twice; each is idempotent at the device (version, downSeq, cmdId).
        if (Date.now() > deadline || this.stopped) throw err;
        await this.renewPublishChannel(pub);
        await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * attempt)));
      }
    }
  }

  private renewing: Promise<void> | undefined;

  /** A fresh confirm channel in place of `stale` (once, however many publishes saw it fail). */
  private renewPublishChannel(stale: ConfirmChannel): Promise<void> {
    if (this.pub !== stale || !this.conn) return this.renewing ?? Promise.resolve();
    const conn = this.conn;
    this.renewing ??= (async () => {
      try {
        const fresh = await conn.createConfirmChannel();
        if (this.conn === conn && this.pub === stale) this.pub = fresh;
        else await fresh.close().catch(() => {});
        await stale.close().catch(() => {});
      } catch {
        // the connection is going: its close moves to the next node
      } finally {
        this.renewing = undefined;
      }
    })();
    return this.renewing;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const conn = this.conn;
    this.conn = undefined;
    await conn?.close().catch(() => {});
  }
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}
