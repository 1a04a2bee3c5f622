import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/api.js';
import {
  type DaemonProcess,
  spawnPosd,
  type TestConfig,
  waitHealthy,
  writeTestConfig,
} from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { ARTIFACTS, buildUi, launchBrowser, screenshot, signIn, stopDaemon } from './ui-harness.js';

type Json = Record<string, unknown>;

let cfg: TestConfig;
let daemon: DaemonProcess;
let browser: Browser;
let page: Page;
let customer: Page;
let api: ReturnType<typeof apiClient>;

/** `posd demo`: embedded broker and reference cloud, so code and QR payments really run. */
beforeAll(async () => {
  buildUi();
  cfg = await writeTestConfig();
  // No online order from the demo cloud popping up in the middle of these screens.
  daemon = spawnPosd(['demo', '--config', cfg.file, '--orders-every', '0']);
  await waitHealthy(cfg.port, 30_000);
  api = apiClient(cfg.port, cfg.stateDir);
  // The cashier's float (the UI asks for it before the first sale: money-screens.test.ts).
  expect((await api.call('POST', '/api/v1/shifts', { openingCash: 0 })).status).toBe(201);
  await waitFor(
    async () => ((await api.call('GET', '/api/v1/status')).body.cloud === 'online' ? true : undefined),
    'the demo cloud link',
    30_000,
    100,
  );
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
  page = await context.newPage();
  await page.goto(`http://127.0.0.1:${cfg.port}/`);
});

afterAll(async () => {
  await browser?.close();
  if (daemon) await stopDaemon(daemon);
});

async function saleOnScreen(): Promise<Json> {
  const saleId = await page.getByTestId('done').getAttribute('data-sale-id');
  return (await api.call<Json>('GET', `/api/v1/sales/${saleId}`)).body;
}

