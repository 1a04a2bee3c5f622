import { foldShift } from '../../src/core/shift-report.js';
import { canonicalJson } from '../../src/offline/chain.js';
import type { LocalLedgerRecord } from '../../src/offline/ledger.js';
import { MEMBERS } from './scenario.js';
import type { Terminal } from './terminal.js';
import { type SimCloud, TENANT } from './world.js';

export interface Violation {
  invariant: 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g';
  message: string;
}

interface BookRecord {
  id: string;
  type: string;
  body: Record<string, unknown>;
}

export interface WorldView {
  cloud: SimCloud;
  terminals: Terminal[];
  restored: ReadonlySet<string>;
}

/**
 * The money invariants, checked after every fault healed and time ran out. "The books" of a
 * terminal are its records in the cloud and on the device, each record (by id) once: after a
 * restore the device lost records the cloud still holds.
 */
export function checkInvariants(w: WorldView): Violation[] {
  const out: Violation[] = [];
  const add = (invariant: Violation['invariant'], message: string) => out.push({ invariant, message });
  for (const t of w.terminals) {
    const device = t.ledger.page(0, 1_000_000);
    const cloudRecords = w.cloud.store.facts(TENANT, t.id);
    const books = new Map<string, BookRecord>();
    for (const r of cloudRecords) books.set(r.id, r);
    for (const r of device) books.set(r.id, r);
    checkSync(t, device, cloudRecords, w.restored.has(t.id), add);
    checkMoney(t, w.cloud, [...books.values()], add);
    checkResolved(t, add);
    checkNumbers(t, [...books.values()], add);
    checkShifts(t, device, add);
  }
  checkCoupons(w, add);
  checkMembers(w, add);
  checkPoints(w, add);
  return out;
}

type Add = (invariant: Violation['invariant'], message: string) => void;

/** (c) device ledger = cloud ledger, each record once, nothing marked synced the cloud lacks. */
function checkSync(
  t: Terminal,
  device: LocalLedgerRecord[],
  cloud: Array<{ id: string; type: string; body: Record<string, unknown>; epoch: string; seq: number }>,
  restored: boolean,
  add: Add,
): void {
  const byId = new Map<string, (typeof cloud)[number]>();
  for (const r of cloud) {
    if (byId.has(r.id)) add('c', `${t.id}: record ${r.id} (${r.type}) is in the cloud twice`);
    byId.set(r.id, r);
  }
  for (const r of device) {
    const c = byId.get(r.id);
    if (!c) {
      add(
        'c',
        `${t.id}: record seq ${r.seq} ${r.type} (${r.id}) is ${r.sync === 'synced' ? 'marked synced but ' : ''}missing in the cloud`,
      );
      continue;
    }
    if (c.type !== r.type || canonicalJson(c.body) !== canonicalJson(r.body))
      add('c', `${t.id}: record ${r.id} differs between device and cloud`);
    if (r.sync === 'rejected') add('c', `${t.id}: record seq ${r.seq} ${r.type} was rejected by the cloud`);
  }
  const f = t.ledger.figures();
  if (f.ackedUpTo !== f.lastSeq || f.outboxDepth > 0)
    add('c', `${t.id}: outbox not drained (acked ${f.ackedUpTo} of ${f.lastSeq}, depth ${f.outboxDepth})`);
  if (!restored) {
    const ids = new Set(device.map((r) => r.id));
    for (const r of cloud)
      if (!ids.has(r.id)) add('c', `${t.id}: the cloud holds ${r.type} ${r.id} the device never wrote`);
  }
}

