import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '../../../cloud/cloud-service.js';
import { PrinterSim } from '../../../src/drivers/sim/printer-sim.js';
import { apiClient } from '../../helpers/api.js';
import { cloudKeys, deviceLedger, expectCloudMatches, startCloud } from '../../helpers/cloud-fixture.js';
import { type DaemonProcess, spawnPosd, waitHealthy, writeTestConfig } from '../../helpers/daemon.js';
import { deliveryOrder, FAST_PAYMENTS } from '../../helpers/money-fixtures.js';
import { Mosquitto } from '../../helpers/mosquitto.js';
import { silentLogger } from '../../helpers/test-log.js';
import { waitFor } from '../../helpers/wait.js';
import { ARTIFACTS } from '../printer/helpers/zbar.js';

/*
 * Each money flow end to end through the local API, as the cashier's screen drives it:
 * sale → payment → ledger → printed receipt (a simulated printer on a real TCP socket) → synced
 * to the reference cloud over a real mosquitto broker.
 */

const FAST = FAST_PAYMENTS;
const DEVICE = 'E2E1';
const broker = new Mosquitto();
const keys = cloudKeys();
let cloud: CloudService;
let sim: PrinterSim;
let daemon: DaemonProcess;
let api: ReturnType<typeof apiClient>;

type Body = Record<string, unknown> & { error?: { code: string } };
type Sale = Body & {
  saleId: string;
  status: string;
  receiptNo?: string;
  total: number;
  change: number;
  payments: Array<{ paymentId: string; status: string; channel: string; amount: number }>;
};

const paperText = (needle: string) =>
  sim.receipts.filter((r) => r.lines.some((l) => l.includes(needle))).map((r) => r.lines.join('\n'));

async function sale(saleId: string): Promise<Sale> {
  return (await api.call<Sale>('GET', `/api/v1/sales/${saleId}`)).body;
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  return waitFor(probe, what, 20_000);
}

/** The record of `type` whose body has `field` = `value`, once the cloud acknowledged it. */
async function syncedRecord(type: string, field: string, value: string) {
  return until(`${type} synced`, async () => {
    const r = (await deviceLedger(api)).find((x) => x.type === type && x.body[field] === value);
    if (r?.sync !== 'synced') return undefined;
    const inCloud = cloud.store.records('t1', DEVICE).find((x) => x.seq === r.seq);
    return inCloud ? r : undefined;
  });
}

beforeAll(async () => {
  await broker.start();
  cloud = await startCloud(broker.url, keys.privateKey);
  sim = new PrinterSim({ paperWidth: 80, log: silentLogger(), outDir: `${ARTIFACTS}/flows` });
  const simPort = await sim.listen();
  const cfg = await writeTestConfig({
    device: { tenant: 't1', id: DEVICE },
    mqtt: { url: broker.url, reconnectMinMs: 100, reconnectMaxMs: 300 },
    cloud: { publicKey: keys.publicPem },
    printer: { uri: `tcp://127.0.0.1:${simPort}`, paperWidth: 80 },
  });
  daemon = spawnPosd(['run', '--config', cfg.file]);
  await waitHealthy(cfg.port);
  api = apiClient(cfg.port, cfg.stateDir);
  await cloud.pushConfig('t1', DEVICE, 1, {
    merchant: { name: '静安便利店', receiptFooter: '谢谢惠顾' },
    payments: FAST,
    receipt: { qrUrlTemplate: 'https://r.example.cn/{device}/{receiptNo}' },
    orders: { autoAcceptSeconds: 0, printKitchenTicket: true, printCustomerTicket: true },
    coupons: {
      issueRules: [
        { ruleId: 'back10', kind: 'amount', value: 1_000, minSpend: 5_000, validDays: 30, afterSpend: 8_000 },
      ],
    },
  });
  await until('config applied', async () =>
    (await deviceLedger(api)).some((r) => r.type === 'config.applied') ? true : undefined,
  );
}, 60_000);

