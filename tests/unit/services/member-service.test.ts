import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/bus.js';
import { DEFAULT_BUSINESS } from '../../../src/config/business.js';
import { isPosError } from '../../../src/errors.js';
import { openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { SalesStore } from '../../../src/offline/sales-store.js';
import { ShiftStore } from '../../../src/offline/shift-store.js';
import { MemberService } from '../../../src/services/member-service.js';
import { SaleService } from '../../../src/services/sale-service.js';
import { ShiftService } from '../../../src/services/shift-service.js';
import { tempDir } from '../../helpers/daemon.js';
import { FakeAcquirer } from '../../helpers/fake-acquirer.js';
import { silentLogger } from '../../helpers/test-log.js';

function setup() {
  const dir = tempDir();
  const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
  const acquirer = new FakeAcquirer();
  acquirer.members.set('MB0001', { memberId: 'm-1', name: '张三', balance: 0, points: 10 });
  const ledger = new Ledger({ db, dir, now: acquirer.now });
  const bus = new EventBus();
  const shifts = new ShiftService({ ledger, store: new ShiftStore(db), bus, now: acquirer.now });
  const sales = new SaleService({
    ledger,
    store: new SalesStore(db),
    shifts,
    bus,
    deviceId: 'D1',
    now: acquirer.now,
  });
  const sleeps: number[] = [];
  const members = new MemberService({
    db,
    ledger,
    store: new SalesStore(db),
    shifts,
    cloud: acquirer,
    bus,
    log: silentLogger(),
    business: () => DEFAULT_BUSINESS,
    sleep: async (ms) => {
      sleeps.push(ms);
      await acquirer.sleep(ms);
    },
    now: acquirer.now,
  });
  const records = (type: string) => ledger.recordsAfter(0, 1000).filter((r) => r.type === type);
  return { acquirer, ledger, sales, shifts, members, bus, sleeps, records };
}

describe('membership', () => {
  it('looks a member up and carries the member on the completed sale', async () => {
    const t = setup();
    const m = await t.members.lookup('MB0001');
    expect(m).toMatchObject({ memberId: 'm-1', points: 10 });
    const saleId = String(t.sales.createSale({ lines: [{ name: 'x', qty: 1, unitPrice: 800 }] }).body.saleId);
    t.sales.setMember(saleId, m.memberId);
    t.sales.payCash(saleId, 800);
    const done = t.ledger.recordsAfter(0, 10).find((r) => r.type === 'sale.completed')!;
    expect(done.body.memberId).toBe('m-1');
    try {
      await t.members.lookup('MB9999');
      throw new Error('found a member that does not exist');
    } catch (err) {
      expect(isPosError(err, 'NOT_FOUND')).toBe(true);
    }
  });

  it('a recharge is a liability: cash in the drawer, no sale, sent once however often the reply is lost', async () => {
    const t = setup();
    t.shifts.open(0);
    t.acquirer.loseReplies.set('member.recharge', 1);
    const first = await t.members.recharge('m-1', 10_000);
    expect(first).toMatchObject({ status: 202, body: { status: 'pending' } });
    const { rechargeId } = first.body;
    await t.members.sendPending();
    expect(t.members.status(rechargeId).status).toBe('confirmed');
    expect(t.acquirer.recharges.size).toBe(1);
    expect(t.acquirer.members.get('MB0001')!.balance).toBe(10_000);
    const x = t.shifts.currentReport();
    expect(x.totals.recharges).toEqual({ count: 1, amount: 10_000 });
    expect(x.totals.sales.amount).toBe(0);
    expect(x.totals.expectedCash).toBe(10_000);
  });
});

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return isPosError(err) ? err.code : String(err);
  }
  return undefined;
}

describe('member recharge under faults (issue 12, case 9)', () => {
  it('a retried POST with the same Idempotency-Key credits once and answers the same recharge', async () => {
    const t = setup();
    const a = await t.members.recharge('m-1', 5_000, 'key-1');
    const b = await t.members.recharge('m-1', 5_000, 'key-1');
    expect(a).toMatchObject({ status: 201, body: { status: 'confirmed' } });
    expect(b.body.rechargeId).toBe(a.body.rechargeId);
    expect(t.acquirer.members.get('MB0001')!.balance).toBe(5_000);
    expect(t.records('member.recharged')).toHaveLength(1);
    expect(await codeOf(t.members.recharge('m-1', 6_000, 'key-1'))).toBe('IDEMPOTENCY_MISMATCH');
  });

  it('offline a recharge is refused with a code and nothing is recorded', async () => {
    const t = setup();
    t.acquirer.online = false;
    expect(await codeOf(t.members.recharge('m-anyone', 5_000))).toBe('RECHARGE_OFFLINE');
    expect(t.records('member.recharged')).toHaveLength(0);
  });

  it('a cloud refusal is recorded (member.recharge.failed), announced, answered with a code, and the cash is handed back', async () => {
    const t = setup();
    t.shifts.open(0);
    const events: unknown[] = [];
    t.bus.on('member.recharge', (e) => events.push(e.data));
    expect(await codeOf(t.members.recharge('m-nobody', 5_000, 'k'))).toBe('RECHARGE_REFUSED');
    expect(t.records('member.recharge.failed').map((r) => r.body)).toMatchObject([
      { memberId: 'm-nobody', amount: 5_000, code: 'MEMBER_UNKNOWN', tender: 'cash' },
    ]);
    expect(events).toMatchObject([{ memberId: 'm-nobody', status: 'failed' }]);
    expect(t.acquirer.recharges.size).toBe(0);
    // The retry of the same POST gets the same answer, and records nothing more.
    expect(await codeOf(t.members.recharge('m-nobody', 5_000, 'k'))).toBe('RECHARGE_REFUSED');
    expect(t.records('member.recharge.failed')).toHaveLength(1);
    const x = t.shifts.currentReport();
    expect(x.totals.recharges).toEqual({ count: 0, amount: 0 });
    expect(x.totals.expectedCash).toBe(0);
  });

  it('an unanswered recharge is retried while online, with backoff through the Sleep port, same rechargeId', async () => {
    const t = setup();
    t.acquirer.loseReplies.set('member.recharge', 3);
    const confirmed = new Promise((resolve) =>
      t.bus.on('member.recharge', (e) => {
        if (e.data.status === 'confirmed') resolve(e.data);
      }),
    );
    const first = await t.members.recharge('m-1', 2_000);
    expect(first.status).toBe(202);
    await confirmed;
    const sent = t.acquirer.calls.filter((c) => c.op === 'member.recharge');
    expect(sent).toHaveLength(4);
    expect(new Set(sent.map((c) => c.args.rechargeId))).toEqual(new Set([first.body.rechargeId]));
    expect(t.sleeps).toEqual([1_000, 2_000, 4_000]);
    expect(t.acquirer.members.get('MB0001')!.balance).toBe(2_000);
  });
});
