import { describe, expect, it } from 'vitest';
import type { apiClient } from '../../helpers/api.js';
import { deviceLedger } from '../../helpers/cloud-fixture.js';
import { type Body, cloudTerminals, openSale } from '../../helpers/cloud-terminals.js';
import { TcpProxy } from '../../helpers/tcp-proxy.js';
import { waitFor } from '../../helpers/wait.js';

const fx = cloudTerminals();
const terminal = (device: string, online = true, brokerUrl?: string) =>
  fx.terminal(device, brokerUrl ? { online, brokerUrl } : { online });

async function saleStatus(api: ReturnType<typeof apiClient>, saleId: string) {
  return (
    await api.call<Body & { status: string; payments: Array<{ status: string; paymentId: string }> }>(
      'GET',
      `/api/v1/sales/${saleId}`,
    )
  ).body;
}

describe('the five money-loss cases, against the reference cloud', () => {
  it('(1) a code payment whose reply is lost, and a rescan: never charged twice', async () => {
    const t = await terminal('M1');
    const saleId = await openSale(t.api, 2_500);
    // Code ending 8: the acquirer charges, the reply never comes.
    const first = await t.api.call<Body>('POST', `/api/v1/sales/${saleId}/payments`, {
      method: 'code',
      authCode: '134567890123456788',
    });
    expect(first.status).toBe(202);
    const rescan = await t.api.call<Body>('POST', `/api/v1/sales/${saleId}/payments`, {
      method: 'code',
      authCode: '134567890123456781',
    });
    expect(rescan.status).toBe(409);
    expect(rescan.body.error?.code).toBe('PAYMENT_UNRESOLVED');
    await waitFor(
      async () => ((await saleStatus(t.api, saleId)).status === 'completed' ? true : undefined),
      'paid',
    );
    expect(fx.cloud.acquirer.netCaptured({ tenant: 't1', device: 'M1' })).toBe(2_500);
  });

  it('(2) a QR paid after the cashier switched to cash is reversed automatically', async () => {
    const t = await terminal('M2');
    const saleId = await openSale(t.api, 990);
    const qr = await t.api.call<Body>('POST', `/api/v1/sales/${saleId}/payments`, {
      method: 'qr',
      channel: 'wechat',
    });
    const paymentId = String(qr.body.paymentId);
    await waitFor(
      async () =>
        (await t.api.call<{ doc: { codeUrl?: string } }>('GET', `/api/v1/payments/${paymentId}`)).body.doc
          .codeUrl
          ? true
          : undefined,
      'QR shown',
    );
    const cancelled = await t.api.call<Body>('POST', `/api/v1/payments/${paymentId}/cancel`);
    expect(cancelled.body.status).toBe('closed');
    expect(
      (await t.api.call('POST', `/api/v1/sales/${saleId}/payments`, { method: 'cash', amount: 1_000 }))
        .status,
    ).toBe(201);
    // The customer pays the stale QR anyway; the acquirer tells the terminal.
    expect(fx.cloud.acquirer.customerPaysQr({ tenant: 't1', device: 'M2' }, paymentId)).toBe(true);
    await fx.cloud.notifyPayment('t1', 'M2', paymentId, 'SUCCESS');
    // A payment reversal, not a goods return: `payment.reversed`, never `refund.completed`.
    const ledger = await waitFor(async () => {
      const l = await deviceLedger(t.api);
      return l.some((r) => r.type === 'payment.reversed' && r.body.wasCaptured === true) ? l : undefined;
    }, 'automatic reversal recorded');
    expect(
      ledger.filter((r) => r.type === 'payment.reversed' && r.body.paymentId === paymentId),
    ).toHaveLength(1);
    expect(ledger.filter((r) => r.type === 'refund.completed')).toHaveLength(0);
    expect(fx.cloud.acquirer.payment({ tenant: 't1', device: 'M2' }, paymentId)?.refunded).toBe(990);
    expect(fx.cloud.acquirer.netCaptured({ tenant: 't1', device: 'M2' })).toBe(0);
    expect((await saleStatus(t.api, saleId)).status).toBe('completed');
  });

  it('(3) a refund retried after a lost reply refunds once', async () => {
    const t = await terminal('M3');
    const saleId = await openSale(t.api, 1_800);
    await t.api.call('POST', `/api/v1/sales/${saleId}/payments`, {
      method: 'code',
      authCode: '134567890123456780',
    });
    await waitFor(
      async () => ((await saleStatus(t.api, saleId)).status === 'completed' ? true : undefined),
      'paid',
    );
    fx.cloud.acquirer.dropReplies.set('refund.create', 2);
    const refund = await t.api.call<Body>('POST', `/api/v1/sales/${saleId}/refunds`, {
      lines: [{ lineNo: 1, qty: 1 }],
    });
    expect(refund.status).toBe(202);
    await waitFor(
      async () =>
        (await saleStatus(t.api, String(refund.body.refundId))).status === 'completed' ? true : undefined,
      'refund confirmed',
      20_000,
    );
    expect(fx.cloud.acquirer.netCaptured({ tenant: 't1', device: 'M3' })).toBe(0);
    expect(fx.cloud.acquirer.refunds({ tenant: 't1', device: 'M3' })).toHaveLength(1);
  });

  it('(4) a sync replay after a lost ack duplicates no sale, coupon or points in the cloud', async () => {
    const t = await terminal('M4');
    fx.cloud.acquirer.addCoupon('CP-REPLAY', { couponId: 'c-replay', kind: 'amount', value: 200 });
    fx.cloud.acquirer.addMember('MB-REPLAY-1', { memberId: 'm-replay', name: 'R', balance: 0, points: 0 });
    fx.cloud.dropAcks = 3;
    const saleId = await openSale(t.api, 1_000);
    expect(
      (await t.api.call('POST', `/api/v1/sales/${saleId}/member`, { memberId: 'm-replay' })).status,
    ).toBe(200);
    expect((await t.api.call('POST', `/api/v1/sales/${saleId}/coupon`, { code: 'CP-REPLAY' })).status).toBe(
      200,
    );
    expect(
      (await t.api.call('POST', `/api/v1/sales/${saleId}/payments`, { method: 'cash', amount: 800 })).status,
    ).toBe(201);
    // The cloud stored the records but its acks were lost; the device replays from seq 1.
    expect(await fx.cloud.pushCommand('t1', 'M4', 'ledger.resync', { fromSeq: 1 })).toMatchObject({
      ok: true,
    });
    await waitFor(
      async () => ((await deviceLedger(t.api)).every((r) => r.sync === 'synced') ? true : undefined),
      'synced after the replay',
      50_000, // lost acks are resent after a 10 s stall each; a loaded CI machine is slower
    );
    const stored = fx.cloud.store.records('t1', 'M4');
    expect(new Set(stored.map((r) => r.seq)).size).toBe(stored.length);
    expect(stored.filter((r) => r.type === 'sale.completed')).toHaveLength(1);
    expect(stored.filter((r) => r.type === 'coupon.redeemed')).toHaveLength(1);
    // Points come from sale records keyed by (device, epoch, seq): one sale of 8.00, 8 points, once.
    expect(fx.cloud.acquirer.memberPoints('MB-REPLAY-1')).toBe(8);
    expect(fx.cloud.store.kvGet<{ consumedBy: string }>('coupon', 'CP-REPLAY')?.consumedBy).toBe(
      stored.find((r) => r.type === 'coupon.redeemed')!.body.redemptionId,
    );
  });

  it('(5) two terminals selling offline never collide on receipt numbers', async () => {
    const link = new TcpProxy(fx.broker.port);
    await link.start();
    link.setRefusing(true); // both terminals are offline
    const a = await terminal('M5', false, `mqtt://127.0.0.1:${link.port}`);
    const b = await terminal('M6', false, `mqtt://127.0.0.1:${link.port}`);
    const numbers: string[] = [];
    for (let i = 0; i < 20; i++) {
      for (const t of [a, b]) {
        const r = await t.api.call<Body>('POST', '/api/v1/sales', {
          lines: [{ name: 'x', qty: 1, unitPrice: 100 }],
          tenders: [{ method: 'cash', amount: 100 }],
        });
        numbers.push(String(r.body.receiptNo));
      }
    }
    expect(new Set(numbers).size).toBe(40);
    link.setRefusing(false); // back online: both drain to the cloud
    await waitFor(
      () =>
        fx.cloud.store.records('t1', 'M5').filter((r) => r.type === 'sale.completed').length === 20 &&
        fx.cloud.store.records('t1', 'M6').filter((r) => r.type === 'sale.completed').length === 20
          ? true
          : undefined,
      'both synced',
      30_000,
    );
    const inCloud = ['M5', 'M6'].flatMap((d) =>
      fx.cloud.store
        .records('t1', d)
        .filter((r) => r.type === 'sale.completed')
        .map((r) => String(r.body.receiptNo)),
    );
    expect(new Set(inCloud).size).toBe(40);
    await link.stop();
  });
});