/** Money per payment id as the books tell it: paid − refunded − reversed. */
function bookMoney(records: BookRecord[]) {
  const succeeded = new Map<string, { amount: number; saleId: string; channel: string }>();
  const reversed = new Set<string>();
  const refunds = new Map<string, number>();
  const seenRefundParts = new Set<string>();
  const voided = new Set<string>();
  const completed = new Set<string>();
  for (const r of records) {
    const b = r.body;
    if (r.type === 'payment.succeeded' && b.method !== 'cash' && b.method !== 'card')
      succeeded.set(String(b.paymentId), {
        amount: Number(b.amount),
        saleId: String(b.saleId),
        channel: String(b.channel),
      });
    else if (r.type === 'payment.reversed') reversed.add(String(b.paymentId));
    else if (r.type === 'sale.voided') voided.add(String(b.saleId));
    else if (r.type === 'sale.completed') completed.add(String(b.saleId));
    else if (r.type === 'refund.completed') {
      for (const p of (b.payments ?? []) as Array<Record<string, unknown>>) {
        const of =
          typeof p.refundOf === 'string' ? p.refundOf : b.automatic ? String(p.paymentId) : undefined;
        if (!of) continue;
        const key = typeof p.refundOf === 'string' ? String(p.paymentId) : `auto:${String(b.refundId)}`;
        if (seenRefundParts.has(key)) continue;
        seenRefundParts.add(key);
        refunds.set(of, (refunds.get(of) ?? 0) + Number(p.amount));
      }
    }
  }
  const net = (paymentId: string) => {
    const s = succeeded.get(paymentId);
    if (!s || reversed.has(paymentId)) return 0;
    return s.amount - (refunds.get(paymentId) ?? 0);
  };
  return { succeeded, reversed, refunds, voided, completed, net };
}

/** (a) acquirer net = ledger net per payment; (b) no money at the acquirer for an unpaid or voided sale. */
function checkMoney(t: Terminal, cloud: SimCloud, books: BookRecord[], add: Add): void {
  const money = bookMoney(books);
  const acquirer = cloud.acquirer.payments({ tenant: TENANT, device: t.id });
  const ids = new Set<string>([...acquirer.map((p) => p.paymentId), ...money.succeeded.keys()]);
  const byId = new Map(acquirer.map((p) => [p.paymentId, p]));
  for (const id of ids) {
    const p = byId.get(id);
    const acq = p && p.status === 'SUCCESS' ? p.amount - p.refunded : 0;
    const led = money.net(id);
    if (acq !== led) {
      const local = t.store.getPayment(id);
      add(
        'a',
        `${t.id}: payment ${id} (${p?.channel ?? '?'}): acquirer holds ${acq} (${p?.status ?? 'unknown'}, refunded ${p?.refunded ?? 0}), the ledger says ${led}` +
          ` (paid ${money.succeeded.get(id)?.amount ?? 0}, refunded ${money.refunds.get(id) ?? 0}${money.reversed.has(id) ? ', reversed' : ''}; here ${local?.status ?? 'absent'})`,
      );
    }
    if (acq > 0) {
      const saleId = p!.saleId;
      if (money.voided.has(saleId)) add('b', `${t.id}: ${acq} at the acquirer for voided sale ${saleId}`);
      const local = t.store.getPayment(id);
      if (local && local.status !== 'succeeded' && local.status !== 'refunded' && !local.doc.paidAfterClose)
        add('b', `${t.id}: ${acq} at the acquirer for payment ${id} shown ${local.status} on the terminal`);
    }
  }
}

/** (d) nothing unresolved once the link has been up longer than the code-payment rule. */
function checkResolved(t: Terminal, add: Add): void {
  for (const p of t.store.unresolvedPayments())
    add('d', `${t.id}: payment ${p.paymentId} (${p.method}/${p.channel} ${p.amount}) still ${p.status}`);
  const rows = (sql: string) => t.db.prepare<[], Record<string, unknown>>(sql).all();
  for (const r of rows("SELECT id, total FROM sales WHERE kind = 'refund' AND status = 'open'"))
    add('d', `${t.id}: refund ${String(r.id)} of ${String(r.total)} still open`);
  for (const r of rows("SELECT payment_id AS id FROM payment_reversals WHERE status = 'pending'"))
    add('d', `${t.id}: automatic reversal of QR ${String(r.id)} paid after close never completed`);
  for (const r of rows("SELECT id, amount FROM recharges WHERE status = 'pending'"))
    add('d', `${t.id}: recharge ${String(r.id)} of ${String(r.amount)} still pending`);
  for (const r of rows(
    "SELECT id, code FROM redemptions WHERE status = 'redeemed' OR (status = 'released' AND cloud_hold = 1)",
  ))
    add('d', `${t.id}: coupon ${String(r.code)} redeemed (${String(r.id)}) but never consumed at the cloud`);
}