describe('payments by code and QR through the demo cloud (1280x800)', () => {
  it('signs in with the documented demo PIN and sells from the cloud catalog by payment code', async () => {
    await signIn(page, '1234');
    // The second screen: its own window, on the cashier's session cookie (same browser profile).
    const second = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
    await second.addCookies(await page.context().cookies());
    customer = await second.newPage();
    await customer.goto(`http://127.0.0.1:${cfg.port}/customer`);
    await customer.locator('body[data-ready="live"]').waitFor();
    await page.getByTestId('item-LATTE').click();
    await page.getByTestId('pay-button').click();
    expect(await page.getByTestId('tender-code').getAttribute('data-available')).toBe('yes');
    await page.getByTestId('tender-code').click();
    // A WeChat payment code typed on the keypad; the simulator pays codes ending in 0 at once.
    for (const d of '134567890123456780') await page.getByTestId(`key-${d}`).click();
    const started = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/payments'));
    await page.getByTestId('code-confirm').click();
    // One key per cashier action: a retry after a lost reply starts no second charge.
    expect((await started).headers()['idempotency-key']).toMatch(/^[\x21-\x7e]{1,128}$/);
    await page.getByTestId('done').waitFor({ timeout: 20_000 });
    const sale = await saleOnScreen();
    expect(sale).toMatchObject({ status: 'completed', total: 2800, paid: 2800 });
    expect(sale.payments).toEqual([
      expect.objectContaining({ method: 'code', channel: 'wechat', status: 'succeeded' }),
    ]);
    await screenshot(page, '11-demo-code-paid');
    await page.getByTestId('next-sale').click();
  });

  it('shows the payment QR on the customer screen and completes when the customer pays', async () => {
    await page.getByTestId('item-CROI').click();
    await page.getByTestId('pay-button').click();
    await page.getByTestId('tender-qr').click();
    await page.getByTestId('qr-wechat').click();
    await customer.getByTestId('customer-qr-img').waitFor({ timeout: 20_000 });
    await expect
      .poll(() =>
        customer
          .getByTestId('customer-qr-img')
          .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      )
      .toBeGreaterThan(0);
    await screenshot(customer, '12-demo-customer-qr');
    // What the customer's phone would read is the acquirer's code URL of this payment.
    const src = (await customer.getByTestId('customer-qr-img').getAttribute('src'))!;
    const paymentId = decodeURIComponent(/\/payments\/([^/]+)\/qr\.svg$/.exec(src)![1]!);
    const payment = await api.call<{ doc: { codeUrl: string } }>('GET', `/api/v1/payments/${paymentId}`);
    const png = join(ARTIFACTS, '12-demo-qr-only.png');
    await customer.getByTestId('customer-qr-img').screenshot({ path: png });
    const decoded = execFileSync('zbarimg', ['-q', '--raw', png], { encoding: 'utf8' }).trim();
    expect(decoded).toBe(payment.body.doc.codeUrl);
    await screenshot(page, '12-demo-cashier-qr');
    // The demo acquirer pays a QR after a few queries, as a customer would.
    await page.getByTestId('done').waitFor({ timeout: 30_000 });
    const sale = await saleOnScreen();
    expect(sale).toMatchObject({ status: 'completed', total: 1200 });
    await customer.getByTestId('customer-thanks').waitFor();
    await screenshot(customer, '13-demo-customer-thanks');
  });

  it('a sale of 50 or more issues the demo coupon: its QR on the customer screen, redeemed next time', async () => {
    await page.getByTestId('next-sale').click();
    await page.getByTestId('item-LATTE').click();
    await page.getByTestId('item-LATTE').click();
    await page.getByTestId('pay-button').click();
    await page.getByTestId('tender-code').click();
    for (const d of '134567890123456781') await page.getByTestId(`key-${d}`).click();
    await page.getByTestId('code-confirm').click();
    await page.getByTestId('done').waitFor({ timeout: 20_000 });
    const sale = await saleOnScreen();
    expect(sale).toMatchObject({ status: 'completed', total: 5600 });
    const panel = customer.getByTestId('customer-coupon');
    await panel.waitFor({ timeout: 10_000 });
    const code = (await panel.getAttribute('data-code'))!;
    expect(code).toMatch(/^CP[0-9A-HJKMNP-TV-Z]{14}$/);
    expect(await panel.textContent()).toContain('¥5.00');
    await expect
      .poll(() =>
        customer
          .getByTestId('customer-coupon-qr')
          .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      )
      .toBeGreaterThan(0);
    await screenshot(customer, '14-demo-customer-coupon');
    const png = join(ARTIFACTS, '14-demo-coupon-qr-only.png');
    await customer.getByTestId('customer-coupon-qr').screenshot({ path: png });
    expect(execFileSync('zbarimg', ['-q', '--raw', png], { encoding: 'utf8' }).trim()).toBe(code);
    // The customer comes back: the coupon from the screen takes 5.00 off a sale of 30 or more.
    const next = await api.call<Json>('POST', '/api/v1/sales', {
      lines: [{ sku: 'LATTE', name: '拿铁咖啡', qty: 2, unitPrice: 2800 }],
    });
    const applied = await waitFor(async () => {
      const r = await api.call<Json>('POST', `/api/v1/sales/${String(next.body.saleId)}/coupon`, { code });
      return r.status === 200 ? r.body : undefined;
    }, 'the coupon known to the cloud');
    expect(applied.total).toBe(5100);
    await api.call('POST', `/api/v1/sales/${String(next.body.saleId)}/void`, {});
  });

  it('scanned member card and coupon: 10 off, paid from the member balance', async () => {
    await page.getByTestId('next-sale').click();
    const scan = (code: string) => api.call('POST', '/api/v1/devices/scanner/scans', { code });
    expect((await scan('6901234567892')).status).toBe(202); // the latte's barcode
    await page.getByTestId('item-CROI').click();
    await expect.poll(() => page.getByTestId('cart-total').textContent()).toBe('¥40.00');
    await scan('MB88886666');
    await scan('CP2024');
    await expect.poll(() => page.locator('main').textContent()).toContain('王小明');
    await page.getByTestId('pay-button').click();
    await expect.poll(() => page.getByTestId('sale-total').textContent()).toBe('¥30.00');
    await page.getByTestId('tender-member').click();
    await expect.poll(() => page.getByTestId('member-display').textContent()).toContain('¥100.00');
    await screenshot(page, '15-demo-member-pay');
    await page.getByTestId('member-confirm').click();
    await page.getByTestId('done').waitFor({ timeout: 20_000 });
    const sale = await saleOnScreen();
    expect(sale).toMatchObject({ status: 'completed', total: 3000, orderDiscount: 1000 });
    expect(sale.payments).toEqual([
      expect.objectContaining({ method: 'code', channel: 'member', amount: 3000, status: 'succeeded' }),
    ]);
    const after = await api.call<Json>('POST', '/api/v1/members/lookup', { code: 'MB88886666' });
    expect(after.body.balance).toBe(7000);
  });

  it('a code payment whose answer is lost: confirming the code again follows the same payment', async () => {
    await page.getByTestId('next-sale').click();
    await page.getByTestId('item-CROI').click();
    await page.getByTestId('pay-button').click();
    await page.getByTestId('tender-code').click();
    // The first request reaches the daemon (the payment starts); its answer never reaches the page.
    const keys: string[] = [];
    const replies: number[] = [];
    await page.route('**/api/v1/sales/*/payments', async (route) => {
      keys.push(route.request().headers()['idempotency-key'] ?? '');
      const reply = await route.fetch();
      if (keys.length === 1) return route.abort('failed');
      replies.push(reply.status());
      await route.fulfill({ response: reply });
    });
    // A code the demo acquirer answers USERPAYING, then SUCCESS on its second query: still pending.
    const enter = async () => {
      for (const d of '134567890123456785') await page.getByTestId(`key-${d}`).click();
      await page.getByTestId('code-confirm').click();
    };
    await enter();
    await expect.poll(() => page.getByTestId('message-code').textContent()).toBe('NETWORK');
    await enter();
    await page.getByTestId('done').waitFor({ timeout: 30_000 });
    await page.unrouteAll({ behavior: 'wait' });
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    expect(replies).toEqual([202]); // the first reply again, not 409 PAYMENT_UNRESOLVED
    const sale = await saleOnScreen();
    expect(sale).toMatchObject({ status: 'completed', total: 1200, paid: 1200 });
    expect(sale.payments).toEqual([
      expect.objectContaining({ method: 'code', channel: 'wechat', amount: 1200, status: 'succeeded' }),
    ]);
  });

  it('an outcome that arrives before the reply to the payment request leaves nothing stuck', async () => {
    await page.getByTestId('next-sale').click();
    // The reply to the payment request is held back; the paid event comes first, as on a loaded box.
    await page.route('**/api/v1/sales/*/payments', async (route) => {
      const reply = await route.fetch();
      await new Promise((r) => setTimeout(r, 1_500));
      await route.fulfill({ response: reply });
    });
    await page.getByTestId('item-CROI').click();
    await page.getByTestId('pay-button').click();
    await page.getByTestId('tender-code').click();
    for (const d of '134567890123456780') await page.getByTestId(`key-${d}`).click();
    await page.getByTestId('code-confirm').click();
    await page.getByTestId('done').waitFor({ timeout: 20_000 });
    await page.unrouteAll({ behavior: 'wait' });
    await page.waitForTimeout(2_000); // the held reply lands after the sale was done
    await page.getByTestId('next-sale').click();
    await page.getByTestId('item-CROI').click();
    await page.getByTestId('pay-button').click();
    await page.getByTestId('tender-qr').click();
    await page.getByTestId('qr-wechat').waitFor({ timeout: 5_000 });
  });
});