afterAll(async () => {
  daemon?.child.kill('SIGTERM');
  await daemon?.exited;
  await cloud?.stop();
  await broker.stop();
  await sim?.close();
});

describe('money flows end to end: local API → ledger → paper → cloud', () => {
  it('cash: completed in one call, receipt with change and the receipt QR, sale synced', async () => {
    const r = await api.call<Sale>('POST', '/api/v1/sales', {
      lines: [{ sku: '6901', name: '可口可乐', qty: 2, unitPrice: 350 }],
      tenders: [{ method: 'cash', amount: 1000 }],
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: 'completed', total: 700, change: 300 });
    const receiptNo = r.body.receiptNo!;
    const [text] = await until('receipt', () =>
      paperText(receiptNo).length ? paperText(receiptNo) : undefined,
    );
    expect(text).toContain('静安便利店');
    expect(text).toContain('可口可乐');
    expect(text).toContain('3.00');
    expect(text).toContain('谢谢惠顾');
    const printed = sim.receipts.find((x) => x.lines.some((l) => l.includes(receiptNo)))!;
    expect(printed.qr).toEqual([`https://r.example.cn/${DEVICE}/${receiptNo}`]);
    const record = await syncedRecord('sale.completed', 'saleId', r.body.saleId);
    expect(record.body).toMatchObject({ receiptNo, total: 700 });
  });

  it('payment code, USERPAYING then SUCCESS: paid only on SUCCESS, one receipt, captured once, synced', async () => {
    const open = await api.call<Sale>('POST', '/api/v1/sales', {
      lines: [{ name: '咖啡', qty: 1, unitPrice: 1_800 }],
    });
    const pay = await api.call<Body>('POST', `/api/v1/sales/${open.body.saleId}/payments`, {
      method: 'code',
      authCode: '134567890123456785',
    });
    expect(pay.status).toBe(202);
    expect(paperText(open.body.saleId)).toHaveLength(0);
    const done = await until('paid', async () => {
      const s = await sale(open.body.saleId);
      return s.status === 'completed' ? s : undefined;
    });
    expect(done.payments.filter((p) => p.status === 'succeeded')).toHaveLength(1);
    await until('receipt', () => (paperText(done.receiptNo!).length ? true : undefined));
    expect(paperText(done.receiptNo!)[0]).toContain('微信支付');
    expect(cloud.acquirer.netCaptured({ tenant: 't1', device: DEVICE })).toBeGreaterThanOrEqual(1_800);
    await syncedRecord('sale.completed', 'saleId', open.body.saleId);
  });

  it('dynamic QR then a recorded bank card: QR paid by the customer, card for the rest, one receipt, synced', async () => {
    const open = await api.call<Sale>('POST', '/api/v1/sales', {
      lines: [{ name: '月饼礼盒', qty: 1, unitPrice: 1_500 }],
    });
    const saleId = open.body.saleId;
    const qr = await api.call<Body & { paymentId: string }>('POST', `/api/v1/sales/${saleId}/payments`, {
      method: 'qr',
      channel: 'wechat',
    });
    expect(qr.status).toBe(202);
    await until('QR code URL', async () => {
      const p = await api.call<{ doc: { codeUrl?: string } }>('GET', `/api/v1/payments/${qr.body.paymentId}`);
      return p.body.doc.codeUrl ? true : undefined;
    });
    expect(cloud.acquirer.customerPaysQr({ tenant: 't1', device: DEVICE }, qr.body.paymentId)).toBe(true);
    const done = await until('paid by QR', async () => {
      const s = await sale(saleId);
      return s.status === 'completed' ? s : undefined;
    });
    expect(done.payments).toEqual([expect.objectContaining({ channel: 'wechat', status: 'succeeded' })]);
    const [text] = await until('receipt', () =>
      paperText(done.receiptNo!).length ? paperText(done.receiptNo!) : undefined,
    );
    expect(text).toContain('微信支付');
    await syncedRecord('sale.completed', 'saleId', saleId);

    const card = await api.call<Sale>('POST', '/api/v1/sales', {
      lines: [{ name: '茶叶', qty: 1, unitPrice: 2_600 }],
    });
    const paid = await api.call<Body>('POST', `/api/v1/sales/${card.body.saleId}/payments`, {
      method: 'card',
      amount: 2_600,
      reference: 'POS-778812',
    });
    expect(paid.status).toBe(201);
    const cardSale = await sale(card.body.saleId);
    expect(cardSale.status).toBe('completed');
    const slip = await until('card receipt', () =>
      paperText(cardSale.receiptNo!).length ? paperText(cardSale.receiptNo!)[0] : undefined,
    );
    expect(slip).toContain('银行卡');
    await syncedRecord('sale.completed', 'saleId', card.body.saleId);
  });

  it('split tender, cash then code: change only from cash, both tenders on one receipt, refund to the code', async () => {
    const open = await api.call<Sale>('POST', '/api/v1/sales', {
      lines: [
        { name: '牛奶', qty: 2, unitPrice: 1_000 },
        { name: '面包', qty: 1, unitPrice: 1_000 },
      ],
    });
    const saleId = open.body.saleId;
    const cash = await api.call<Body>('POST', `/api/v1/sales/${saleId}/payments`, {
      method: 'cash',
      amount: 1_000,
    });
    expect(cash.status).toBe(201);
    const code = await api.call<Body>('POST', `/api/v1/sales/${saleId}/payments`, {
      method: 'code',
      authCode: '284567890123456781',
    });
    expect(code.status).toBe(202);
    const done = await until('paid', async () => {
      const s = await sale(saleId);
      return s.status === 'completed' ? s : undefined;
    });
    expect(done.change).toBe(0);
    const [text] = await until('receipt', () =>
      paperText(done.receiptNo!).length ? paperText(done.receiptNo!) : undefined,
    );
    expect(text).toContain('现金');
    expect(text).toContain('支付宝');
    const capturedBefore = cloud.acquirer.netCaptured({ tenant: 't1', device: DEVICE });

    // Refund the two milk: 20.00 goes back to the original channels, none of it as change.
    const refund = await api.call<Body & { refundId: string }>('POST', `/api/v1/sales/${saleId}/refunds`, {
      lines: [{ lineNo: 1, qty: 2 }],
      reason: '过期',
    });
    expect(refund.status).toBeLessThan(300);
    const refunded = await until('refund completed', async () => {
      const s = await sale(refund.body.refundId);
      return s.status === 'completed' ? s : undefined;
    });
    expect(refunded.total).toBe(2_000);
    const slip = await until('refund slip', () =>
      paperText(refunded.receiptNo!).length ? paperText(refunded.receiptNo!)[0] : undefined,
    );
    expect(slip).toContain('退货小票');
    expect(slip).toContain(done.receiptNo!);
    const electronic = refunded.payments
      .filter((p) => p.channel !== 'cash')
      .reduce((s, p) => s + p.amount, 0);
    expect(cloud.acquirer.netCaptured({ tenant: 't1', device: DEVICE })).toBe(capturedBefore - electronic);
    await syncedRecord('refund.completed', 'refundId', refund.body.refundId);
  });

  it('member stored value: paid from the balance, refund credits it back, a short balance fails and leaves the sale open', async () => {
    const card = 'MB20260001';
    cloud.acquirer.addMember(card, { memberId: 'm-1', name: '李雷', balance: 5_000, points: 0 });
    const open = await api.call<Sale>('POST', '/api/v1/sales', {
      lines: [{ name: '蛋糕', qty: 1, unitPrice: 1_800 }],
    });
    const onSale = await api.call<Body>('POST', `/api/v1/sales/${open.body.saleId}/member`, {
      memberId: 'm-1',
    });
    expect(onSale.status).toBe(200);
    const pay = await api.call<Body>('POST', `/api/v1/sales/${open.body.saleId}/payments`, {
      method: 'member',
      memberCode: card,
    });
    expect(pay.status).toBe(202);
    const done = await until('paid from balance', async () => {
      const s = await sale(open.body.saleId);
      return s.status === 'completed' ? s : undefined;
    });
    expect(done.payments[0]).toMatchObject({ channel: 'member', amount: 1_800, status: 'succeeded' });
    expect(cloud.acquirer.memberBalance(card)).toBe(3_200);
    const [text] = await until('receipt', () =>
      paperText(done.receiptNo!).length ? paperText(done.receiptNo!) : undefined,
    );
    expect(text).toContain('会员储值');
    await syncedRecord('sale.completed', 'saleId', open.body.saleId);
    expect(cloud.acquirer.memberPoints(card)).toBe(18); // a point a yuan, from the synced sale

    const refund = await api.call<Body & { refundId: string }>(
      'POST',
      `/api/v1/sales/${open.body.saleId}/refunds`,
      {
        lines: [{ lineNo: 1, qty: 1 }],
      },
    );
    expect(refund.status).toBeLessThan(300);
    await until('refund completed', async () =>
      (await sale(refund.body.refundId)).status === 'completed' ? true : undefined,
    );
    expect(cloud.acquirer.memberBalance(card)).toBe(5_000);
    await syncedRecord('refund.completed', 'refundId', refund.body.refundId);
    expect(cloud.acquirer.memberPoints(card)).toBe(0); // the refund takes them back

    const big = await api.call<Sale>('POST', '/api/v1/sales', {
      lines: [{ name: '礼盒', qty: 1, unitPrice: 9_000 }],
    });
    await api.call<Body>('POST', `/api/v1/sales/${big.body.saleId}/payments`, {
      method: 'member',
      memberCode: card,
    });
    const failed = await until('failed', async () => {
      const s = await sale(big.body.saleId);
      return s.payments[0]?.status === 'failed' ? s : undefined;
    });
    expect(failed.status).toBe('open');
    expect(cloud.acquirer.memberBalance(card)).toBe(5_000);
    await api.call<Body>('POST', `/api/v1/sales/${big.body.saleId}/void`, {});
  });

  it('a coupon issued after a big sale syncs to the cloud and is redeemed on the next sale, once', async () => {
    const big = await api.call<Sale>('POST', '/api/v1/sales', {
      lines: [{ name: '茅台', qty: 1, unitPrice: 8_800 }],
      tenders: [{ method: 'cash', amount: 10_000 }],
    });
    expect(big.status).toBe(201);
    const issued = await syncedRecord('coupon.issued', 'saleId', big.body.saleId);
    const code = String(issued.body.code);
    expect(code).toMatch(/^CP[0-9A-HJKMNP-TV-Z]{14}$/);
    // Printed on the sale's own receipt, its QR readable off the paper.
    const receipt = await until('receipt with the coupon', () =>
      sim.receipts.find((r) => r.lines.some((l) => l.includes(big.body.receiptNo!))),
    );
    expect(receipt.lines.join('\n')).toContain('赠送优惠券');
    expect(receipt.qr).toContain(code);
    const next = await api.call<Sale>('POST', '/api/v1/sales', {
      lines: [{ name: '红酒', qty: 1, unitPrice: 6_000 }],
    });
    const applied = await api.call<Sale>('POST', `/api/v1/sales/${next.body.saleId}/coupon`, { code });
    expect(applied.status).toBe(200);
    expect(applied.body.total).toBe(5_000);
    const paid = await api.call<Body>('POST', `/api/v1/sales/${next.body.saleId}/payments`, {
      method: 'cash',
      amount: 5_000,
    });
    expect(paid.status).toBe(201);
    await syncedRecord('coupon.redeemed', 'saleId', next.body.saleId);
    // Used once: a third sale cannot take it again.
    const third = await api.call<Sale>('POST', '/api/v1/sales', {
      lines: [{ name: '红酒', qty: 1, unitPrice: 6_000 }],
    });
    const again = await until('consumed at the cloud', async () => {
      const r = await api.call<Body>('POST', `/api/v1/sales/${third.body.saleId}/coupon`, { code });
      return r.status === 422 ? r : undefined;
    });
    expect(again.body.error?.code).toBe('COUPON_INVALID');
    await api.call<Body>('POST', `/api/v1/sales/${third.body.saleId}/void`, {});
  });

  it('online order from the cloud: accepted, kitchen and customer tickets printed, order.printed synced', async () => {
    const orderId = `MT-${Date.now()}`;
    await cloud.pushOrder('t1', DEVICE, deliveryOrder(orderId));
    await until('order received', async () => {
      const o = await api.call<Body>('GET', `/api/v1/orders/${orderId}`);
      return o.status === 200 ? o.body : undefined;
    });
    const accepted = await api.call<Body>('POST', `/api/v1/orders/${orderId}/accept`);
    expect(accepted.status).toBe(200);
    const tickets = await until('tickets', () =>
      paperText(orderId).length >= 2 ? paperText(orderId) : undefined,
    );
    expect(tickets).toHaveLength(2);
    expect(tickets.join('\n')).toContain('宫保鸡丁');
    expect(tickets.join('\n')).toContain('少辣');
    const printed = await until('order.printed synced', async () => {
      const all = (await deviceLedger(api)).filter(
        (r) => r.type === 'order.printed' && r.body.orderId === orderId,
      );
      return all.length === 2 && all.every((r) => r.sync === 'synced') ? all : undefined;
    });
    expect(printed.map((r) => r.body.ticket).sort()).toEqual(['customer', 'kitchen']);
  });

  it('shift close: the Z report on paper carries the ledger totals; shift.closed synced; cloud holds the ledger once', async () => {
    const x = await api.call<{
      shiftId: string;
      totals: { expectedCash: number; byTender: Record<string, number> };
    }>('GET', '/api/v1/shifts/current');
    const closed = await api.call<Body & { difference: number }>('POST', '/api/v1/shifts/current/close', {
      countedCash: x.body.totals.expectedCash,
    });
    expect(closed.status).toBe(200);
    expect(closed.body.difference).toBe(0);
    const z = await until('Z report', () => {
      const page = sim.receipts.find((r) => r.lines.some((l) => l.includes('Z 报表')));
      return page?.lines.join('\n');
    });
    for (const amount of Object.values(x.body.totals.byTender)) {
      expect(z).toContain((amount / 100).toFixed(2));
    }
    await syncedRecord('shift.closed', 'shiftId', x.body.shiftId);
    const ledger = await deviceLedger(api);
    await until('all synced', async () =>
      (await deviceLedger(api)).every((r) => r.sync === 'synced') ? true : undefined,
    );
    expect(expectCloudMatches(cloud, 't1', DEVICE, ledger)).toEqual({ missing: 0, extra: 0, chainOk: true });
  });

  it('paper out reaches the cloud in the retained reported state, and clears when paper is loaded', async () => {
    const monitor = await mqtt.connectAsync(broker.url);
    const states: Array<{ devices: { printer: { state: string; paper: string } } }> = [];
    monitor.on('message', (_topic, payload) => states.push(JSON.parse(payload.toString())));
    await monitor.subscribeAsync(`pos/v1/t1/${DEVICE}/up/state`);
    try {
      sim.paperOut();
      await until('paper out reported', () =>
        states.at(-1)?.devices.printer.paper === 'out' ? true : undefined,
      );
      expect(states.at(-1)!.devices.printer.state).toBe('error');
      sim.loadPaper();
      await until('paper back', () => (states.at(-1)?.devices.printer.paper === 'ok' ? true : undefined));
      expect(states.at(-1)!.devices.printer.state).toBe('ready');
    } finally {
      await monitor.endAsync();
    }
  });
});
