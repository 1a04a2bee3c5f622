import type { KeyObject } from 'node:crypto';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { v7 as uuidv7 } from 'uuid';
import { deviceOfTopic, topicsFor } from '../src/sync/topics.js';
import { type AcquirerOptions, AcquirerSimulator, type OpResult } from './acquirer.js';
import { awaitAnswer } from './await-answer.js';
import { parseLedgerBatch } from './ledger-batch.js';
import { CloudOrders } from './online-orders.js';
import { signCommand, signConfigEnvelope } from './signing.js';
import { CloudStore } from './store.js';

/** The retained `P/down/ack`. */
export interface LedgerAck {
  epoch: string;
  ackedUpTo: number;
  rejected: Array<{ seq: number; code: string; message: string }>;
}

export interface CloudServiceOptions {
  brokerUrl: string;
  dbFile: string;
  /** Ed25519 private key that signs config and commands. */
  signingKey: KeyObject;
  /** Shared-subscription group: instances in one group split the ingest between them. */
  group?: string;
  instanceId?: string;
  acquirer?: AcquirerOptions;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /**
   * 4 for brokers without MQTT 5 (the demo's embedded one); replies then go to `P/down/resp`.
   * Absent: MQTT 5, and 3.1.1 when the broker refuses 5 (then no shared subscription either).
   */
  protocolVersion?: 4 | 5;
  /** Shared subscriptions need MQTT 5 brokers; a lone instance may subscribe plainly. */
  shared?: boolean;
  /** false for a client that only pushes (the CLI): it takes no share of the ingest. */
  ingest?: boolean;
}

/**
 * The reference cloud of mqtt-v1: ingests `up/ledger` through a shared subscription, stores it
 * idempotently with the chain verified, publishes the retained `down/ack`, answers `up/req`
 * (with the acquirer simulator), and signs and pushes config, orders and commands.
 */
export class CloudService {
  readonly store: CloudStore;
  /** Orders paid at the counter: `orders.lookup` and the `order.paid` facts. */
  readonly orders: CloudOrders;
  readonly acquirer: AcquirerSimulator;
  private client: MqttClient | undefined;
  private readonly group: string;
  private readonly log: NonNullable<CloudServiceOptions['log']>;
  /** Request ids never answered (the simulator's "reply lost"), for tests. */
  readonly unanswered: string[] = [];
  batches = 0;
  /** Commits of ledger batches (several batches that arrive together share one). */
  ingestCommits = 0;
  /** Faults for tests: the next N acks are lost (stored, but the device never hears of it). */
  dropAcks = 0;
  /** Ledger batches received in this turn of the event loop, ingested together. */
  private readonly arrived: Array<{ tenant: string; device: string; payload: Buffer }> = [];

  constructor(private readonly o: CloudServiceOptions) {
    this.store = new CloudStore(o.dbFile);
    this.orders = new CloudOrders(this.store);
    this.acquirer = new AcquirerSimulator(this.store, o.acquirer);
    this.group = o.group ?? 'posd-cloud';
    this.log = o.log ?? (() => {});
  }

  /** The MQTT version in use: 5, or 4 with a broker that refused 5. */
  protocolVersion: 4 | 5 = 5;

  private connect(protocolVersion: 4 | 5): Promise<MqttClient> {
    return mqtt.connectAsync(this.o.brokerUrl, {
      clientId: `posd-cloud-${this.o.instanceId ?? uuidv7()}`,
      protocolVersion,
      clean: true,
      reconnectPeriod: 500,
      ...(this.o.tls ?? {}),
    });
  }

  async start(): Promise<void> {
    let client: MqttClient;
    this.protocolVersion = this.o.protocolVersion ?? 5;
    try {
      client = await this.connect(this.protocolVersion);
    } catch (err) {
      // MQTT 5 "unsupported protocol version" (0x84) or the 3.1.1 return code 1 (aedes): try 3.1.1.
      const code = (err as { code?: unknown }).code;
      if (this.o.protocolVersion !== undefined || (code !== 132 && code !== 1)) throw err;
      this.log('broker refused MQTT 5; using MQTT 3.1.1');
      this.protocolVersion = 4;
      client = await this.connect(4);
    }
    client.on('message', (topic, payload, packet) => {
      try {
        this.onMessage(topic, payload, packet);
      } catch (err) {
        this.log('message handling failed', { topic, err: String(err) });
      }
    });
    // Command answers (`P/up/resp`) go to every instance: the one that sent the command waits for it.
    await client.subscribeAsync('pos/v1/+/+/up/resp', { qos: 1 });
    if (this.o.ingest !== false) {
      const shared = this.o.shared ?? this.protocolVersion === 5;
      const share = shared ? `$share/${this.group}/` : '';
      await client.subscribeAsync([`${share}pos/v1/+/+/up/ledger`, `${share}pos/v1/+/+/up/req`], { qos: 1 });
    }
    this.client = client;
  }