/** (f) receipt numbers and issued coupon codes never repeat. */
function checkNumbers(t: Terminal, books: BookRecord[], add: Add): void {
  const receipts = new Map<string, string>();
  // A restored copy may repeat numbers until it finds out it is one (mqtt-v1: "from then on").
  const early = (id: string | undefined) => id !== undefined && t.beforeDetection.has(id);
  const receiptRecord = new Map<string, string>();
  const codeRecord = new Map<string, string>();
  const codes = new Map<string, string>();
  for (const r of books) {
    const b = r.body;
    if ((r.type === 'sale.completed' || r.type === 'refund.completed') && typeof b.receiptNo === 'string') {
      const owner = String(r.type === 'sale.completed' ? b.saleId : b.refundId);
      const seen = receipts.get(b.receiptNo);
      if (seen && seen !== owner && !early(r.id) && !early(receiptRecord.get(b.receiptNo)))
        add('f', `${t.id}: receipt ${b.receiptNo} issued to ${seen} and to ${owner}`);
      receipts.set(b.receiptNo, owner);
      receiptRecord.set(b.receiptNo, r.id);
    }
    if (r.type === 'coupon.issued' && typeof b.code === 'string') {
      const seen = codes.get(b.code);
      const owner = String(b.couponId);
      if (seen && seen !== owner && !early(r.id) && !early(codeRecord.get(b.code)))
        add('f', `${t.id}: coupon code ${b.code} issued twice (${seen}, ${owner})`);
      codes.set(b.code, owner);
      codeRecord.set(b.code, r.id);
    }
  }
}

/** (e) each coupon's value used at most once across terminals, or the conflict surfaced. */
function checkCoupons(w: WorldView, add: Add): void {
  const uses = new Map<string, Array<{ terminal: string; id: string; status: string }>>();
  for (const t of w.terminals) {
    for (const r of t.db
      .prepare<[], { id: string; code: string; status: string }>(
        "SELECT id, code, status FROM redemptions WHERE status IN ('redeemed', 'consumed', 'conflict')",
      )
      .all()) {
      const list = uses.get(r.code) ?? [];
      list.push({ terminal: t.id, id: r.id, status: r.status });
      uses.set(r.code, list);
    }
  }
  for (const [code, list] of uses) {
    const silent = list.filter((u) => u.status !== 'conflict');
    if (silent.length > 1)
      add(
        'e',
        `coupon ${code} used ${silent.length} times without a conflict: ${list.map((u) => `${u.terminal}/${u.status}`).join(', ')}`,
      );
  }
}

/**
 * (e) member balance = start + recharges − payments + refunds. Recharges are read from the ledger
 * records the cloud stored (`member.recharged` not followed by `member.recharge.failed`, once per
 * rechargeId): a terminal restored from a backup no longer holds the row of a recharge the cloud
 * already credited and recorded.
 */
function checkMembers(w: WorldView, add: Add): void {
  const recharges = new Map<string, { memberId: string; amount: number }>();
  const failed = new Set<string>();
  for (const t of w.terminals)
    for (const r of w.cloud.store.records(TENANT, t.id)) {
      if (r.type === 'member.recharged')
        recharges.set(String(r.body.rechargeId), {
          memberId: String(r.body.memberId),
          amount: Number(r.body.amount),
        });
      if (r.type === 'member.recharge.failed') failed.add(String(r.body.rechargeId));
    }
  for (const m of MEMBERS) {
    let expected = m.balance;
    for (const [id, r] of recharges) if (r.memberId === m.memberId && !failed.has(id)) expected += r.amount;
    for (const t of w.terminals) {
      for (const p of w.cloud.acquirer.payments({ tenant: TENANT, device: t.id })) {
        if (p.memberCode !== m.code || p.status !== 'SUCCESS') continue;
        expected -= p.amount - p.refunded;
      }
    }
    const actual = w.cloud.acquirer.memberBalance(m.code);
    if (actual !== expected)
      add(
        'e',
        `member ${m.memberId}: balance ${actual}, expected ${expected} (recharges − payments + refunds)`,
      );
  }
}

