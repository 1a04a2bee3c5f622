import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { type BusinessConfig, DEFAULT_BUSINESS } from '../../src/config/business.js';
import type { Discount, LineInput } from '../../src/core/sale.js';
import { openDatabase } from '../../src/offline/db.js';
import { Prng, SimClock } from './clock.js';
import { checkInvariants, type Violation } from './invariants.js';
import { short, Terminal } from './terminal.js';
import { type RequestFault, SimCloud, SimLink, TENANT, type UplinkFault } from './world.js';

/** Coupons the cloud knows from the start, valid on every terminal (and offline, from the whitelist). */
export const SHARED_COUPONS = [
  { code: 'CPSHARED01', couponId: 'coupon-shared-01', kind: 'amount' as const, value: 500 },
  { code: 'CPSHARED02', couponId: 'coupon-shared-02', kind: 'percent' as const, value: 1_000 },
];
export const MEMBERS = [
  { code: 'MB00000001', memberId: 'member-1', name: 'Li', balance: 30_000, points: 0 },
  { code: 'MB00000002', memberId: 'member-2', name: 'Wang', balance: 0, points: 0 },
];

const BUSINESS: BusinessConfig = {
  ...DEFAULT_BUSINESS,
  coupons: {
    prefixes: ['CP'],
    // The shared coupons are taken offline too, so a double use across terminals can happen.
    offline: 'accept',
    maxOfflineDiscountPerSale: 50_000,
    offlineWhitelist: SHARED_COUPONS,
    issueRules: [{ ruleId: 'thanks', kind: 'amount', value: 300, validDays: 30, afterSpend: 8_000 }],
  },
};

const CATALOG = [
  { name: 'Tea', unitPrice: 1_200 },
  { name: 'Bun', unitPrice: 350 },
  { name: 'Noodles', unitPrice: 2_800 },
  { name: 'Duck', unitPrice: 8_800 },
  { name: 'Water', unitPrice: 200 },
];

export interface ScenarioOptions {
  seed: number;
  /** Steps before the heal (default: 20 to 60, from the seed). */
  steps?: number;
  /** Keep the trace even when the scenario passes. */
  keepTrace?: boolean;
}

export interface ScenarioResult {
  seed: number;
  violations: Violation[];
  trace: string[];
  steps: number;
}