  async stop(): Promise<void> {
    await this.client?.endAsync();
    this.client = undefined;
    this.store.close();
  }

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const where = deviceOfTopic(topic);
    if (!where) return;
    if (where.rest === 'up/ledger') this.onLedger(where.tenant, where.device, payload);
    else if (where.rest === 'up/req') this.onRequest(where.tenant, where.device, payload, packet);
  }

  /**
   * Batches that arrive together (one read of the socket) are ingested in one IMMEDIATE
   * transaction: one commit, one fsync for all of them (issue 18). Each device then gets one
   * `down/ack`, published only after that commit, with what it now holds after all its batches.
   */
  private onLedger(tenant: string, device: string, payload: Buffer): void {
    this.arrived.push({ tenant, device, payload });
    if (this.arrived.length === 1) setImmediate(() => this.ingestArrived());
  }

  private ingestArrived(): void {
    const group = this.arrived.splice(0);
    const acks = new Map<string, { topic: string; ack: LedgerAck }>();
    try {
      this.store.exclusive(() => {
        for (const { tenant, device, payload } of group) {
          let ack: LedgerAck | undefined;
          try {
            // Its own savepoint: a batch that fails is rolled back alone, its facts with it.
            ack = this.store.savepoint(() => this.handleLedgerBatch(tenant, device, payload));
          } catch (err) {
            // That batch alone is rolled back (its savepoint): the device sends it again.
            this.log('ledger batch failed', { tenant, device, err: String(err) });
          }
          if (!ack) continue;
          const key = `${tenant}/${device}`;
          const prior = acks.get(key)?.ack;
          acks.delete(key); // the device's latest ack goes out last (it is retained)
          acks.set(key, { topic: topicsFor(tenant, device).downAck, ack: withConflictsOf(prior, ack) });
        }
      });
      this.ingestCommits += 1;
    } catch (err) {
      // Nothing committed, nothing acked: the devices send again from their acks.
      this.log('ledger ingest failed', { err: String(err) });
      return;
    }
    for (const { topic, ack } of acks.values()) {
      if (this.dropAcks > 0) {
        this.dropAcks -= 1;
        continue;
      }
      void this.client
        ?.publishAsync(topic, JSON.stringify(ack), { qos: 1, retain: true })
        .catch((err: unknown) => this.log('ack publish failed', { err: String(err) }));
    }
  }

  /**
   * Ingests one `up/ledger` payload without a broker (the simulation calls it directly); returns
   * the `down/ack` to publish, or undefined for a payload that is not a batch.
   */
  handleLedgerBatch(
    tenant: string,
    device: string,
    payload: Buffer | string | Record<string, unknown>,
  ): LedgerAck | undefined {
    const batch = parseLedgerBatch(payload);
    if (!batch) {
      this.log('ledger batch is not a batch', { tenant, device });
      return undefined;
    }
    const result = this.store.ingest(tenant, device, batch.epoch, batch.records);
    this.batches += 1;
    for (const r of result.facts) {
      this.orders.onFact(tenant, device, r);
      // A coupon the terminal issued verifies here from the moment its record is stored.
      if (r.type === 'coupon.issued') this.acquirer.registerIssued(r.body);
      // Its sale voided or refunded below what earned it: never redeemable again.
      if (r.type === 'coupon.revoked') this.acquirer.revokeIssued(r.body);
      // Points: once per record, keyed on (device, epoch, seq), so a replayed batch awards nothing.
      if (r.type === 'sale.completed' || r.type === 'refund.completed' || r.type === 'sale.voided')
        this.acquirer.awardPoints(`${tenant}/${device}/${batch.epoch}/${r.seq}`, r.type, r.body);
    }
    return { epoch: batch.epoch, ackedUpTo: result.ackedUpTo, rejected: result.rejected };
  }

  private onRequest(tenant: string, device: string, payload: Buffer, packet: IPublishPacket): void {
    let req: unknown;
    try {
      req = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    const answer = this.handleRequest(tenant, device, req);
    if (!answer) return;
    // Always the device's own `P/down/resp`: a Response Topic names no other place to publish to.
    const responseTopic = topicsFor(tenant, device).downResp;
    const properties = packet.properties?.correlationData
      ? { correlationData: packet.properties.correlationData }
      : {};
    void this.client
      ?.publishAsync(responseTopic, JSON.stringify(answer), { qos: 1, properties })
      .catch(() => {});
  }

  /**
   * Answers one `up/req` without a broker (the simulation calls it directly): the response to
   * publish on `P/down/resp`, or undefined when there is none (not a request, or a lost reply).
   */
  handleRequest(tenant: string, device: string, request: unknown): Record<string, unknown> | undefined {
    const req = (request && typeof request === 'object' ? request : {}) as {
      reqId?: unknown;
      op?: unknown;
      args?: unknown;
      deadline?: unknown;
    };
    if (typeof req.reqId !== 'string' || typeof req.op !== 'string') return undefined;
    const args = (req.args && typeof req.args === 'object' ? req.args : {}) as Record<string, unknown>;
    const reqId = req.reqId;
    const r = this.answer(tenant, device, req.op, args, req.deadline);
    if ('noReply' in r) {
      this.unanswered.push(reqId);
      return undefined;
    }
    return r.ok ? { reqId, ok: true, result: r.result } : { reqId, ok: false, error: r.error };
  }

  private answer(
    tenant: string,
    device: string,
    op: string,
    args: Record<string, unknown>,
    deadline: unknown,
  ): OpResult {
    if (op === 'config.current') {
      const envelope = this.store.kvGet<{ version: number }>('config', `${tenant}/${device}`);
      const have = Number(args.haveVersion ?? 0);
      return { ok: true, result: { envelope: envelope && envelope.version > have ? envelope : null } };
    }
    if (op === 'orders.lookup')
      return { ok: true, result: this.orders.lookup(tenant, args.pickupCode, args.orderId) };
    if (op === 'orders.pull')
      return {
        ok: true,
        result: { orders: this.store.ordersSince(tenant, device, Number(args.sinceDownSeq ?? 0)) },
      };
    return this.acquirer.handle({ tenant, device }, op, args, deadline);
  }

  /** Signs and pushes a config doc (retained). */
  async pushConfig(
    tenant: string,
    device: string,
    version: number,
    doc: Record<string, unknown>,
  ): Promise<void> {
    const envelope = this.signConfig(tenant, device, version, doc);
    await this.mustClient().publishAsync(topicsFor(tenant, device).downConfig, JSON.stringify(envelope), {
      qos: 1,
      retain: true,
    });
  }

  /**
   * Signs a config envelope and keeps it as the device's newest (what `config.current` answers);
   * `pushConfig` also publishes it retained.
   */
  signConfig(
    tenant: string,
    device: string,
    version: number,
    doc: Record<string, unknown>,
  ): { version: number; issuedAt: string; doc: Record<string, unknown>; sig: string } {
    const envelope = signConfigEnvelope(this.o.signingKey, version, doc);
    const newest = this.store.kvGet<{ version: number }>('config', `${tenant}/${device}`);
    if (!newest || newest.version < version) this.store.kvPut('config', `${tenant}/${device}`, envelope);
    return envelope;
  }

  /** Stores an order with the device's next downSeq and pushes it (Message Expiry 1 h). */
  async pushOrder(
    tenant: string,
    device: string,
    order: { id: string } & Record<string, unknown>,
  ): Promise<number> {
    const downSeq = this.store.addOrder(tenant, device, order);
    await this.mustClient().publishAsync(
      topicsFor(tenant, device).downOrder,
      JSON.stringify({ downSeq, order }),
      {
        qos: 1,
        properties: { messageExpiryInterval: 3600 },
      },
    );
    return downSeq;
  }

  /** Signs and pushes a command; resolves with the device's answer (or undefined after `waitMs`). */
  async pushCommand(
    tenant: string,
    device: string,
    name: string,
    args: Record<string, unknown>,
    ttlSeconds = 300,
    waitMs = 10_000,
  ): Promise<Record<string, unknown> | undefined> {
    const command = signCommand(this.o.signingKey, name, args, ttlSeconds);
    const { cmdId } = command;
    return this.publishAndAwait(tenant, device, command, cmdId, waitMs);
  }

  /** Publishes a raw command envelope (tests: forged or expired) and waits for the answer. */
  async publishAndAwait(
    tenant: string,
    device: string,
    command: Record<string, unknown>,
    cmdId: string,
    waitMs = 10_000,
  ): Promise<Record<string, unknown> | undefined> {
    const client = this.mustClient();
    const answer = awaitAnswer(client, 'message', topicsFor(tenant, device).upResp, cmdId, waitMs);
    await client.publishAsync(topicsFor(tenant, device).downCmd, JSON.stringify(command), { qos: 1 });
    return answer;
  }

  /** A hint that a payment changed; the device confirms with a query. */
  async notifyPayment(tenant: string, device: string, paymentId: string, status: string): Promise<void> {
    await this.mustClient().publishAsync(
      topicsFor(tenant, device).downNotify,
      JSON.stringify({ type: 'payment', paymentId, status }),
      { qos: 1 },
    );
  }

  /** Raw publish (tests: malformed downlink payloads). */
  async publishRaw(topic: string, payload: string | Buffer, retain = false): Promise<void> {
    await this.mustClient().publishAsync(topic, payload, { qos: 1, retain });
  }

  private mustClient(): MqttClient {
    if (!this.client) throw new Error('cloud not started');
    return this.client;
  }
}

/**
 * One ack stands for a device's batches of a group: a `SEQ_CONFLICT` an earlier one met (a
 * restored database) goes out with it, or the device would take the records at those seqs as
 * synced when a later batch, past them, is acked.
 */
function withConflictsOf(prior: LedgerAck | undefined, ack: LedgerAck): LedgerAck {
  if (!prior || prior.epoch !== ack.epoch) return ack;
  const missing = prior.rejected.filter(
    (r) => r.code === 'SEQ_CONFLICT' && !ack.rejected.some((x) => x.seq === r.seq),
  );
  if (missing.length === 0) return ack;
  return { ...ack, rejected: [...ack.rejected, ...missing] };
}
