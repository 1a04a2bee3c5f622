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
  const members = new MemberService({
    db,
    ledger,
    shifts,
    cloud: acquirer,
    log: silentLogger(),
    business: () => DEFAULT_BUSINESS,
    now: acquirer.now,
  });
  return { acquirer, ledger, sales, shifts, members };
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
    const { rechargeId } = t.members.recharge('m-1', 10_000);
    await new Promise((r) => setImmediate(r));
    expect(t.members.status(rechargeId).status).toBe('pending');
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
