import type { KeyObject } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { deviceOfTopic, topicsFor } from '../../src/sync/topics.js';
import { type AcquirerOptions, AcquirerSimulator } from '../acquirer.js';
import { awaitAnswer } from '../await-answer.js';
import type { LedgerAck } from '../cloud-service.js';
import { parseLedgerBatch } from '../ledger-batch.js';
import { CloudOrders } from '../online-orders.js';
import { signCommand, signConfigEnvelope } from '../signing.js';
import type { CloudTransport, UplinkMessage } from '../transport/transport.js';
import { type IngestBatch, type IngestOutcome, ingestGroup } from './pg-ingest.js';
import { type Isolation, PgStore } from './pg-store.js';
import { ReplayKv } from './replay-kv.js';
import { StoreHealth } from './uplink-fate.js';

export interface PgCloudOptions {
  /** postgres://… */
  dbUrl: string;
  transport: CloudTransport;
  /** Ed25519 private key that signs config and commands. */
  signingKey: KeyObject;
  acquirer?: AcquirerOptions;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
  poolSize?: number;
  /** Most ledger batches stored in one transaction. */
  maxGroup?: number;
}

type Arrived = { batch: IngestBatch; msg: UplinkMessage };
const POINT_TYPES = new Set(['sale.completed', 'refund.completed', 'sale.voided']);

/**
 * The reference cloud on PostgreSQL: any number of instances share one database and hold no state
 * of their own that another needs. Ledger batches that arrive together are stored in one
 * transaction (heads locked, one multi-row insert), with the facts' effects (points, coupons,
 * counter orders) in it; each device's `down/ack` goes out after the commit, and the messages are
 * settled with the broker only then (at-least-once; the record key makes a replay a duplicate).
 * Requests run SERIALIZABLE, one transaction each, on the acquirer simulator's code.
 */
export class PgCloudService {
  readonly store: PgStore;
  private readonly health: StoreHealth;
  private readonly log: NonNullable<PgCloudOptions['log']>;
  private readonly answers = new EventEmitter();
  private arrived: Arrived[] = [];
  private ingesting = false;
  private stopped = false;
  batches = 0;
  ingestCommits = 0;
  /** Request ids never answered (the simulator's "reply lost"), for tests. */
  readonly unanswered: string[] = [];

  constructor(private readonly o: PgCloudOptions) {
    this.store = new PgStore(o.dbUrl, o.poolSize ?? 8);
    this.health = new StoreHealth(this.store.pool);
    this.log = o.log ?? (() => {});
    this.answers.setMaxListeners(0);
  }

