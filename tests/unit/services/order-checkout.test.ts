import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/bus.js';
import { type BusinessConfig, DEFAULT_BUSINESS } from '../../../src/config/business.js';
import { classify } from '../../../src/drivers/scanner/classify.js';
import { SalesStore } from '../../../src/offline/sales-store.js';
import type { CloudPort, CloudReply } from '../../../src/services/cloud-port.js';
import { OrderCheckout } from '../../../src/services/order-checkout.js';
import { type OnlineOrder, OrderService, type TicketKind } from '../../../src/services/order-service.js';
import type { FakeAcquirer } from '../../helpers/fake-acquirer.js';
import { codeOf, paymentSetup, WECHAT } from '../../helpers/payment-setup.js';
import { silentLogger } from '../../helpers/test-log.js';

function atCounter(id: string, pickupCode = 'A17'): OnlineOrder {
  return {
    id,
    source: 'mini-program',
    placedAt: '2026-12-05T09:00:00.000Z',
    lines: [
      { sku: 'KB-1', name: '宫保鸡丁', qty: 1, unitPrice: 3_200 },
      { name: '米饭', qty: 2, unitPrice: 200 },
    ],
    total: 3_600,
    currency: 'CNY',
    payment: 'at-counter',
    pickupCode,
  };
}

/** A cloud that answers `orders.lookup` from its own list of orders (pushed to other terminals). */
function lookupCloud(
  elsewhere: OnlineOrder[],
  paidIds = new Set<string>(),
  online = { up: true },
): CloudPort & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    configured: true,
    isOnline: () => true,
    lastOnlineAt: () => new Date(),
    onOnline: () => () => {},
    request: async <T>(op: string, args: Record<string, unknown>): Promise<CloudReply<T>> => {
      asked.push(`${op} ${String(args.pickupCode)}`);
      if (!online.up) return { kind: 'unknown', reason: 'timeout' };
      const order =
        typeof args.orderId === 'string'
          ? paidIds.has(args.orderId)
            ? null
            : (elsewhere.find((o) => o.id === args.orderId) ?? null)
          : (elsewhere.find((o) => o.pickupCode === args.pickupCode && !paidIds.has(o.id)) ?? null);
      return { kind: 'ok', result: { order } as T };
    },
  };
}

function setup(
  options: {
    dir?: string;
    acquirer?: FakeAcquirer;
    expiry?: number;
    elsewhere?: OnlineOrder[];
    paidIds?: Set<string>;
    online?: { up: boolean };
  } = {},
) {
  const business: BusinessConfig = {
    ...DEFAULT_BUSINESS,
    orders: {
      ...DEFAULT_BUSINESS.orders,
      autoAcceptSeconds: 30,
      atCounterExpiryMinutes: options.expiry ?? 0,
    },
  };
  const p = paymentSetup(() => 'userpaying-then-success', options.dir, options.acquirer, business);
  const queued: Array<{ kind: TicketKind; id: string }> = [];
  const timers: number[] = [];
  const bus = new EventBus();
  const orders = new OrderService({
    db: p.db,
    ledger: p.ledger,
    bus,
    log: silentLogger(),
    business: () => business,
    tickets: { enqueueInTransaction: (kind, o) => queued.push({ kind, id: o.id }) },
    setTimer: (_fn, ms) => {
      timers.push(ms);
      return { cancel: () => {} };
    },
    now: p.acquirer.now,
  });
  const cloud = lookupCloud(options.elsewhere ?? [], options.paidIds, options.online);
  const checkout = new OrderCheckout({
    orders,
    sales: p.sales,
    store: new SalesStore(p.db),
    ledger: p.ledger,
    cloud,
    bus: p.bus,
    log: silentLogger(),
    business: () => business,
    now: p.acquirer.now,
  });
  const records = (type: string) => p.ledger.recordsAfter(0, 500).filter((r) => r.type === type);
  return { ...p, orders, checkout, queued, timers, cloud, records };
}

