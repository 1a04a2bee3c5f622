import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/bus.js';
import { type BusinessConfig, DEFAULT_BUSINESS } from '../../../src/config/business.js';
import { isPosError } from '../../../src/errors.js';
import { openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { type OnlineOrder, OrderService, type TicketKind } from '../../../src/services/order-service.js';
import { tempDir } from '../../helpers/daemon.js';
import { silentLogger } from '../../helpers/test-log.js';

function order(id: string): OnlineOrder {
  return {
    id,
    source: 'meituan',
    placedAt: '2026-11-24T10:00:00.000Z',
    lines: [{ name: '宫保鸡丁', qty: 1, unitPrice: 3800 }],
    total: 3800,
    currency: 'CNY',
    note: '少辣',
  };
}

function setup(autoAcceptSeconds = 0, dir = tempDir()) {
  const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
  const ledger = new Ledger({ db, dir });
  const business: BusinessConfig = {
    ...DEFAULT_BUSINESS,
    orders: { ...DEFAULT_BUSINESS.orders, autoAcceptSeconds },
  };
  const queued: Array<{ kind: TicketKind; id: string; reprint: boolean }> = [];
  const printed: Array<{ kind: TicketKind; id: string; reprint: boolean }> = [];
  const timers: Array<{ fn: () => void; ms: number; cancelled: boolean }> = [];
  const orders: OrderService = new OrderService({
    db,
    ledger,
    bus: new EventBus(),
    log: silentLogger(),
    business: () => business,
    tickets: {
      enqueueInTransaction: (kind, o, reprint) => {
        expect(db.inTransaction).toBe(true);
        queued.push({ kind, id: o.id, reprint });
      },
    },
    setTimer: (fn, ms) => {
      const t = { fn, ms, cancelled: false };
      timers.push(t);
      return { cancel: () => (t.cancelled = true) };
    },
  });
  /** The printer confirms the next `n` queued tickets, as the print queue would. */
  const printNext = (n = queued.length) => {
    for (const t of queued.splice(0, n)) {
      ledger.transact(() => orders.ticketPrintedInTransaction(t.id, t.kind, t.reprint));
      printed.push(t);
    }
  };
  return { db, dir, ledger, orders, queued, printed, timers, printNext };
}

const types = (ledger: Ledger) => ledger.recordsAfter(0, 100).map((r) => r.type);

describe('online orders', () => {
  it('dedupes on order id across push and pull, and tracks the contiguous downSeq', () => {
    const t = setup();
    expect(t.orders.receive(1, order('o-1')).duplicate).toBe(false);
    expect(t.orders.receive(1, order('o-1')).duplicate).toBe(true);
    expect(t.orders.receive(null, order('o-1')).duplicate).toBe(true);
    expect(t.orders.receive(2, order('o-2')).duplicate).toBe(false);
    expect(t.orders.lastDownSeq()).toBe(2);
    expect(types(t.ledger)).toEqual(['order.received', 'order.received']);
  });

  it('an order missed before a later push keeps the watermark below it, so a pull fills the gap', () => {
    const t = setup();
    t.orders.receive(1, order('o-1'));
    t.orders.receive(3, order('o-3')); // 2 was missed
    t.orders.receive(5, order('o-5'));
    expect(t.orders.lastDownSeq()).toBe(1);
    // The pull from 1 brings 2..5 again: 3 and 5 are deduped on order.id, 2 is new.
    expect(t.orders.receive(2, order('o-2')).duplicate).toBe(false);
    expect(t.orders.receive(3, order('o-3')).duplicate).toBe(true);
    expect(t.orders.lastDownSeq()).toBe(3);
    expect(t.orders.receive(5, order('o-5')).duplicate).toBe(true);
    // The cloud answered up to 5 without a 4: there is none, the watermark passes it.
    t.orders.pulled(1, 5);
    expect(t.orders.lastDownSeq()).toBe(5);
    expect(
      t.orders
        .list()
        .map((o) => o.orderId)
        .sort(),
    ).toEqual(['o-1', 'o-2', 'o-3', 'o-5']);
    // It survives a restart.
    t.db.close();
    expect(setup(0, t.dir).orders.lastDownSeq()).toBe(5);
  });

  it('refuses a malformed order without recording anything', () => {
    const t = setup();
    for (const bad of [{}, { ...order('x'), total: -1 }, { ...order('x'), lines: [] }, 'nope', null]) {
      try {
        t.orders.receive(1, bad);
        throw new Error('accepted a malformed order');
      } catch (err) {
        expect(isPosError(err, 'VALIDATION_FAILED')).toBe(true);
      }
    }
    expect(t.ledger.lastSeq()).toBe(0);
  });

  it('accept queues kitchen and customer tickets with the acceptance; each printed one is recorded', async () => {
    const t = setup();
    t.orders.receive(1, order('o-1'));
    const v = await t.orders.accept('o-1');
    expect(v.status).toBe('accepted');
    expect(t.queued.map((q) => q.kind)).toEqual(['kitchen', 'customer']);
    expect(types(t.ledger)).toEqual(['order.received', 'order.accepted']);
    t.printNext();
    expect(t.orders.get('o-1').printed).toEqual(['kitchen', 'customer']);
    expect(types(t.ledger)).toEqual(['order.received', 'order.accepted', 'order.printed', 'order.printed']);
    await t.orders.accept('o-1'); // a second tap queues nothing twice
    expect(t.queued).toHaveLength(0);
  });

  it('a ticket still waiting for the printer is not recorded printed; reprint queues marked copies', async () => {
    const t = setup();
    t.orders.receive(1, order('o-1'));
    await t.orders.accept('o-1');
    t.printNext(1);
    expect(t.orders.get('o-1').printed).toEqual(['kitchen']);
    const again = t.orders.reprint('o-1');
    expect(again.status).toBe('accepted');
    expect(t.queued.map((q) => [q.kind, q.reprint])).toEqual([
      ['customer', false],
      ['kitchen', true],
      ['customer', true],
    ]);
    t.printNext();
    expect(t.orders.get('o-1').printed).toEqual(['kitchen', 'customer']);
    const reprinted = t.ledger
      .recordsAfter(0, 100)
      .filter((r) => r.type === 'order.printed' && r.body.reprint === true);
    expect(reprinted).toHaveLength(2);
  });

  it('only an accepted order reprints', () => {
    const t = setup();
    t.orders.receive(1, order('o-1'));
    expect(() => t.orders.reprint('o-1')).toThrow(/only an accepted order/);
    expect(t.queued).toHaveLength(0);
  });

  it('auto-accepts after the configured seconds, and re-arms the timer after a restart', async () => {
    const t = setup(30);
    t.orders.receive(1, order('o-1'));
    expect(t.timers[0]!.ms).toBe(30_000);
    t.db.close();
    const again = setup(30, t.dir);
    again.orders.start();
    expect(again.timers).toHaveLength(1);
    again.timers[0]!.fn();
    await new Promise((r) => setImmediate(r));
    expect(again.orders.get('o-1').status).toBe('accepted');
    expect(again.ledger.recordsAfter(0, 10).find((r) => r.type === 'order.accepted')!.body).toMatchObject({
      by: 'auto',
    });
  });

  it('reject records the reason and cancels auto-accept', () => {
    const t = setup(30);
    t.orders.receive(1, order('o-1'));
    expect(t.orders.reject('o-1', 'sold out').rejectReason).toBe('sold out');
    expect(t.timers[0]!.cancelled).toBe(true);
    expect(types(t.ledger)).toEqual(['order.received', 'order.rejected']);
  });
});
