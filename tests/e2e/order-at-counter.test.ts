import type { Browser, BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '../../cloud/cloud-service.js';
import type { PrinterSim } from '../../src/drivers/sim/printer-sim.js';
import type { apiClient } from '../helpers/api.js';
import type { TestConfig } from '../helpers/daemon.js';
import { atCounterOrder, deliveryOrder } from '../helpers/money-fixtures.js';
import { waitFor } from '../helpers/wait.js';
import { printingTill, receiptsWith as receiptsOf, receiptText } from './till-fixtures.js';
import { screenshot, signIn } from './ui-harness.js';

/*
 * Issue 17, 网络订单线下支付, in Chromium: an order placed online to be paid at the counter, pushed
 * by the reference cloud over mosquitto, found by scanning its QR with the simulated scanner,
 * paid by a payment code (USERPAYING, then SUCCESS), its tickets on the simulated printer's
 * paper, `order.paid` in the cloud exactly once. A prepaid order scanned offers no payment.
 */

const DEVICE = 'E2EO1';
const till = printingTill(DEVICE);
let cloud: CloudService;
let sim: PrinterSim;
let cfg: TestConfig;
let context: BrowserContext;
let browser: Browser;
let page: Page;
let customer: Page;
let api: ReturnType<typeof apiClient>;

const text = receiptText;
const receiptsWith = (needle: string) => receiptsOf(sim, needle);

async function scan(code: string): Promise<void> {
  const r = await api.call('POST', '/api/v1/devices/scanner/scans', { code });
  expect(r.status).toBe(202);
}

beforeAll(async () => {
  ({ cloud, sim, cfg, api, browser, context, page } = till());
  await signIn(page);
  // The customer screen: its own window on the same cookie.
  const second = await browser.newContext({ viewport: { width: 1024, height: 600 }, locale: 'zh-CN' });
  await second.addCookies(await context.cookies());
  customer = await second.newPage();
  await customer.goto(`http://127.0.0.1:${cfg.port}/customer`);
  await customer.locator('body[data-ready="live"]').waitFor();
}, 120_000);

describe('online orders paid at the counter (网络订单线下支付), in Chromium', () => {
  it('scanned by its QR, paid by a code (USERPAYING then SUCCESS), tickets on paper, order.paid once', async () => {
    const orderId = `WEB-${Date.now()}`;
    await cloud.pushOrder('t1', DEVICE, atCounterOrder(orderId, 'P88'));
    await page.getByTestId('order-banner-open').click();
    const row = page.locator(`[data-testid="order-row"][data-order-id="${orderId}"]`);
    await row.waitFor({ timeout: 15_000 });
    await expect.poll(() => row.getAttribute('data-pay-state')).toBe('to-pay');
    expect(await row.textContent()).toContain('待付款');
    expect(await row.textContent()).toContain('取餐码 P88');
    await screenshot(page, '60-order-to-pay');
    await page.getByTestId('admin-back').click();

    await scan(`POSORDER:${orderId}`);
    await page.getByTestId('tender-code').waitFor({ timeout: 15_000 });
    await expect.poll(() => customer.getByTestId('customer-due').textContent()).toBe('¥36.00');
    await screenshot(customer, '61-order-customer-due');
    await page.getByTestId('tender-code').click();
    // WeChat code ending 5: the acquirer answers USERPAYING, then SUCCESS on its 2nd query.
    for (const d of '134567890123456785') await page.getByTestId(`key-${d}`).click();
    await page.getByTestId('code-confirm').click();
    await expect.poll(() => page.getByTestId('code-display').textContent()).toBe('等待支付结果…');
    await page.getByTestId('done').waitFor({ timeout: 20_000 });
    const saleId = (await page.getByTestId('done').getAttribute('data-sale-id'))!;
    await screenshot(page, '62-order-paid');
    const sale = (
      await api.call<{
        status: string;
        total: number;
        payments: Array<{ paymentId: string; status: string }>;
      }>('GET', `/api/v1/sales/${saleId}`)
    ).body;
    expect(sale).toMatchObject({ status: 'completed', total: 3_600 });
    expect(
      cloud.acquirer.payment({ tenant: 't1', device: DEVICE }, sale.payments[0]!.paymentId),
    ).toMatchObject({
      status: 'SUCCESS',
      behaviour: '5',
    });

    const tickets = await waitFor(() => {
      const found = receiptsWith(orderId);
      return found.length >= 2 ? found : undefined;
    }, 'kitchen and customer tickets');
    expect(tickets.some((t) => text(t).includes('厨房单'))).toBe(true);
    expect(tickets.some((t) => text(t).includes('订单小票'))).toBe(true);

    await waitFor(
      () => (cloud.store.records('t1', DEVICE).some((r) => r.type === 'order.paid') ? true : undefined),
      'order.paid in the cloud',
      20_000,
    );
    const paid = cloud.store.records('t1', DEVICE).filter((r) => r.type === 'order.paid');
    expect(paid.map((r) => r.body)).toEqual([{ orderId, saleId, total: 3_600 }]);
    expect(cloud.orders.paid('t1', orderId)).toMatchObject({ saleId });
    await page.getByTestId('next-sale').click();

    // Scanned again: refused with a coded error, no second sale.
    await scan(`POSORDER:${orderId}`);
    await expect.poll(() => page.getByTestId('message').textContent()).toContain('该订单已经付过款了');
    expect(await page.getByTestId('tender-code').count()).toBe(0);
    const again = await api.call<{ error?: { code: string } }>('POST', `/api/v1/orders/${orderId}/checkout`);
    expect([again.status, again.body.error?.code]).toEqual([409, 'ORDER_ALREADY_PAID']);
  }, 120_000);

  it('a prepaid order scanned at the counter offers no payment', async () => {
    const orderId = `MT-${Date.now()}`;
    await cloud.pushOrder('t1', DEVICE, deliveryOrder(orderId));
    await waitFor(
      async () => ((await api.call('GET', `/api/v1/orders/${orderId}`)).status === 200 ? true : undefined),
      'order received',
    );
    await page
      .getByTestId('message')
      .click()
      .catch(() => {});
    await scan(`POSORDER:${orderId}`);
    await expect.poll(() => page.getByTestId('message').textContent()).toBe('该订单已在线支付，无需收款');
    expect(await page.getByTestId('tender-code').count()).toBe(0);
    await screenshot(page, '63-prepaid-scanned');
  }, 60_000);

  it('a pickup code typed in the inbox finds the order pushed to another terminal and opens its pay screen', async () => {
    const orderId = `WEB2-${Date.now()}`;
    // Pushed to another terminal of the store: found here through the cloud (orders.lookup).
    await cloud.pushOrder('t1', 'E2EO2', atCounterOrder(orderId, 'Q7'));
    await page.getByTestId('orders-button').click();
    await page.getByTestId('pickup-code-input').waitFor({ timeout: 15_000 });
    await page.getByTestId('pickup-code-input').fill('Q7');
    await page.getByTestId('pickup-code-input').press('Enter');
    await page.getByTestId('tender-code').waitFor({ timeout: 15_000 });
    await expect.poll(() => customer.getByTestId('customer-due').textContent()).toBe('¥36.00');
    const order = await api.call<{ payState: string }>('GET', `/api/v1/orders/${orderId}`);
    expect(order.body.payState).toBe('paying');
    await screenshot(page, '64-order-by-pickup-code');
    const cancel = await api.call('POST', `/api/v1/orders/${orderId}/cancel`, { reason: 'test' });
    expect(cancel.status).toBe(200);
  }, 60_000);
});
