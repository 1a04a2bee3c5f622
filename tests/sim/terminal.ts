import { rmSync, writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { EventBus } from '../../src/bus.js';
import type { BusinessConfig } from '../../src/config/business.js';
import type { Timers } from '../../src/drivers/transport/timers.js';
import { type Db, openDatabase } from '../../src/offline/db.js';
import { Ledger } from '../../src/offline/ledger.js';
import { ReversalStore } from '../../src/offline/reversal-store.js';
import { SalesStore } from '../../src/offline/sales-store.js';
import { ShiftStore } from '../../src/offline/shift-store.js';
import type { CloudPort, CloudReply } from '../../src/services/cloud-port.js';
import { CouponIssuer } from '../../src/services/coupon-issuer.js';
import { CouponService } from '../../src/services/coupon-service.js';
import { MemberService } from '../../src/services/member-service.js';
import { offlineGuard } from '../../src/services/offline-guard.js';
import { PaymentService } from '../../src/services/payment-service.js';
import { RefundService } from '../../src/services/refund-service.js';
import { SaleService } from '../../src/services/sale-service.js';
import { ShiftService } from '../../src/services/shift-service.js';
import { Uplink, type UplinkLink } from '../../src/sync/uplink.js';
import type { Prng, SimClock } from './clock.js';
import { type SimCloud, type SimLink, TENANT } from './world.js';

const SILENT = pino({ level: 'silent' });

export interface TerminalEnv {
  clock: SimClock;
  cloud: SimCloud;
  rand: Prng;
  business: () => BusinessConfig;
  newId: () => string;
  /** Random bytes (issued coupon codes), from the seed too. */
  randomBytes: (size: number) => Uint8Array;
  trace: (line: string) => void;
}

/**
 * One terminal's daemon composed as src/app.ts composes it (the same services on the same SQLite
 * file), with the cloud link, the ledger uplink and time under the simulation's control. A crash
 * drops every in-memory service and cancels their timers; the file stays; a boot builds new ones.
 */
export class Terminal {
  incarnation = 0;
  alive = false;
  /** The MQTT session is established (link up and connected since the last boot). */
  connected = false;
  db!: Db;
  ledger!: Ledger;
  store!: SalesStore;
  shifts!: ShiftService;
  sales!: SaleService;
  refunds!: RefundService;
  payments!: PaymentService;
  coupons!: CouponService;
  issuer!: CouponIssuer;
  members!: MemberService;
  uplink!: Uplink;
  port!: SimCloudPort;
  /** Work started by the scenario that has not settled yet (async service calls). */
  readonly work = new Set<Promise<unknown>>();
  /**
   * Records a restored copy wrote before it learnt it was one (mqtt-v1: receipts and coupon codes
   * must not repeat "from then on", i.e. once the terminal moved to a new epoch).
   */
  readonly beforeDetection = new Set<string>();
  /** Record ids the restored copy held, while it has not yet found out it is one. */
  private restoredBase: Set<string> | undefined;

  constructor(
    readonly env: TerminalEnv,
    readonly id: string,
    readonly file: string,
    readonly link: SimLink,
  ) {}

  get owner(): string {
    return `${this.id}#${this.incarnation}`;
  }

  boot(): void {
    this.incarnation += 1;
    this.alive = true;
    this.connected = false;
    const { clock, business, newId } = this.env;
    const now = clock.now;
    const owner = this.owner;
    const bus = new EventBus(now);
    this.port = new SimCloudPort(this);
    this.db = openDatabase({ file: this.file, log: SILENT });
    this.ledger = new Ledger({ db: this.db, dir: this.file, now, newId });
    this.store = new SalesStore(this.db);
    this.shifts = new ShiftService({ ledger: this.ledger, store: new ShiftStore(this.db), bus, now, newId });
    this.sales = new SaleService({
      ledger: this.ledger,
      store: this.store,
      shifts: this.shifts,
      bus,
      deviceId: this.id,
      currency: () => business().currency,
      guard: offlineGuard(this.port, this.ledger, business, now),
      now,
      newId,
    });
    this.refunds = new RefundService({
      ledger: this.ledger,
      store: this.store,
      sales: this.sales,
      shifts: this.shifts,
      now,
      newId,
    });
    const sleep = clock.sleeper(owner);
    this.payments = new PaymentService({
      ledger: this.ledger,
      store: this.store,
      sales: this.sales,
      refunds: this.refunds,
      reversals: new ReversalStore(this.db),
      cloud: this.port,
      bus,
      log: SILENT,
      business,
      sleep,
      now,
      monotonic: () => clock.mono,
      newId,
    });
    this.coupons = new CouponService({
      db: this.db,
      ledger: this.ledger,
      sales: this.sales,
      cloud: this.port,
      bus,
      log: SILENT,
      business,
      sleep,
      now,
      newId,
    });
    this.issuer = new CouponIssuer({
      ledger: this.ledger,
      store: this.store,
      sales: this.sales,
      bus,
      log: SILENT,
      deviceId: this.id,
      business,
      now,
      newId,
      random: this.env.randomBytes,
    });
    this.members = new MemberService({
      db: this.db,
      ledger: this.ledger,
      store: this.store,
      shifts: this.shifts,
      cloud: this.port,
      bus,
      log: SILENT,
      business,
      sleep,
      now,
      newId,
    });
    this.uplink = new Uplink({
      link: new SimUplinkLink(this, owner),
      outbox: this.ledger.outbox,
      topic: `pos/v1/${TENANT}/${this.id}/up/ledger`,
      log: SILENT,
      now: () => clock.mono,
      timers: simTimers(clock, owner),
      onNewEpoch: (epoch) => {
        this.env.trace(`${this.id}: ledger moved to a new epoch ${short(epoch)}`);
        this.closeRestoreWindow();
      },
    });
    this.uplink.start();
    this.payments.resumeUnresolved();
    if (this.link.up) this.scheduleConnect();
  }

  /** The process dies: no clean stop, nothing in memory survives; the SQLite file stays. */
  crash(): void {
    if (!this.alive) return;
    this.env.clock.cancelOwner(this.owner);
    this.uplink.stop();
    this.db.close();
    this.alive = false;
    this.connected = false;
    this.work.clear();
  }

  /** A copy of the database as a backup would take it. */
  snapshot(): Buffer {
    return this.db.serialize();
  }

  /** The technician restores an older copy of the database file (the daemon is down meanwhile). */
  /** After a restore's boot: what the copy holds, to tell what it writes until it finds out. */
  openRestoreWindow(): void {
    this.closeRestoreWindow();
    this.restoredBase = new Set(this.ledger.page(0, 1_000_000).map((r) => r.id));
  }

  private closeRestoreWindow(): void {
    if (!this.restoredBase) return;
    for (const r of this.ledger.page(0, 1_000_000))
      if (!this.restoredBase.has(r.id)) this.beforeDetection.add(r.id);
    this.restoredBase = undefined;
  }

  restore(copy: Buffer): void {
    this.closeRestoreWindow();
    this.crash();
    for (const suffix of ['', '-wal', '-shm']) rmSync(this.file + suffix, { force: true });
    writeFileSync(this.file, copy);
  }

  linkDown(): void {
    this.link.up = false;
    if (!this.alive || !this.connected) return;
    this.connected = false;
    this.uplink.onDisconnected();
  }

  linkUp(): void {
    if (this.link.up) return;
    this.link.up = true;
    this.link.upSince = this.env.clock.mono;
    if (this.alive) this.scheduleConnect();
  }

  private scheduleConnect(): void {
    const owner = this.owner;
    this.env.clock.at(this.env.cloud.latency(), owner, () => {
      if (!this.link.up || this.connected || owner !== this.owner) return;
      this.connected = true;
      this.env.trace(`${this.id}: connected`);
      this.port.fireOnline();
      this.connectUplink(owner);
      this.deliverNotifies();
    });
  }

  /**
   * mqtt-v1: on subscribe the broker hands over the retained ack, flagged RETAIN (old news: it only
   * reveals a restored copy); acks to batches come live (RETAIN 0).
   */
  private connectUplink(owner: string): void {
    const { clock, cloud } = this.env;
    this.uplink.onConnected();
    const retained = cloud.retainedAck.get(this.id);
    if (!retained) return;
    const ack = structuredClone(retained);
    clock.at(cloud.latency(), owner, () => {
      if (this.connected) this.uplink.onAck(ack.epoch, ack.ackedUpTo, ack.rejected, true);
    });
  }

  /** Payment hints the cloud queued for this terminal (`down/notify`), once it is connected. */
  deliverNotifies(): void {
    if (!this.connected) return;
    const owner = this.owner;
    for (const paymentId of this.link.notifies.splice(0)) {
      this.env.clock.at(this.env.cloud.latency(), owner, () => {
        if (this.connected) this.track(this.payments.onNotify(paymentId));
      });
    }
  }

  /** Keeps an async service call so its rejection is observed (the trace shows the outcome). */
  track<T>(work: Promise<T>, describe?: (outcome: string) => void): void {
    const guarded = work.then(
      () => describe?.('ok'),
      (err: unknown) => describe?.(`error ${(err as { code?: string }).code ?? String(err)}`),
    );
    this.work.add(guarded);
    void guarded.finally(() => this.work.delete(guarded));
  }
}

/** The cloud link as the money flows see it: requests travel the simulated network. */
class SimCloudPort implements CloudPort {
  readonly configured = true;
  private readonly listeners = new Set<() => void>();
  private lastOnline: Date | undefined;

  constructor(private readonly t: Terminal) {}

  isOnline(): boolean {
    return this.t.alive && this.t.connected && this.t.link.up;
  }

  lastOnlineAt(): Date | undefined {
    return this.isOnline() ? this.t.env.clock.now() : this.lastOnline;
  }

  onOnline(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  fireOnline(): void {
    this.lastOnline = this.t.env.clock.now();
    for (const l of this.listeners) l();
  }

  request<T = Record<string, unknown>>(
    op: string,
    args: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<CloudReply<T>> {
    const t = this.t;
    const { clock, cloud, trace, newId } = t.env;
    if (!this.isOnline()) {
      trace(`${t.id}: ✗ ${op} not sent: the link is down`);
      return Promise.resolve({ kind: 'unknown', reason: 'the cloud link is down' });
    }
    this.lastOnline = clock.now();
    const owner = t.owner;
    const reqId = newId();
    const fault = t.link.takeRequestFault(op);
    const wire = JSON.parse(JSON.stringify(args)) as Record<string, unknown>;
    // As the request client sets it: by this terminal's (possibly wrong) wall clock.
    const deadline = new Date(clock.now().getTime() + timeoutMs).toISOString();
    trace(`${t.id}: → ${op} ${describeArgs(wire)}${fault ? ` [${fault}]` : ''}`);
    return new Promise<CloudReply<T>>((resolve) => {
      let done = false;
      const finish = (reply: CloudReply) => {
        if (done) return;
        done = true;
        if (reply.kind === 'unknown') trace(`${t.id}: ← ${op} unknown (${reply.reason})`);
        resolve(reply as CloudReply<T>);
      };
      clock.at(timeoutMs, owner, () =>
        finish({ kind: 'unknown', reason: `no reply within ${timeoutMs} ms` }),
      );
      if (fault === 'requestLost') return;
      clock.at(cloud.latency(), 'net', () => {
        if (!t.link.up) return; // lost with the link
        const request = { reqId, op, args: wire, deadline };
        let answer = cloud.request(t.id, request);
        if (fault === 'duplicate') answer = cloud.request(t.id, request) ?? answer;
        trace(`${t.id}:   cloud ${op} → ${answer ? describeAnswer(answer) : 'no reply'}`);
        if (!answer || fault === 'replyLost') return;
        if (fault === 'systemError')
          answer = { reqId, ok: false, error: { code: 'SYSTEMERROR', message: 'acquirer system error' } };
        const reply = JSON.parse(JSON.stringify(answer)) as {
          ok: boolean;
          result?: Record<string, unknown>;
          error?: { code: string; message: string };
        };
        const delay = fault === 'replyLate' ? timeoutMs + cloud.latency() : cloud.latency();
        clock.at(delay, owner, () => {
          if (!this.isOnline()) return;
          if (!done) trace(`${t.id}: ← ${op} ${reply.ok ? 'ok' : `error ${reply.error?.code}`}`);
          finish(
            reply.ok
              ? { kind: 'ok', result: reply.result ?? {} }
              : { kind: 'error', code: reply.error?.code ?? 'ERROR', message: reply.error?.message ?? '' },
          );
        });
      });
    });
  }
}

/** The MQTT link as the uplink sees it: publishes are PUBACKed, lost, or doubled by the network. */
class SimUplinkLink implements UplinkLink {
  readonly sendWindow = 32;

  constructor(
    private readonly t: Terminal,
    private readonly owner: string,
  ) {}

  get isConnected(): boolean {
    return this.t.owner === this.owner && this.t.port.isOnline();
  }

  publish(_topic: string, payload: string): Promise<void> {
    const t = this.t;
    const { clock, cloud, trace } = t.env;
    if (!this.isConnected) return Promise.reject(new Error('not connected'));
    const fault = t.link.takeUplinkFault();
    const batch = JSON.parse(payload) as { records: Array<{ seq: number }> };
    const span = `${batch.records[0]?.seq}..${batch.records.at(-1)?.seq}`;
    trace(`${t.id}: ⇢ ledger ${span}${fault ? ` [${fault}]` : ''}`);
    const deliver = () => {
      const ack = cloud.ingest(t.id, payload);
      if (!ack) return;
      trace(`${t.id}:   cloud stored up to ${ack.ackedUpTo}${fault === 'ackLost' ? ' [ack lost]' : ''}`);
      if (fault === 'ackLost') return;
      const copy = structuredClone(ack);
      clock.at(cloud.latency(), this.owner, () => {
        if (this.isConnected) t.uplink.onAck(copy.epoch, copy.ackedUpTo, copy.rejected, false);
      });
    };
    clock.at(cloud.latency(), 'net', () => {
      if (!t.link.up || fault === 'batchLost') return;
      deliver();
      if (fault === 'batchTwice') deliver();
    });
    return new Promise<void>((resolve, reject) => {
      clock.at(cloud.latency(), this.owner, () => {
        if (this.isConnected) resolve();
        else reject(new Error('connection lost'));
      });
    });
  }
}

function describeArgs(args: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const k of [
    'paymentId',
    'refundId',
    'amount',
    'method',
    'channel',
    'code',
    'memberId',
    'rechargeId',
  ]) {
    const v = args[k];
    if (v === undefined) continue;
    parts.push(`${k}=${typeof v === 'string' && v.length > 12 ? short(v) : String(v)}`);
  }
  if (typeof args.authCode === 'string') parts.push(`code …${args.authCode.slice(-1)}`);
  return parts.join(' ');
}

function describeAnswer(a: Record<string, unknown>): string {
  if (a.ok) {
    const r = (a.result ?? {}) as Record<string, unknown>;
    return `ok ${String(r.status ?? r.valid ?? '')}`.trim();
  }
  return `error ${String((a.error as { code?: string } | undefined)?.code)}`;
}

/** The distinguishing tail of a simulated id. */
export function short(id: string): string {
  return id.slice(-6);
}

/** The uplink's timers on simulated time, owned by one daemon incarnation (a crash cancels them). */
function simTimers(clock: SimClock, owner: string): Timers {
  return {
    setTimeout(fn, ms) {
      const handle = { live: true };
      clock.at(ms, owner, () => {
        if (handle.live) fn();
      });
      return handle;
    },
    clearTimeout(handle) {
      if (handle) (handle as { live: boolean }).live = false;
    },
  };
}
