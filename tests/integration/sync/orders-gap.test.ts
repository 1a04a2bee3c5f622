import { describe, expect, it } from 'vitest';
import { cloudTerminals } from '../../helpers/cloud-terminals.js';
import { waitFor } from '../../helpers/wait.js';

// Issue 12, case 14: an order whose push was missed before a later push is still pulled.
const fx = cloudTerminals();

const order = (id: string) => ({
  id,
  source: 'meituan',
  placedAt: '2026-12-01T10:00:00.000Z',
  lines: [{ name: '宫保鸡丁', qty: 1, unitPrice: 3800 }],
  total: 3800,
  currency: 'CNY',
});

describe('online orders: gaps are pulled', () => {
  it('an order whose push never arrived is pulled when a later push shows the gap', async () => {
    const { api } = await fx.terminal('OG1', { online: false });
    const cloud = fx.cloud;
    const orderIds = async () => {
      const r = await api.call<{ orders: Array<{ orderId: string }> }>('GET', '/api/v1/orders');
      return r.body.orders.map((o) => o.orderId).sort();
    };
    await cloud.pushOrder('t1', 'OG1', order('first'));
    await waitFor(async () => ((await orderIds()).includes('first') ? true : undefined), 'the first order');
    // downSeq 2 is stored at the cloud but its push is lost; downSeq 3 is pushed.
    cloud.store.addOrder('t1', 'OG1', order('lost-push'));
    await cloud.pushOrder('t1', 'OG1', order('third'));
    await waitFor(
      async () => ((await orderIds()).length === 3 ? true : undefined),
      'the missed order pulled',
    );
    expect(await orderIds()).toEqual(['first', 'lost-push', 'third']);
  });
});
