import { readFileSync, writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '../../cloud/cloud-service.js';
import type { PrinterSim } from '../../src/drivers/sim/printer-sim.js';
import type { apiClient } from '../helpers/api.js';
import { deviceLedger } from '../helpers/cloud-fixture.js';
import type { TestConfig } from '../helpers/daemon.js';
import { deliveryOrder } from '../helpers/money-fixtures.js';
import { waitFor } from '../helpers/wait.js';
import { printingTill, receiptsWith as receiptsOf, receiptText } from './till-fixtures.js';
import { screenshot, signIn, startDaemon, stopDaemon } from './ui-harness.js';

/*
 * The cashier UI of `posd run` on a real terminal's setup: the reference cloud behind a mosquitto
 * broker (code payments, online orders), a simulated ESC/POS printer on TCP in this process (what
 * reaches its paper is read back as text, and each receipt is kept as a PNG under
 * test-artifacts/e2e/receipts/), the simulated scanner. Everything is done by tapping the screen.
 */

type Json = Record<string, unknown>;
type Sale = Json & {
  status: string;
  receiptNo?: string;
  payments: Array<{ paymentId: string; method: string; channel: string; status: string; amount: number }>;
};

const DEVICE = 'E2E1';
const REPRINT = '** 重打印 **';
const till = printingTill(DEVICE);
let cloud: CloudService;
let sim: PrinterSim;
let cfg: TestConfig;
let page: Page;
let api: ReturnType<typeof apiClient>;
let wechatSaleId: string;

const text = receiptText;
const receiptsWith = (needle: string) => receiptsOf(sim, needle);

async function sale(saleId: string): Promise<Sale> {
  return (await api.call<Sale>('GET', `/api/v1/sales/${saleId}`)).body;
}

async function doneSaleId(): Promise<string> {
  await page.getByTestId('done').waitFor({ timeout: 20_000 });
  return (await page.getByTestId('done').getAttribute('data-sale-id'))!;
}

async function tap(testIds: string[]): Promise<void> {
  for (const id of testIds) await page.getByTestId(id).click();
}

async function typeKeys(digits: string): Promise<void> {
  for (const d of digits) await page.getByTestId(`key-${d}`).click();
}

async function scan(code: string): Promise<void> {
  const r = await api.call('POST', '/api/v1/devices/scanner/scans', { code });
  expect(r.status).toBe(202);
}

beforeAll(() => {
  ({ cloud, sim, cfg, api, page } = till());
});

describe('cashier UI with the reference cloud and a simulated printer (1024x600, zh-CN)', () => {
  it('signs in and shows the printer, scanner and display as ready in the status bar', async () => {
    await signIn(page);
    for (const d of ['printer', 'scanner', 'display']) {
      await expect.poll(() => page.getByTestId(`device-${d}`).getAttribute('data-level')).toBe('ok');
    }
    expect(await page.getByTestId('device-printer').textContent()).toBe('打印机');
  });

  it('sells for cash from the item grid; the receipt comes out of the printer, and again as a reprint', async () => {
    await tap(['item-LATTE', 'item-CROISSANT', 'item-CROISSANT']);
    await expect.poll(() => page.getByTestId('cart-total').textContent()).toBe('¥52.00');
    await page.getByTestId('pay-button').click();
    await typeKeys('100');
    await page.getByTestId('cash-confirm').click();
    const saleId = await doneSaleId();
    const receiptNo = (await page.getByTestId('done-receipt').textContent())!;
    expect(receiptNo).toMatch(/^E2E1-\d{6}$/);

    // What reached the paper: the items, the total, cash and change, the receipt number.
    const [receipt] = await waitFor(() => {
      const found = receiptsWith(receiptNo);
      return found.length > 0 ? found : undefined;
    }, 'the receipt on the simulated printer');
    const paper = text(receipt!);
    expect(paper).toContain('拿铁咖啡');
    expect(paper).toContain('可颂');
    expect(paper).toContain('52.00');
    expect(paper).toContain('100.00');
    expect(paper).toContain('48.00');
    expect(paper).not.toContain(REPRINT);
    expect(receipt!.cut).toBe(true);
    expect(receipt!.drawerKicks).toBe(1);
    expect(receipt!.path).toMatch(new RegExp(`receipt-\\d{8}-\\d{6}-\\d{3}-${receiptNo}\\.png$`));
    await expect.poll(() => page.getByTestId('receipt-print').getAttribute('data-status')).toBe('printed');
    expect(await page.getByTestId('receipt-print').textContent()).toBe('小票已打印');
    await screenshot(page, '20-cash-done-printed');

    // The done screen's reprint: the same receipt marked 重打印, the drawer stays shut.
    await page.getByTestId('reprint-receipt').click();
    await waitFor(() => (receiptsWith(receiptNo).length === 2 ? true : undefined), 'the reprint');
    const reprint = receiptsWith(receiptNo)[1]!;
    expect(reprint.lines).toContain(REPRINT);
    expect(text(reprint)).toContain('拿铁咖啡');
    expect(reprint.drawerKicks).toBe(0);
    const jobs = await api.call<{ jobs: Array<{ refId: string; reprint: boolean; status: string }> }>(
      'GET',
      '/api/v1/print-jobs',
    );
    expect(jobs.body.jobs.filter((j) => j.refId === saleId).map((j) => j.reprint)).toEqual([true, false]);
    await page.getByTestId('next-sale').click();
  });

  it('view receipt (查看小票) in recent sales shows the image of the receipt just printed', async () => {
    await tap(['item-LATTE']);
    await page.getByTestId('pay-button').click();
    await page.getByTestId('quick-exact').click();
    await page.getByTestId('cash-confirm').click();
    const saleId = await doneSaleId();
    const receiptNo = (await page.getByTestId('done-receipt').textContent())!;
    const [receipt] = await waitFor(() => {
      const found = receiptsWith(receiptNo);
      return found.length > 0 ? found : undefined;
    }, 'the receipt on the simulated printer');
    await expect.poll(() => page.getByTestId('receipt-print').getAttribute('data-status')).toBe('printed');

    await page.getByTestId('recent-button').click();
    const view = page.getByTestId(`view-receipt-${saleId}`);
    expect(await view.textContent()).toBe('查看小票');
    await view.click();
    const img = page.getByTestId('receipt-image');
    await expect
      .poll(() => img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth), {
        timeout: 30_000,
      })
      .toBe(576);
    // The picture on the screen is, byte for byte, what the printer drew on its paper.
    const shown = await img.evaluate(async (el) => {
      const res = await fetch((el as unknown as { src: string }).src);
      return Array.from(new Uint8Array(await res.arrayBuffer()));
    });
    expect(Buffer.from(shown).equals(receipt!.png)).toBe(true);
    await screenshot(page, '21-recent-view-receipt');
    await page.getByTestId('receipt-image-close').click();
    await expect.poll(() => page.getByTestId('receipt-image').count()).toBe(0);
    await page.getByTestId('recent-close').click();
    await page.getByTestId('next-sale').click();
  });

  it('shows paper out in the status bar; a receipt waits and prints once paper is loaded', async () => {
    sim.paperOut();
    await expect.poll(() => page.getByTestId('device-printer').getAttribute('data-paper')).toBe('out');
    expect(await page.getByTestId('device-printer').textContent()).toBe('打印机缺纸');
    expect(await page.getByTestId('device-printer').getAttribute('data-level')).toBe('bad');

    // A barcode from the scanner puts the item in the cart.
    await scan('6920000000012');
    await expect.poll(() => page.getByTestId('cart-total').textContent()).toBe('¥3.00');
    await page.getByTestId('pay-button').click();
    await page.getByTestId('quick-exact').click();
    await page.getByTestId('cash-confirm').click();
    const saleId = await doneSaleId();
    const receiptNo = (await page.getByTestId('done-receipt').textContent())!;
    await expect.poll(() => page.getByTestId('receipt-print').getAttribute('data-status')).toBe('queued');
    expect(await page.getByTestId('receipt-print').textContent()).toBe('小票等待打印');
    await screenshot(page, '21-paper-out');
    expect(receiptsWith(receiptNo)).toHaveLength(0);
    expect((await sale(saleId)).status).toBe('completed'); // the sale does not wait for paper

    sim.loadPaper();
    await expect.poll(() => page.getByTestId('device-printer').getAttribute('data-level')).toBe('ok');
    await expect
      .poll(() => page.getByTestId('receipt-print').getAttribute('data-status'), { timeout: 15_000 })
      .toBe('printed');
    expect(receiptsWith(receiptNo)).toHaveLength(1);
    expect(text(receiptsWith(receiptNo)[0]!)).toContain('矿泉水');
    await page.getByTestId('next-sale').click();
  });

  it('takes a payment code the customer confirms on the phone (USERPAYING, then SUCCESS)', async () => {
    await page.getByTestId('item-AMERICANO').click();
    await page.getByTestId('pay-button').click();
    expect(await page.getByTestId('tender-code').getAttribute('data-available')).toBe('yes');
    await page.getByTestId('tender-code').click();
    // WeChat code ending 5: the acquirer answers USERPAYING, then SUCCESS on its 2nd query.
    await typeKeys('134567890123456785');
    await page.getByTestId('code-confirm').click();
    await expect.poll(() => page.getByTestId('code-display').textContent()).toBe('等待支付结果…');
    await screenshot(page, '22-code-userpaying');
    const saleId = await doneSaleId();
    const s = await sale(saleId);
    expect(s).toMatchObject({ status: 'completed', total: 2200, paid: 2200 });
    expect(s.payments).toEqual([
      expect.objectContaining({ method: 'code', channel: 'wechat', status: 'succeeded', amount: 2200 }),
    ]);
    const atAcquirer = cloud.acquirer.payment({ tenant: 't1', device: DEVICE }, s.payments[0]!.paymentId);
    expect(atAcquirer).toMatchObject({ status: 'SUCCESS', behaviour: '5' });
    expect(atAcquirer!.queries).toBeGreaterThanOrEqual(2);
    const receiptNo = (await page.getByTestId('done-receipt').textContent())!;
    await waitFor(() => (receiptsWith(receiptNo).length > 0 ? true : undefined), 'code sale receipt');
    expect(text(receiptsWith(receiptNo)[0]!)).toContain('微信支付');
    await screenshot(page, '23-code-paid');
    wechatSaleId = saleId;
    await page.getByTestId('next-sale').click();
  });

  it('reverses a scanned payment code the customer never confirms, then takes cash', async () => {
    await page.getByTestId('item-CAPPUCCINO').click();
    await page.getByTestId('pay-button').click();
    const saleId = (await page.locator('[data-screen="pay"] .pay').getAttribute('data-sale-id'))!;
    // Scanned, not typed: the scanner's payment code goes straight to the code tender.
    // Ending 6: USERPAYING until the terminal gives up and reverses it.
    await scan('134567890123456786');
    await expect.poll(() => page.getByTestId('code-display').textContent()).toBe('等待支付结果…');
    await expect
      .poll(() => page.getByTestId('tender-note').textContent(), { timeout: 20_000 })
      .toBe('顾客未确认支付，已撤销，请重新收款');
    await screenshot(page, '24-code-reversed');
    expect(await page.getByTestId('due-amount').textContent()).toBe('¥26.00');
    const open = await sale(saleId);
    expect(open.status).toBe('open');
    expect(open.payments).toEqual([expect.objectContaining({ method: 'code', status: 'reversed' })]);
    expect(
      cloud.acquirer.payment({ tenant: 't1', device: DEVICE }, open.payments[0]!.paymentId)?.status,
    ).toBe('REVERSED');

    await page.getByTestId('tender-cash').click();
    await page.getByTestId('quick-exact').click();
    await page.getByTestId('cash-confirm').click();
    expect(await doneSaleId()).toBe(saleId);
    const paid = await sale(saleId);
    expect(paid.status).toBe('completed');
    expect(paid.payments.map((p) => [p.method, p.status])).toEqual([
      ['code', 'reversed'],
      ['cash', 'succeeded'],
    ]);
    // The acquirer kept only the confirmed code payment of the sale before.
    expect(cloud.acquirer.netCaptured({ tenant: 't1', device: DEVICE })).toBe(2200);
    await page.getByTestId('next-sale').click();
  });

  it('refunds a WeChat sale back to WeChat: the result says where the money goes, no cash to hand back', async () => {
    await page.getByTestId('recent-button').click();
    const row = page.locator(`[data-testid="recent-row"][data-sale-id="${wechatSaleId}"]`);
    await row.waitFor();
    expect(await row.getByTestId('recent-tenders').textContent()).toBe('微信 ¥22.00');
    // Paid electronically: refunded, never voided.
    expect(await page.getByTestId(`void-${wechatSaleId}`).count()).toBe(0);
    await page.getByTestId(`refund-${wechatSaleId}`).click();
    await page.getByTestId('refund-plus-1').click();
    await page.getByTestId('refund-reason-reasonQuality').click();
    await page.getByTestId('refund-confirm').click();
    await page.getByTestId('refund-done').waitFor();
    expect(await page.getByTestId('refund-done').textContent()).not.toContain('请退还现金');
    // Waiting for the acquirer at first, perhaps (on a loaded machine the refund's request can time
    // out and be resolved by a later query); the result follows the refund's outcome.
    await expect
      .poll(() => page.getByTestId('refund-done').textContent(), { timeout: 45_000 })
      .toContain('已原路退回微信 ¥22.00');
    await screenshot(page, '23b-refund-wechat');
    await page.getByTestId('refund-done-yes').click();
    await waitFor(
      async () => ((await sale(wechatSaleId)).refundable === 0 ? true : undefined),
      'the WeChat refund completed',
    );
    // The money went back at the acquirer: nothing of the sale stays captured.
    expect(cloud.acquirer.netCaptured({ tenant: 't1', device: DEVICE })).toBe(0);
    await page.getByTestId('recent-close').click();
  });

  it('an online order from the cloud sounds and shows, is accepted, and its tickets print', async () => {
    const beepsBefore = (await page.evaluate('window.posd.beeper.count')) as number;
    const orderId = `MT-${Date.now()}`;
    await cloud.pushOrder('t1', DEVICE, deliveryOrder(orderId));
    await page.getByTestId('order-banner').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('order-banner').textContent()).toContain('1 个新订单待处理');
    expect(await page.getByTestId('orders-count').textContent()).toBe('1');
    expect(await page.evaluate('window.posd.beeper.count')).toBe(beepsBefore + 1);
    await screenshot(page, '25-order-alert');

    await page.getByTestId('order-banner-open').click();
    const row = page.locator(`[data-testid="order-row"][data-order-id="${orderId}"]`);
    expect(await row.getAttribute('data-status')).toBe('received');
    expect(await row.textContent()).toContain('宫保鸡丁×1');
    expect(await row.textContent()).toContain('¥36.00');
    expect(await row.textContent()).toContain('备注：少辣');
    expect(await row.textContent()).toContain('取餐码 A17');
    const countdown = row.getByTestId('auto-accept');
    const first = Number(/(\d+)/.exec((await countdown.textContent())!)![1]);
    expect(first).toBeGreaterThan(590);
    expect(first).toBeLessThanOrEqual(600);
    await expect
      .poll(async () => Number(/(\d+)/.exec((await countdown.textContent())!)![1]), { timeout: 5_000 })
      .toBeLessThan(first);
    await screenshot(page, '26-order-inbox');
    await page.getByTestId(`accept-${orderId}`).click();
    await expect.poll(() => row.getAttribute('data-status')).toBe('accepted');

    // Both tickets on paper: the kitchen's and the customer's, each with the order number.
    const tickets = await waitFor(() => {
      const found = receiptsWith(orderId);
      return found.length >= 2 ? found : undefined;
    }, 'kitchen and customer tickets');
    expect(tickets).toHaveLength(2);
    const kitchen = tickets.find((t) => text(t).includes('厨房单'));
    const customer = tickets.find((t) => text(t).includes('订单小票'));
    expect(text(kitchen!)).toContain('宫保鸡丁');
    expect(text(kitchen!)).toContain('少辣');
    expect(text(customer!)).toContain('米饭');
    expect(text(customer!)).toContain('A17');
    await expect
      .poll(() => page.getByTestId(`order-status-${orderId}`).textContent())
      .toBe('美团 · 已接单 · 已打印：厨房单、顾客单');
    const printed = (await deviceLedger(api)).filter(
      (r) => r.type === 'order.printed' && r.body.orderId === orderId,
    );
    expect(printed.map((r) => r.body.ticket).sort()).toEqual(['customer', 'kitchen']);
    await expect.poll(() => page.getByTestId('order-banner').count()).toBe(0);
    await screenshot(page, '27-order-accepted');
  });

  it('rejects an online order from the inbox: nothing prints', async () => {
    const orderId = `ELE-${Date.now()}`;
    const before = sim.receipts.length;
    await cloud.pushOrder('t1', DEVICE, {
      id: orderId,
      source: 'eleme',
      placedAt: new Date().toISOString(),
      lines: [{ name: '酸辣汤', qty: 1, unitPrice: 1_800 }],
      total: 1_800,
      currency: 'CNY',
    });
    const row = page.locator(`[data-testid="order-row"][data-order-id="${orderId}"]`);
    await row.waitFor({ timeout: 15_000 });
    await page.getByTestId(`reject-${orderId}`).click();
    // 拒单 asks first; only the yes rejects.
    await page.getByTestId(`reject-confirm-${orderId}`).click();
    await expect.poll(() => row.getAttribute('data-status')).toBe('rejected');
    const order = await api.call<{ status: string; rejectReason: string }>(
      'GET',
      `/api/v1/orders/${orderId}`,
    );
    expect(order.body).toMatchObject({ status: 'rejected', rejectReason: '售罄' });
    await new Promise((r) => setTimeout(r, 500));
    expect(sim.receipts.length).toBe(before);
    await page.getByTestId('admin-back').click();
  });

  it('prints the X report from the shift screen', async () => {
    await page.getByTestId('shift-button').click();
    await page.locator('[data-testid="shift-report"][data-kind="X"]').waitFor();
    const before = sim.receipts.length;
    await page.getByTestId('shift-print').click();
    await waitFor(() => (sim.receipts.length > before ? true : undefined), 'X report on paper');
    const report = text(sim.receipts[before]!);
    expect(report).toContain('X 报表（交班）');
    const x = await api.call<{ totals: { sales: { count: number; amount: number } } }>(
      'GET',
      '/api/v1/shifts/current',
    );
    expect(x.body.totals.sales.count).toBe(5); // four sales above, and the latte of 查看小票
    expect(report).toContain((x.body.totals.sales.amount / 100).toFixed(2));
    await screenshot(page, '28-shift-x-printed');
    await page.getByTestId('admin-back').click();
  });

  it('shows a scanner that is not there as missing in the status bar', async () => {
    // The technician points the scanner at a port with nothing plugged in, and restarts the daemon.
    await stopDaemon(till().daemon);
    const config = JSON.parse(readFileSync(cfg.file, 'utf8')) as Json;
    writeFileSync(
      cfg.file,
      JSON.stringify({ ...config, scanner: { uri: 'serial:///dev/posd-e2e-no-scanner?baud=9600' } }),
    );
    till().daemon = await startDaemon(cfg);
    await page.locator('body[data-ready="live"]').waitFor({ timeout: 15_000 });
    await expect
      .poll(() => page.getByTestId('device-scanner').getAttribute('data-state'), { timeout: 15_000 })
      .toBe('offline');
    expect(await page.getByTestId('device-scanner').textContent()).toBe('扫码枪未连接');
    expect(await page.getByTestId('device-scanner').getAttribute('data-level')).toBe('bad');
    await expect.poll(() => page.getByTestId('device-printer').getAttribute('data-level')).toBe('ok');
    await screenshot(page, '29-scanner-missing');
  });
});