const MONEY_RECORDS = new Set([
  'payment.succeeded',
  'payment.reversed',
  'refund.completed',
  'sale.voided',
  'member.recharged',
  'member.recharge.failed',
]);

/**
 * (g) each Z report equals the ledger: the totals in `shift.closed` are the fold of the records of
 * its shift, and no money moves outside a shift (it would be in no Z report).
 */
function checkShifts(t: Terminal, device: LocalLedgerRecord[], add: Add): void {
  let open: { shiftId: string; openingCash: number; records: LocalLedgerRecord[] } | undefined;
  const outside = new Map<string, number>();
  for (const r of device) {
    const b = r.body;
    if (r.type === 'shift.opened') {
      open = { shiftId: String(b.shiftId), openingCash: Number(b.openingCash), records: [] };
      continue;
    }
    if (r.type === 'shift.closed') {
      if (open && open.shiftId === b.shiftId) {
        const folded = foldShift(open.openingCash, open.records);
        if (canonicalJson(folded) !== canonicalJson(b.z))
          add('g', `${t.id}: Z of shift ${open.shiftId} differs from its ledger records`);
      }
      open = undefined;
      continue;
    }
    if (open) open.records.push(r);
    else if (MONEY_RECORDS.has(r.type)) {
      const move = (channel: unknown, amount: unknown) =>
        outside.set(String(channel), (outside.get(String(channel)) ?? 0) + Number(amount));
      if (r.type === 'refund.completed')
        for (const p of (b.payments ?? []) as Array<Record<string, unknown>>)
          move(p.channel, -Number(p.amount));
      else if (r.type === 'sale.voided') move('cash', -Number(b.cashReturned ?? 0));
      else if (r.type === 'member.recharged') move(b.tender, b.amount);
      else if (r.type === 'member.recharge.failed') move(b.tender, -Number(b.amount));
      else if (r.type === 'payment.reversed') move(b.channel, b.wasCaptured === true ? -Number(b.amount) : 0);
      else move(b.channel, b.amount);
    }
  }
  for (const [channel, amount] of outside)
    if (amount !== 0) add('g', `${t.id}: ${amount} on ${channel} moved outside any shift (in no Z report)`);
}

/**
 * (e) points follow net sales: per member sale, one per yuan of what remains after its refunds
 * (floored on the net, not per refund); a voided sale earns none.
 */
function checkPoints(w: WorldView, add: Add): void {
  const expected = new Map<string, number>();
  for (const t of w.terminals) {
    const books = new Map<string, BookRecord>();
    for (const r of w.cloud.store.facts(TENANT, t.id)) books.set(r.id, r);
    const sales = new Map<string, { memberId: string; net: number }>();
    for (const r of books.values())
      if (r.type === 'sale.completed' && typeof r.body.memberId === 'string')
        sales.set(String(r.body.saleId), { memberId: r.body.memberId, net: Number(r.body.total) });
    for (const r of books.values()) {
      const sale = sales.get(String(r.body.saleId));
      if (!sale) continue;
      if (r.type === 'sale.voided') sale.net = 0;
      // An automatic refund of a QR paid after close gives back money the sale never needed.
      else if (r.type === 'refund.completed' && !r.body.automatic)
        sale.net = Math.max(0, sale.net - Number(r.body.total));
    }
    for (const { memberId, net } of sales.values())
      expected.set(memberId, (expected.get(memberId) ?? 0) + Math.floor(net / 100));
  }
  for (const m of MEMBERS) {
    const want = expected.get(m.memberId) ?? 0;
    const got = w.cloud.acquirer.memberPoints(m.code);
    if (got !== want) add('e', `member ${m.memberId}: ${got} points, net sales give ${want}`);
  }
}
