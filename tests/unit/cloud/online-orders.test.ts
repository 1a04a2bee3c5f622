import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudService } from '../../../cloud/cloud-service.js';
import { chainOf, GENESIS_CHAIN } from '../../../src/offline/chain.js';
import { tempDir } from '../../helpers/daemon.js';

const closers: Array<() => void> = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});
const { privateKey } = generateKeyPairSync('ed25519');

function cloud() {
  const c = new CloudService({
    brokerUrl: 'mqtt://unused',
    dbFile: join(tempDir('posd-cloud-'), 'cloud.db'),
    signingKey: privateKey,
  });
  closers.push(() => c.store.close());
  return c;
}

const order = (id: string, payment?: 'at-counter', pickupCode = 'A17') => ({
  id,
  source: 'mini-program',
  placedAt: '2026-12-05T09:00:00.000Z',
  lines: [{ name: '拿铁', qty: 1, unitPrice: 2_800 }],
  total: 2_800,
  currency: 'CNY',
  ...(payment ? { payment, pickupCode } : {}),
});

/** A device's ledger records, chained from seq 1. */
function chained(records: Array<{ type: string; body: Record<string, unknown> }>) {
  let prev = GENESIS_CHAIN;
  return records.map((x, i) => {
    const r = { seq: i + 1, id: `r${i + 1}`, type: x.type, at: '2026-12-05T10:00:00.000Z', body: x.body };
    prev = chainOf(prev, r);
    return { ...r, chain: prev };
  });
}

const lookup = (c: CloudService, device: string, pickupCode: string) =>
  c.handleRequest('t1', device, { reqId: 'q', op: 'orders.lookup', args: { pickupCode } });

describe('reference cloud: orders paid at the counter', () => {
  it('orders.lookup finds the at-counter order pushed to another terminal of the tenant, only unpaid', () => {
    const c = cloud();
    c.store.addOrder('t1', 'D1', order('o-pre'));
    c.store.addOrder('t1', 'D1', order('o-1', 'at-counter', 'A17'));
    c.store.addOrder('t2', 'X1', order('o-other', 'at-counter', 'B5'));
    expect(lookup(c, 'D2', 'A17')).toEqual({
      reqId: 'q',
      ok: true,
      result: { order: order('o-1', 'at-counter') },
    });
    expect(lookup(c, 'D2', 'B5')).toMatchObject({ ok: true, result: { order: null } }); // another tenant
    expect(lookup(c, 'D2', 'ZZ')).toMatchObject({ ok: true, result: { order: null } });
  });

  it('orders.lookup {orderId} (our reading) answers that order while unpaid, null once paid', () => {
    const c = cloud();
    c.store.addOrder('t1', 'D1', order('o-1', 'at-counter', 'A17'));
    c.store.addOrder('t1', 'D1', order('o-2', 'at-counter', 'A17'));
    c.store.addOrder('t1', 'D1', order('o-pre'));
    const byId = (orderId: string) =>
      c.handleRequest('t1', 'D2', { reqId: 'q', op: 'orders.lookup', args: { orderId, pickupCode: 'A17' } });
    expect(byId('o-1')).toMatchObject({ ok: true, result: { order: { id: 'o-1' } } });
    expect(byId('o-pre')).toMatchObject({ ok: true, result: { order: null } }); // prepaid
    const paid = chained([{ type: 'order.paid', body: { orderId: 'o-1', saleId: 's-1', total: 2_800 } }]);
    c.handleLedgerBatch('t1', 'D2', JSON.stringify({ epoch: 'E', records: paid }));
    expect(byId('o-1')).toMatchObject({ ok: true, result: { order: null } });
    // By code alone, the other unpaid order of that code is found; by id, never another order.
    expect(lookup(c, 'D2', 'A17')).toMatchObject({ result: { order: { id: 'o-2' } } });
    expect(byId('o-2')).toMatchObject({ result: { order: { id: 'o-2' } } });
  });

  it('marks an order paid from order.paid once (a replayed batch changes nothing); a void makes it payable again', () => {
    const c = cloud();
    c.store.addOrder('t1', 'D1', order('o-1', 'at-counter', 'A17'));
    const paid = chained([
      { type: 'sale.completed', body: { saleId: 's-1', total: 2_800, orderId: 'o-1' } },
      { type: 'order.paid', body: { orderId: 'o-1', saleId: 's-1', total: 2_800 } },
    ]);
    expect(c.handleLedgerBatch('t1', 'D2', JSON.stringify({ epoch: 'E', records: paid }))?.ackedUpTo).toBe(2);
    expect(c.orders.paid('t1', 'o-1')).toMatchObject({ saleId: 's-1', device: 'D2' });
    expect(lookup(c, 'D3', 'A17')).toMatchObject({ result: { order: null } });
    // Replayed: still paid by s-1, nothing counted twice.
    c.handleLedgerBatch('t1', 'D2', JSON.stringify({ epoch: 'E', records: paid }));
    expect(c.store.records('t1', 'D2').filter((r) => r.type === 'order.paid')).toHaveLength(1);
    const voided = chained([
      ...paid.map((r) => ({ type: r.type, body: r.body })),
      { type: 'sale.voided', body: { saleId: 's-1', total: 2_800 } },
    ]);
    c.handleLedgerBatch('t1', 'D2', JSON.stringify({ epoch: 'E', records: voided }));
    expect(c.orders.paid('t1', 'o-1')).toBeUndefined();
    expect(lookup(c, 'D3', 'A17')).toMatchObject({ result: { order: { id: 'o-1' } } });
    // A late replay of the voided sale's order.paid does not mark it paid again.
    c.handleLedgerBatch('t1', 'D2', JSON.stringify({ epoch: 'E', records: paid }));
    expect(c.orders.paid('t1', 'o-1')).toBeUndefined();
  });
});