  async start(): Promise<void> {
    await this.store.migrate();
    await this.o.transport.start({
      onUplink: (m) => this.onUplink(m),
      onAnswer: (topic, payload) => this.answers.emit('answer', topic, payload),
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.o.transport.stop();
    await this.store.end();
  }

  private onUplink(m: UplinkMessage): void {
    const where = deviceOfTopic(m.topic);
    if (!where) {
      m.settle();
      return;
    }
    if (where.rest === 'up/ledger') {
      const batch = parseLedgerBatch(m.payload);
      if (!batch) {
        this.log('ledger batch is not a batch', { tenant: where.tenant, device: where.device });
        m.settle();
        return;
      }
      this.arrived.push({ batch: { tenant: where.tenant, device: where.device, ...batch }, msg: m });
      this.kick();
    } else if (where.rest === 'up/req') {
      void this.onRequest(where.tenant, where.device, m);
    } else {
      m.settle();
    }
  }

  private kick(): void {
    if (this.ingesting || this.arrived.length === 0 || this.stopped) return;
    this.ingesting = true;
    setImmediate(() => void this.ingestArrived());
  }

  private async ingestArrived(): Promise<void> {
    const group = this.arrived.splice(0, this.o.maxGroup ?? 2000);
    try {
      await this.ingestTogether(group);
    } catch (err) {
      // Nothing committed. One batch the store refuses must not hold back the others: each alone.
      this.log('ledger ingest failed', { batches: group.length, err: String(err) });
      await this.ingestEachAlone(group);
    } finally {
      this.ingesting = false;
      this.kick();
    }
  }

  /** Stores the batches in one transaction, then acks the devices and settles the messages. */
  private async ingestTogether(group: Arrived[]): Promise<void> {
    const outcomes = await this.store.tx('READ COMMITTED', async (c) => {
      const outs = await ingestGroup(
        c,
        group.map((g) => g.batch),
      );
      await this.applyFacts(c, group, outs);
      return outs;
    });
    this.ingestCommits += 1;
    this.batches += group.length;
    await this.publishAcks(group, outcomes);
    for (const g of group) g.msg.settle();
  }

  /**
   * Each batch in a transaction of its own. One that fails while the database answers is refused
   * for what it holds, every time: it is set aside (settled, logged, no ack; the device keeps its
   * records and says so in its sync state) rather than requeued for ever. With the database away,
   * the rest go back to the broker.
   */
  private async ingestEachAlone(group: Arrived[]): Promise<void> {
    for (const [i, g] of group.entries()) {
      try {
        await this.ingestTogether([g]);
      } catch (err) {
        if (!(await this.health.answers())) {
          await this.health.pause();
          for (const rest of group.slice(i)) rest.msg.retry();
          return;
        }
        const { tenant, device, epoch, records } = g.batch;
        this.log('ledger batch set aside: the store refuses it', {
          tenant,
          device,
          epoch,
          firstSeq: records[0]?.seq,
          err: String(err),
        });
        g.msg.settle();
      }
    }
  }

  /** Each device's latest ack (a SEQ_CONFLICT an earlier batch of the group met goes with it). */
  private async publishAcks(group: Arrived[], outcomes: IngestOutcome[]): Promise<void> {
    const acks = new Map<string, { topic: string; ack: LedgerAck }>();
    group.forEach((g, i) => {
      const r = outcomes[i]!;
      const { tenant, device, epoch } = g.batch;
      const key = `${tenant}/${device}`;
      const prior = acks.get(key)?.ack;
      const ack: LedgerAck = { epoch, ackedUpTo: r.ackedUpTo, rejected: r.rejected };
      if (prior && prior.epoch === epoch)
        for (const x of prior.rejected)
          if (x.code === 'SEQ_CONFLICT' && !ack.rejected.some((y) => y.seq === x.seq)) ack.rejected.push(x);
      acks.delete(key);
      acks.set(key, { topic: topicsFor(tenant, device).downAck, ack });
    });
    await Promise.all(
      [...acks.values()].map(({ topic, ack }) =>
        this.o.transport
          .publish(topic, JSON.stringify(ack), { retain: true })
          .catch((err: unknown) => this.log('ack publish failed', { err: String(err) })),
      ),
    );
  }

  /** The stored facts' effects, in the ingest's transaction (as `CloudService.handleLedgerBatch`). */
  private async applyFacts(c: pg.ClientBase, group: Arrived[], outs: IngestOutcome[]): Promise<void> {
    const kv = new ReplayKv(c);
    const acquirer = new AcquirerSimulator(kv, this.o.acquirer);
    const orders = new CloudOrders(kv);
    const keys: Array<[string, string]> = [];
    group.forEach((g, i) => {
      for (const r of outs[i]!.facts) {
        if (!POINT_TYPES.has(r.type)) continue;
        const { tenant, device, epoch } = g.batch;
        keys.push(
          ['points-award', `${tenant}/${device}/${epoch}/${r.seq}`],
          ['sale-member', String(r.body.saleId)],
        );
      }
    });
    await kv.prefetch(keys);
    for (let i = 0; i < group.length; i++) {
      const { tenant, device, epoch } = group[i]!.batch;
      for (const r of outs[i]!.facts) {
        await kv.run(() => {
          orders.onFact(tenant, device, r);
          if (r.type === 'coupon.issued') acquirer.registerIssued(r.body);
          if (r.type === 'coupon.revoked') acquirer.revokeIssued(r.body);
          if (POINT_TYPES.has(r.type))
            acquirer.awardPoints(`${tenant}/${device}/${epoch}/${r.seq}`, r.type, r.body);
        });
      }
    }
    await kv.flush();
  }

  /**
   * `fn` on the acquirer and counter orders, as one transaction (SERIALIZABLE by default: money
   * moves once however many instances run).
   */
  async withAcquirer<T>(
    fn: (acquirer: AcquirerSimulator, orders: CloudOrders) => T,
    isolation: Isolation = 'SERIALIZABLE',
  ): Promise<T> {
    return this.store.tx(isolation, async (c) => {
      const kv = new ReplayKv(c);
      const acquirer = new AcquirerSimulator(kv, this.o.acquirer);
      const result = await kv.run(() => fn(acquirer, new CloudOrders(kv)));
      await kv.flush();
      return result;
    });
  }

  private async onRequest(tenant: string, device: string, m: UplinkMessage): Promise<void> {
    let req: unknown;
    try {
      req = JSON.parse(m.payload.toString('utf8'));
    } catch {
      m.settle();
      return;
    }
    let answer: Record<string, unknown> | undefined;
    try {
      answer = await this.handleRequest(tenant, device, req);
    } catch (err) {
      // Refused for what it holds while the database answers: set aside (the device asks again),
      // not requeued for ever. The database away: the broker delivers it again.
      const refused = await this.health.answers();
      this.log(refused ? 'request set aside: the store refuses it' : 'request failed', {
        tenant,
        device,
        err: String(err),
      });
      if (refused) m.settle();
      else {
        await this.health.pause();
        m.retry();
      }
      return;
    }
    try {
      if (answer)
        await this.o.transport.publish(topicsFor(tenant, device).downResp, JSON.stringify(answer), {
          ...(m.correlationData ? { correlationData: m.correlationData } : {}),
        });
      m.settle();
    } catch (err) {
      this.log('request answer not sent', { tenant, device, err: String(err) });
      m.retry();
    }
  }

  /** Answers one `up/req`: the response for `P/down/resp`, or undefined (not a request, reply lost). */
  async handleRequest(
    tenant: string,
    device: string,
    request: unknown,
  ): Promise<Record<string, unknown> | undefined> {
    const req = (request && typeof request === 'object' ? request : {}) as Record<string, unknown>;
    if (typeof req.reqId !== 'string' || typeof req.op !== 'string') return undefined;
    const args = (req.args && typeof req.args === 'object' ? req.args : {}) as Record<string, unknown>;
    const { reqId, op } = req;
    if (op === 'config.current') {
      const envelope = await this.store.kvGet<{ version: number }>('config', `${tenant}/${device}`);
      const have = Number(args.haveVersion ?? 0);
      return { reqId, ok: true, result: { envelope: envelope && envelope.version > have ? envelope : null } };
    }
    if (op === 'orders.pull') {
      const orders = await this.store.ordersSince(tenant, device, Number(args.sinceDownSeq ?? 0));
      return { reqId, ok: true, result: { orders } };
    }
    if (op === 'orders.lookup') {
      const result = await this.withAcquirer(
        (_a, orders) => orders.lookup(tenant, args.pickupCode, args.orderId),
        'READ COMMITTED',
      );
      return { reqId, ok: true, result };
    }
    const r = await this.withAcquirer((a) => a.handle({ tenant, device }, op, args, req.deadline));
    if ('noReply' in r) {
      this.unanswered.push(reqId);
      return undefined;
    }
    return r.ok ? { reqId, ok: true, result: r.result } : { reqId, ok: false, error: r.error };
  }

  /** Signs a config envelope and keeps it as the device's newest (what `config.current` answers). */
  async signConfig(
    tenant: string,
    device: string,
    version: number,
    doc: Record<string, unknown>,
  ): Promise<{ version: number; issuedAt: string; doc: Record<string, unknown>; sig: string }> {
    const envelope = signConfigEnvelope(this.o.signingKey, version, doc);
    await this.store.putNewerConfig(`${tenant}/${device}`, envelope);
    return envelope;
  }

  /** Signs, keeps and pushes a config doc (retained where the broker keeps it). */
  async pushConfig(
    tenant: string,
    device: string,
    version: number,
    doc: Record<string, unknown>,
  ): Promise<void> {
    const envelope = await this.signConfig(tenant, device, version, doc);
    await this.o.transport.publish(topicsFor(tenant, device).downConfig, JSON.stringify(envelope), {
      retain: true,
    });
  }

  /** Stores an order under the device's next downSeq and pushes it (expires after 1 h). */
  async pushOrder(
    tenant: string,
    device: string,
    order: { id: string } & Record<string, unknown>,
  ): Promise<number> {
    const downSeq = await this.store.addOrder(tenant, device, order);
    await this.o.transport.publish(topicsFor(tenant, device).downOrder, JSON.stringify({ downSeq, order }), {
      expirySeconds: 3600,
    });
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
    const answer = awaitAnswer(this.answers, 'answer', topicsFor(tenant, device).upResp, cmdId, waitMs);
    await this.o.transport.publish(topicsFor(tenant, device).downCmd, JSON.stringify(command));
    return answer;
  }

  /** A hint that a payment changed; the device confirms with a query. */
  async notifyPayment(tenant: string, device: string, paymentId: string, status: string): Promise<void> {
    await this.o.transport.publish(
      topicsFor(tenant, device).downNotify,
      JSON.stringify({ type: 'payment', paymentId, status }),
    );
  }
}