describe('online orders paid at the counter', () => {
  it('a scanned POSORDER QR is kind order; a payment code stays a payment', () => {
    const opts = { couponPrefixes: ['POS'], memberPrefixes: [] };
    expect(classify('POSORDER:o-1', opts)).toEqual({ code: 'POSORDER:o-1', kind: 'order' });
    expect(classify('POSORDER:', opts).kind).toBe('coupon');
    expect(classify(WECHAT('0'), opts).kind).toBe('payment');
    expect(OrderCheckout.orderIdOfScan('POSORDER:o-1')).toBe('o-1');
  });

  it('opens as a sale with the order lines and prices, paid by code: order.paid once, tickets printed', async () => {
    const t = setup();
    t.orders.receive(1, atCounter('o-1'));
    expect(t.timers).toEqual([]); // not auto-accepted: its tickets print when it is paid
    expect(t.orders.get('o-1')).toMatchObject({ status: 'received', payState: 'to-pay' });
    const sale = t.checkout.checkoutLocal('o-1');
    expect(sale).toMatchObject({ status: 'open', total: 3_600 });
    expect(sale.lines.map((l) => [l.name, l.qty, l.unitPrice])).toEqual([
      ['宫保鸡丁', 1, 3_200],
      ['米饭', 2, 200],
    ]);
    // A second tap (or a rescan) gets the same sale, not a second one.
    expect(t.checkout.checkoutLocal('o-1').saleId).toBe(sale.saleId);
    expect(t.orders.get('o-1')).toMatchObject({ payState: 'paying', saleId: sale.saleId });
    t.payments.startCode(sale.saleId, WECHAT('0'));
    await t.payments.idle();
    expect(t.sales.getSale(sale.saleId).status).toBe('completed');
    expect(t.orders.get('o-1')).toMatchObject({ status: 'accepted', payState: 'paid', saleId: sale.saleId });
    expect(t.records('order.paid').map((r) => r.body)).toEqual([
      { orderId: 'o-1', saleId: sale.saleId, total: 3_600 },
    ]);
    expect(t.records('sale.completed')[0]!.body).toMatchObject({ orderId: 'o-1', total: 3_600 });
    expect(t.records('order.accepted')[0]!.body).toEqual({ orderId: 'o-1', by: 'payment' });
    expect(t.queued).toEqual([
      { kind: 'kitchen', id: 'o-1' },
      { kind: 'customer', id: 'o-1' },
    ]);
  });

  it('paid on terminal B: A asks the cloud before opening it, records it paid and refuses', async () => {
    // The cloud's view: the order, and the ids its stored order.paid records mark paid.
    const paidIds = new Set<string>();
    const online = { up: true };
    const a = setup({ elsewhere: [atCounter('o-ab', 'P88')], paidIds, online });
    const b = setup({ elsewhere: [atCounter('o-ab', 'P88')], paidIds });
    a.orders.receive(1, atCounter('o-ab', 'P88'));
    const onB = (await b.checkout.findByPickupCode('P88'))[0]!;
    const saleB = await b.checkout.checkout(onB.orderId);
    b.sales.payCash(saleB.saleId, 5_000);
    for (const r of b.records('order.paid')) paidIds.add((r.body as { orderId: string }).orderId);
    expect(paidIds.has('o-ab')).toBe(true);
    expect(a.orders.get('o-ab').payState).toBe('to-pay');
    await expect(a.checkout.checkout('o-ab')).rejects.toMatchObject({ code: 'ORDER_ALREADY_PAID' });
    expect(a.orders.get('o-ab').payState).toBe('paid');
    expect(a.orders.unpaidAtCounter()).toEqual([]);
    expect(a.records('sale.opened')).toHaveLength(0);
    // Once recorded, refused offline too; and not cancellable as uncollected.
    online.up = false;
    await expect(a.checkout.checkout('o-ab')).rejects.toMatchObject({ code: 'ORDER_ALREADY_PAID' });
    expect(codeOf(() => a.checkout.cancel('o-ab', 'not collected'))).toBe('ORDER_ALREADY_PAID');
  });

  it('an open checkout on A is voided when the cloud says B took the money; no answer opens it', async () => {
    const paidIds = new Set<string>();
    const online = { up: false };
    const a = setup({ elsewhere: [atCounter('o-x', 'Q1')], paidIds, online });
    a.orders.receive(1, atCounter('o-x', 'Q1'));
    // The cloud does not answer: the customer is at this counter, the checkout opens.
    const sale = await a.checkout.checkout('o-x');
    expect(sale.status).toBe('open');
    expect(a.cloud.asked).toEqual(['orders.lookup Q1']);
    paidIds.add('o-x');
    online.up = true;
    await expect(a.checkout.checkout('o-x')).rejects.toMatchObject({ code: 'ORDER_ALREADY_PAID' });
    expect(a.sales.getSale(sale.saleId).status).toBe('voided');
    expect(a.orders.get('o-x').payState).toBe('paid');
    // The cloud later says payable again (B voided its sale): A may take it.
    paidIds.delete('o-x');
    const again = await a.checkout.checkout('o-x');
    expect(again.status).toBe('open');
    expect(a.orders.get('o-x').payState).toBe('paying');
  });

  it('a prepaid order is never charged at the counter', () => {
    const t = setup();
    const { payment: _p, pickupCode: _c, ...prepaid } = atCounter('o-2');
    t.orders.receive(1, prepaid);
    expect(t.orders.get('o-2').payState).toBeUndefined();
    expect(codeOf(() => t.checkout.checkoutLocal('o-2'))).toBe('ORDER_PREPAID');
    t.orders.receive(2, { ...atCounter('o-3'), payment: 'prepaid' });
    expect(codeOf(() => t.checkout.checkoutLocal('o-3'))).toBe('ORDER_PREPAID');
    expect(t.records('sale.completed')).toHaveLength(0);
  });

  it('is paid at most once: a paid order, a replayed push of it, and a re-priced sale are refused', async () => {
    const t = setup();
    t.orders.receive(1, atCounter('o-4'));
    const sale = t.checkout.checkoutLocal('o-4');
    expect(codeOf(() => t.sales.repriceOpenSale(sale.saleId, { amount: 100 }, {}))).toBe('ORDER_PRICED');
    t.sales.payCash(sale.saleId, 5_000);
    expect(codeOf(() => t.checkout.checkoutLocal('o-4'))).toBe('ORDER_ALREADY_PAID');
    expect(t.orders.receive(1, atCounter('o-4')).duplicate).toBe(true);
    expect(t.orders.receive(null, atCounter('o-4')).duplicate).toBe(true);
    expect(t.orders.get('o-4').payState).toBe('paid');
    expect(codeOf(() => t.checkout.checkoutLocal('o-4'))).toBe('ORDER_ALREADY_PAID');
    expect(codeOf(() => t.checkout.cancel('o-4', 'changed mind'))).toBe('ORDER_ALREADY_PAID');
    expect(t.records('order.paid')).toHaveLength(1);
  });

  it('a void of the paying sale puts the order back to "to pay"; it is then paid by a new sale', () => {
    const t = setup();
    t.orders.receive(1, atCounter('o-5'));
    const first = t.checkout.checkoutLocal('o-5');
    t.sales.payCash(first.saleId, 3_600);
    t.sales.voidSale(first.saleId, 'wrong order');
    expect(t.orders.get('o-5').payState).toBe('to-pay');
    const second = t.checkout.checkoutLocal('o-5');
    expect(second.saleId).not.toBe(first.saleId);
    t.sales.payCash(second.saleId, 3_600);
    expect(t.orders.get('o-5')).toMatchObject({ payState: 'paid', saleId: second.saleId });
    expect(t.records('order.paid').map((r) => r.body.saleId)).toEqual([first.saleId, second.saleId]);
    // Tickets printed once, at the first payment.
    expect(t.queued).toHaveLength(2);
  });

  it('a restart mid-payment resolves to one payment and one order.paid', async () => {
    const t = setup();
    t.orders.receive(1, atCounter('o-6'));
    const sale = t.checkout.checkoutLocal('o-6');
    const { paymentId } = t.payments.startCode(sale.saleId, WECHAT('0'));
    await t.payments.stop(); // the daemon dies with the payment in flight
    t.acquirer.orders.get(paymentId)!.status = 'SUCCESS';
    t.db.close();
    const again = setup({ dir: t.dir, acquirer: t.acquirer });
    // The cashier taps the order again: the same sale, still paying, and no second code accepted.
    expect(again.checkout.checkoutLocal('o-6').saleId).toBe(sale.saleId);
    expect(codeOf(() => again.payments.startCode(sale.saleId, WECHAT('1')))).toBe('PAYMENT_UNRESOLVED');
    again.payments.resumeUnresolved();
    await again.payments.idle();
    expect(again.orders.get('o-6').payState).toBe('paid');
    expect(again.records('order.paid')).toHaveLength(1);
    expect([...again.acquirer.orders.values()].filter((o) => o.status === 'SUCCESS')).toHaveLength(1);
    expect(codeOf(() => again.checkout.checkoutLocal('o-6'))).toBe('ORDER_ALREADY_PAID');
  });

  it('the cashier cancels an order never collected (order.rejected, cancelled); not one with money in flight', () => {
    const t = setup();
    t.orders.receive(1, atCounter('o-7'));
    const sale = t.checkout.checkoutLocal('o-7');
    expect(t.checkout.cancel('o-7', 'not collected')).toMatchObject({
      status: 'rejected',
      payState: 'cancelled',
    });
    expect(t.sales.getSale(sale.saleId).status).toBe('voided');
    expect(t.records('order.rejected').map((r) => r.body)).toEqual([
      { orderId: 'o-7', reason: 'not collected', cancelled: true, by: 'cashier' },
    ]);
    expect(codeOf(() => t.checkout.checkoutLocal('o-7'))).toBe('ORDER_CANCELLED');

    t.orders.receive(2, atCounter('o-8', 'B2'));
    const paying = t.checkout.checkoutLocal('o-8');
    t.payments.startCode(paying.saleId, WECHAT('0'));
    expect(codeOf(() => t.checkout.cancel('o-8', 'gone'))).toBe('ORDER_IN_PAYMENT');
  });

  it('expires per orders.atCounterExpiryMinutes, but not an order being paid', () => {
    const t = setup({ expiry: 30 });
    t.orders.receive(1, atCounter('o-9'));
    t.orders.receive(2, atCounter('o-10', 'B3'));
    t.checkout.checkoutLocal('o-10');
    expect(t.checkout.expireOld()).toEqual([]);
    t.acquirer.clock += 31 * 60_000;
    expect(t.checkout.expireOld()).toEqual(['o-9']);
    expect(t.orders.get('o-9').payState).toBe('cancelled');
    expect(t.orders.get('o-10').payState).toBe('paying');
    expect(t.records('order.rejected')[0]!.body).toMatchObject({
      orderId: 'o-9',
      reason: 'expired',
      by: 'expiry',
    });
  });

  it('finds by pickup code locally, else asks the cloud for the order pushed to another terminal', async () => {
    const t = setup({ elsewhere: [atCounter('o-11', 'C9')] });
    t.orders.receive(1, atCounter('o-12', 'C1'));
    expect((await t.checkout.findByPickupCode('C1')).map((o) => o.orderId)).toEqual(['o-12']);
    expect(t.cloud.asked).toEqual([]);
    const found = await t.checkout.findByPickupCode('C9');
    expect(found.map((o) => [o.orderId, o.payState])).toEqual([['o-11', 'to-pay']]);
    expect(t.cloud.asked).toEqual(['orders.lookup C9']);
    expect(await t.checkout.findByPickupCode('ZZ')).toEqual([]);
    expect(t.checkout.checkoutLocal('o-11').total).toBe(3_600);
  });
});