/**
 * One seeded scenario: one or two terminals sell, take every tender, refund, void, use coupons and
 * members, close shifts, while the network, the clock and the process lifecycle misbehave. Then
 * every fault heals, simulated time runs past every timer, and the money invariants are checked.
 */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const rand = new Prng(options.seed);
  const clock = new SimClock();
  const trace: string[] = [];
  const log = (line: string) => trace.push(`${(clock.mono / 1000).toFixed(3).padStart(9)}s ${line}`);
  const cloud = new SimCloud(clock, rand);
  for (const c of SHARED_COUPONS) cloud.acquirer.addCoupon(c.code, c);
  for (const m of MEMBERS) cloud.acquirer.addMember(m.code, m);
  // tmpfs when there is one: the ledger commits with fsync, and the simulation needs no durability.
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'posd-sim-'));
  let idCounter = 0;
  const newId = () => {
    idCounter += 1;
    const hex = idCounter.toString(16).padStart(12, '0');
    return `0190${hex.slice(0, 4)}-0000-7000-8000-${hex}`;
  };
  const bytes = new Prng(options.seed ^ 0x9e3779b9);
  const randomBytes = (size: number) => Uint8Array.from({ length: size }, () => bytes.int(0, 255));
  const env = { clock, cloud, rand, business: () => BUSINESS, newId, randomBytes, trace: log };
  const count = rand.chance(0.5) ? 2 : 1;
  const terminals: Terminal[] = [];
  for (let i = 1; i <= count; i++) {
    const file = join(dir, `T${i}`, 'posd.db');
    // A migrated empty database, as a fresh install has after its first start (the epoch is not in it).
    mkdirSync(join(dir, `T${i}`));
    writeFileSync(file, emptyDatabase());
    terminals.push(new Terminal(env, `T${i}`, file, new SimLink()));
  }
  const sim = new Sim(rand, clock, cloud, terminals, log);
  try {
    for (const t of terminals) t.boot();
    await clock.run(500);
    const steps = options.steps ?? rand.int(20, 60);
    for (let i = 0; i < steps; i++) {
      await sim.step(i);
      await clock.run(rand.chance(0.2) ? rand.int(3_000, 60_000) : rand.int(0, 2_500));
    }
    await sim.heal();
    const violations = checkInvariants({ cloud, terminals, restored: sim.restored });
    for (const v of violations) log(`VIOLATION (${v.invariant}) ${v.message}`);
    return { seed: options.seed, violations, trace, steps };
  } finally {
    for (const t of terminals) t.crash();
    cloud.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

let emptyDb: Buffer | undefined;

/** The schema after every migration, made once per process: migrating is the same each time. */
function emptyDatabase(): Buffer {
  if (!emptyDb) {
    const dir = mkdtempSync(join(tmpdir(), 'posd-sim-template-'));
    const db = openDatabase({ file: join(dir, 'posd.db'), log: pino({ level: 'silent' }) });
    emptyDb = db.serialize();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return emptyDb;
}

type Action = (t: Terminal) => void;

class Sim {
  readonly restored = new Set<string>();
  private readonly snapshots = new Map<string, Buffer>();

  constructor(
    private readonly rand: Prng,
    private readonly clock: SimClock,
    private readonly cloud: SimCloud,
    private readonly terminals: Terminal[],
    private readonly log: (line: string) => void,
  ) {}

  async step(i: number): Promise<void> {
    const t = this.rand.pick(this.terminals);
    if (!t.alive) {
      this.log(`#${i} ${t.id}: restart`);
      t.boot();
      return;
    }
    const fault = this.rand.chance(0.3);
    const action: Action = fault
      ? this.rand.weighted<Action>([
          [3, (x) => this.requestFault(x)],
          [2, (x) => this.uplinkFault(x)],
          [3, (x) => this.toggleLink(x)],
          [2, (x) => this.crash(x)],
          [1, (x) => this.jumpClock(x)],
          [1, (x) => this.snapshot(x)],
          [2, (x) => this.restore(x)],
        ])
      : this.rand.weighted<Action>([
          [5, (x) => this.newSale(x)],
          [8, (x) => this.pay(x)],
          [3, (x) => this.customerPaysQr(x)],
          [1, (x) => this.cancelQr(x)],
          [3, (x) => this.refund(x)],
          [1, (x) => this.voidSale(x)],
          [2, (x) => this.coupon(x)],
          [1, (x) => this.member(x)],
          [1, (x) => this.recharge(x)],
          [1, (x) => this.closeShift(x)],
        ]);
    this.prefix = `#${i} ${t.id}:`;
    try {
      action(t);
    } catch (err) {
      this.say(`refused: ${(err as { code?: string }).code ?? String(err)}`);
    }
  }

  private prefix = '';
  private say(line: string): void {
    this.log(`${this.prefix} ${line}`);
  }

  /** Runs a sync service call, logging its outcome; a PosError is a refusal, not a failure. */
  private attempt(what: string, work: () => unknown): void {
    try {
      const r = work();
      this.say(`${what} → ${describe(r)}`);
    } catch (err) {
      this.say(`${what} → refused ${(err as { code?: string }).code ?? String(err)}`);
    }
  }

  /** Starts an async service call; its outcome shows in the trace when it settles. */
  private launch(t: Terminal, what: string, work: () => Promise<unknown>): void {
    this.say(what);
    const prefix = this.prefix;
    let p: Promise<unknown>;
    try {
      p = work();
    } catch (err) {
      this.say(`${what} → refused ${(err as { code?: string }).code ?? String(err)}`);
      return;
    }
    t.track(p, (outcome) => this.log(`${prefix} ${what} → ${outcome}`));
  }

  // --- the cashier -------------------------------------------------------------------------

  private newSale(t: Terminal): void {
    const lines: LineInput[] = [];
    for (let n = this.rand.int(1, 3); n > 0; n--) {
      const item = this.rand.pick(CATALOG);
      const line: LineInput = { name: item.name, qty: this.rand.int(1, 3), unitPrice: item.unitPrice };
      if (this.rand.chance(0.15)) line.discount = { amount: this.rand.int(1, item.unitPrice) };
      lines.push(line);
    }
    let orderDiscount: Discount | undefined;
    if (this.rand.chance(0.15))
      orderDiscount = this.rand.chance(0.5) ? { amount: this.rand.int(1, 300) } : { percentBp: 500 };
    const total = lines.reduce((s, l) => s + l.qty * l.unitPrice, 0);
    if (this.rand.chance(0.35)) {
      const tender = total + this.rand.pick([0, 0, 50, 1_000]);
      this.attempt(
        `cash sale, tendered ${tender}`,
        () =>
          t.sales.createSale({
            lines,
            ...(orderDiscount ? { orderDiscount } : {}),
            tenders: [{ method: 'cash', amount: tender }],
          }).body,
      );
    } else {
      this.attempt(
        'open sale',
        () => t.sales.createSale({ lines, ...(orderDiscount ? { orderDiscount } : {}) }).body,
      );
    }
  }

  private openSales(t: Terminal): Array<{ id: string; total: number }> {
    return t.db
      .prepare<[], { id: string; total: number }>(
        "SELECT id, total FROM sales WHERE kind = 'sale' AND status = 'open' ORDER BY created_at, id",
      )
      .all();
  }

  private pay(t: Terminal): void {
    const open = this.openSales(t);
    if (open.length === 0) {
      this.newSale(t);
      return;
    }
    const sale = this.rand.pick(open);
    const view = t.sales.getSale(sale.id);
    const due = view.due;
    if (due <= 0) return;
    const s = short(sale.id);
    const part = () => (this.rand.chance(0.3) && due > 1 ? this.rand.int(1, due - 1) : due);
    const kind = this.rand.weighted<string>([
      [3, 'cash'],
      [2, 'card'],
      [5, 'code'],
      [2, 'qr'],
      [2, 'member'],
    ]);
    if (kind === 'cash') {
      const amount = this.rand.chance(0.2) ? due + 100 : part();
      this.attempt(`cash ${amount} on ${s} (due ${due})`, () => t.sales.payCash(sale.id, amount).body);
    } else if (kind === 'card') {
      const amount = part();
      this.attempt(
        `card ${amount} on ${s} (due ${due})`,
        () => t.sales.payCard(sale.id, amount, undefined).body,
      );
    } else if (kind === 'code') {
      const digit = this.rand.weighted<string>([
        [4, '0'],
        [2, '5'],
        [1, '6'],
        [1, '7'],
        [2, '8'],
        [1, '9'],
      ]);
      let code = '13';
      for (let k = 0; k < 15; k++) code += String(this.rand.int(0, 9));
      code += digit;
      this.attempt(`code …${digit} on ${s} (due ${due})`, () => t.payments.startCode(sale.id, code));
    } else if (kind === 'qr') {
      this.attempt(`QR on ${s} (due ${due})`, () => t.payments.startQr(sale.id, 'alipay'));
    } else {
      const m = this.rand.pick(MEMBERS);
      const amount = part();
      this.attempt(`member ${m.memberId} ${amount} on ${s} (due ${due})`, () =>
        t.payments.startMember(sale.id, m.code, amount),
      );
    }
  }

  private qrPayments(t: Terminal): Array<{ id: string; status: string }> {
    return t.db
      .prepare<[], { id: string; status: string }>(
        "SELECT id, status FROM payments WHERE method = 'qr' ORDER BY created_at, id",
      )
      .all();
  }

  /** The customer scans and pays a QR: maybe while it is open, maybe after it was closed. */
  private customerPaysQr(t: Terminal): void {
    const candidates = this.qrPayments(t).filter((p) => {
      const at = this.cloud.acquirer.payment({ tenant: TENANT, device: t.id }, p.id);
      return at && (at.status === 'NOTPAY' || at.status === 'CLOSED');
    });
    if (candidates.length === 0) {
      this.pay(t);
      return;
    }
    const p = this.rand.pick(candidates);
    const before = this.cloud.acquirer.payment({ tenant: TENANT, device: t.id }, p.id)?.status;
    this.cloud.acquirer.customerPaysQr({ tenant: TENANT, device: t.id }, p.id);
    this.say(`customer pays QR ${short(p.id)} (it was ${before} at the acquirer, ${p.status} here)`);
    t.link.notifies.push(p.id);
    t.deliverNotifies();
    // Buggify: a rare path (money back for a QR paid after its close) meets faults more often.
    if (before === 'CLOSED' && this.rand.chance(0.6))
      this.troubleAhead(t, ['refund.create', 'payment.reverse']);
  }

  /** Faults aimed at the next steps of a flow: their replies lost, then a crash or a link drop. */
  private troubleAhead(t: Terminal, ops: string[]): void {
    for (const op of ops)
      t.link.requestFaults.push({
        kind: this.rand.pick(['replyLost', 'requestLost', 'replyLate'] as const),
        left: 1,
        op,
      });
    const after = this.rand.int(0, 12_000);
    const crash = this.rand.chance(0.5);
    const back = this.rand.int(0, 20_000);
    this.say(
      `fault: the next ${ops.join(' / ')} lost, then a ${crash ? 'crash' : 'link drop'} in ${after} ms for ${back} ms`,
    );
    this.clock.at(after, 'lifecycle', () => {
      if (crash) {
        if (!t.alive) return;
        this.log(`${t.id}: fault: daemon crashed`);
        t.crash();
      } else {
        this.log(`${t.id}: fault: link down`);
        t.linkDown();
      }
      this.clock.at(back, 'lifecycle', () => {
        if (crash && !t.alive) {
          this.log(`${t.id}: restart`);
          t.boot();
        } else if (!crash && !t.link.up) {
          this.log(`${t.id}: link up`);
          t.linkUp();
        }
      });
    });
  }

  private cancelQr(t: Terminal): void {
    const pending = this.qrPayments(t).filter((p) => p.status === 'pending');
    if (pending.length === 0) {
      this.pay(t);
      return;
    }
    const p = this.rand.pick(pending);
    this.launch(t, `cancel QR ${short(p.id)}`, () => t.payments.cancelQr(p.id));
  }

  private refund(t: Terminal): void {
    const done = t.db
      .prepare<[], { id: string }>(
        "SELECT id FROM sales WHERE kind = 'sale' AND status = 'completed' ORDER BY created_at, id",
      )
      .all();
    if (done.length === 0) {
      this.newSale(t);
      return;
    }
    const sale = this.rand.pick(done);
    const view = t.sales.getSale(sale.id);
    const refunded = new Map<number, number>();
    for (const r of t.store.refundsOf(sale.id)) {
      if (r.status === 'voided') continue;
      for (const l of r.doc.lines) refunded.set(l.lineNo, (refunded.get(l.lineNo) ?? 0) + l.qty);
    }
    const left = view.lines
      .map((l) => ({ lineNo: l.lineNo, qty: l.qty - (refunded.get(l.lineNo) ?? 0) }))
      .filter((l) => l.qty > 0);
    if (left.length === 0) return;
    const lines = this.rand.chance(0.5)
      ? left
      : [this.rand.pick(left)].map((l) => ({ lineNo: l.lineNo, qty: this.rand.int(1, l.qty) }));
    const what = lines.map((l) => `${l.qty}×line${l.lineNo}`).join(' ');
    this.attempt(`refund ${what} of ${short(sale.id)}`, () => t.refunds.refund(sale.id, { lines }).body);
  }

  private voidSale(t: Terminal): void {
    const any = t.db
      .prepare<[], { id: string }>(
        "SELECT id FROM sales WHERE kind = 'sale' AND status <> 'voided' ORDER BY created_at DESC, id LIMIT 3",
      )
      .all();
    if (any.length === 0) return;
    const sale = this.rand.pick(any);
    this.attempt(`void ${short(sale.id)}`, () => t.sales.voidSale(sale.id, 'sim').status);
  }

  private coupon(t: Terminal): void {
    const open = this.openSales(t).filter((s) => t.store.paymentsOf(s.id).length === 0);
    if (open.length === 0) {
      this.newSale(t);
      return;
    }
    const sale = this.rand.pick(open);
    const issued = this.cloud.store.kvAll<{ couponId: string }>('coupon').map((c) => c.key);
    const code = this.rand.pick(issued);
    this.launch(t, `coupon ${code} on ${short(sale.id)}`, () => t.coupons.apply(sale.id, code));
  }

  private member(t: Terminal): void {
    const open = this.openSales(t);
    if (open.length === 0) {
      this.newSale(t);
      return;
    }
    const sale = this.rand.pick(open);
    const m = this.rand.pick(MEMBERS);
    this.attempt(
      `member ${m.memberId} on ${short(sale.id)}`,
      () => t.sales.setMember(sale.id, m.memberId).status,
    );
  }

  private recharge(t: Terminal): void {
    const m = this.rand.pick(MEMBERS);
    const amount = this.rand.pick([1_000, 5_000, 20_000]);
    this.launch(t, `recharge ${m.memberId} ${amount}`, () => t.members.recharge(m.memberId, amount));
  }

  private closeShift(t: Terminal): void {
    let expected = 0;
    try {
      expected = t.shifts.currentReport().totals.expectedCash;
    } catch {
      return;
    }
    const counted = expected + this.rand.pick([0, 0, -100, 200]);
    this.attempt(`close shift, counted ${counted}`, () => t.shifts.close(counted).totals.expectedCash);
  }

  // --- the faults ----------------------------------------------------------------------------

  private requestFault(t: Terminal): void {
    const kind = this.rand.weighted<RequestFault>([
      [3, 'replyLost'],
      [2, 'requestLost'],
      [2, 'replyLate'],
      [2, 'duplicate'],
    ]);
    const left = this.rand.int(1, 3);
    // Half the time aimed at one step of a flow (the refund of a late QR, a reversal, a recharge…).
    const op = this.rand.chance(0.5)
      ? this.rand.pick([
          'payment.create',
          'payment.query',
          'payment.reverse',
          'payment.close',
          'refund.create',
          'coupon.consume',
          'member.recharge',
        ])
      : undefined;
    t.link.requestFaults.push({ kind, left, ...(op ? { op } : {}) });
    this.say(`fault: next ${left} ${op ?? 'request'}(s) ${kind}`);
  }

  private uplinkFault(t: Terminal): void {
    const kind = this.rand.weighted<UplinkFault>([
      [2, 'batchLost'],
      [2, 'ackLost'],
      [1, 'batchTwice'],
    ]);
    const left = this.rand.int(1, 3);
    t.link.uplinkFaults.push({ kind, left });
    this.say(`fault: next ${left} ledger batch(es) ${kind}`);
  }

  private toggleLink(t: Terminal): void {
    if (t.link.up) {
      this.say('fault: link down');
      t.linkDown();
    } else {
      this.say('link up');
      t.linkUp();
    }
  }

  private crash(t: Terminal): void {
    t.crash();
    const after = this.rand.chance(0.5) ? 0 : this.rand.int(100, 30_000);
    this.say(`fault: daemon crashed; restarts after ${after} ms`);
    const id = t.id;
    this.clock.at(after, 'lifecycle', () => {
      if (t.alive) return;
      this.log(`${id}: restart`);
      t.boot();
    });
  }

  private jumpClock(_t: Terminal): void {
    // Backwards only a little: a request's deadline is the terminal's clock, read by the cloud's.
    const ms = this.rand.chance(0.3) ? -this.rand.int(500, 4_000) : this.rand.int(1_000, 2 * 3_600_000);
    this.clock.jump(ms);
    this.say(`fault: wall clock jumps ${ms > 0 ? '+' : ''}${ms} ms`);
  }

  /** Nothing in flight on this terminal: a backup taken now, or a restore now, loses no money. */
  private quiet(t: Terminal, synced: boolean): boolean {
    const n = (sql: string) => (t.db.prepare<[], { n: number }>(sql).get()?.n ?? 0) > 0;
    // A backup holds no open sale (it could be sold twice); a restore may drop an unpaid one.
    if (!synced && n("SELECT count(*) AS n FROM sales WHERE status = 'open'")) return false;
    if (
      n(
        "SELECT count(*) AS n FROM sales s WHERE s.status = 'open' AND (s.kind = 'refund' OR EXISTS (SELECT 1 FROM payments p WHERE p.sale_id = s.id))",
      )
    )
      return false;
    if (n("SELECT count(*) AS n FROM payments WHERE status IN ('pending', 'unknown')")) return false;
    if (n("SELECT count(*) AS n FROM recharges WHERE status = 'pending'")) return false;
    if (
      n(
        "SELECT count(*) AS n FROM redemptions WHERE status IN ('reserved', 'redeemed') OR (status = 'released' AND cloud_hold = 1)",
      )
    )
      return false;
    // An automatic refund of a QR paid after its close, owed or on its way (seed 471174670).
    if (n("SELECT count(*) AS n FROM payment_reversals WHERE status = 'pending'")) return false;
    if (t.work.size > 0) return false;
    return !synced || t.ledger.ackedUpTo() === t.ledger.lastSeq();
  }

  private snapshot(t: Terminal): void {
    if (!this.quiet(t, false)) {
      this.toggleLink(t);
      return;
    }
    this.snapshots.set(t.id, t.snapshot());
    this.say(`backup of the database taken (last seq ${t.ledger.lastSeq()})`);
  }

  private restore(t: Terminal): void {
    const copy = this.snapshots.get(t.id);
    if (!copy || !this.quiet(t, true)) {
      this.snapshot(t);
      return;
    }
    this.say(`fault: database restored from the backup (was at seq ${t.ledger.lastSeq()})`);
    t.restore(copy);
    this.restored.add(t.id);
    t.boot();
    t.openRestoreWindow();
  }

  /** Every fault heals: daemons up, links up, no more losses; then time runs past every timer. */
  async heal(): Promise<void> {
    this.prefix = 'heal:';
    this.say('every fault heals');
    for (const t of this.terminals) {
      t.link.heal();
      if (!t.alive) t.boot();
      t.linkUp();
    }
    // Longer than the code-payment rule (45 s), a QR's life (120 s) and a few query intervals.
    await this.clock.run(240_000);
    this.say('time ran 240 s with the links up');
  }
}

function describe(r: unknown): string {
  if (r === undefined || r === null) return 'ok';
  if (typeof r !== 'object') return String(r);
  const o = r as Record<string, unknown>;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || typeof v === 'object') continue;
    parts.push(`${k}=${typeof v === 'string' && /^0190/.test(v) ? short(v) : String(v)}`);
  }
  return parts.join(' ');
}
