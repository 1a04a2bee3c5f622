import type { Browser, BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatMoney } from '../../ui/src/money.js';
import type { apiClient } from '../helpers/api.js';
import type { TestConfig } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { localTill } from './till-fixtures.js';
import { screenshot, signIn, startDaemon, stopDaemon } from './ui-harness.js';

type Json = Record<string, unknown>;

const till = localTill();
let cfg: TestConfig;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let customer: Page;
let api: ReturnType<typeof apiClient>;
const soldIds: string[] = [];

beforeAll(() => {
  ({ cfg, browser, context, page, api } = till());
});

async function appliedEvents(
  p: Page,
): Promise<Array<{ bootId: string; seq: number; type: string; replayed: boolean }>> {
  return p.evaluate('window.posd.applied');
}

describe('cashier UI (1024x600, zh-CN)', () => {
  it('signs a cashier in with the PIN keypad and refuses a wrong PIN', async () => {
    await page.getByTestId('pin-ok').waitFor();
    await screenshot(page, '01-sign-in');
    for (const d of '9999') await page.getByTestId(`pin-key-${d}`).click();
    await page.getByTestId('pin-ok').click();
    await expect.poll(() => page.getByTestId('pin-error').textContent()).toBe('密码错误');
    await signIn(page);
    expect(await page.getByTestId('cashier-name').textContent()).toBe('王芳');
    // The cookie is HttpOnly: the page's script cannot read it.
    expect(await page.evaluate('document.cookie')).toBe('');
  });

  it('sells from the item grid for cash with a discount and change, shown on the customer screen', async () => {
    // The second screen is its own window (a background tab would be throttled) on the same cookie.
    const second = await browser.newContext({ viewport: { width: 1024, height: 600 }, locale: 'zh-CN' });
    await second.addCookies(await context.cookies());
    customer = await second.newPage();
    await customer.goto(`http://127.0.0.1:${cfg.port}/customer`);
    await customer.locator('body[data-ready="live"]').waitFor();
    await customer.getByTestId('customer-idle').waitFor();

    await page.getByTestId('item-LATTE').click();
    await page.getByTestId('item-LATTE').click();
    await page.getByTestId('item-CROISSANT').click();
    await expect.poll(() => page.getByTestId('cart-total').textContent()).toBe('¥68.00');
    await page.getByTestId('discount-p10').click();
    await expect.poll(() => page.getByTestId('cart-total').textContent()).toBe('¥61.20');
    await expect.poll(() => customer.getByTestId('customer-total').textContent()).toBe('¥61.20');
    await screenshot(page, '02-cart');
    await page.setViewportSize({ width: 1280, height: 800 });
    await screenshot(page, '02-cart-1280x800');
    await page.setViewportSize({ width: 1024, height: 600 });
    await screenshot(customer, '02-customer-cart');

    await page.getByTestId('pay-button').click();
    // The first sale of the shift: the float is asked for first, then the checkout goes on.
    await page.getByTestId('float-needed').waitFor();
    for (const d of '100') await page.getByTestId(`key-${d}`).click();
    await page.getByTestId('shift-open').click();
    await expect.poll(() => page.getByTestId('due-amount').textContent(), { timeout: 15_000 }).toBe('¥61.20');
    await expect.poll(() => customer.getByTestId('customer-due').textContent()).toBe('¥61.20');
    await screenshot(page, '03-pay');
    await page.getByTestId('key-1').click();
    await page.getByTestId('key-0').click();
    await page.getByTestId('key-0').click();
    await page.getByTestId('cash-confirm').click();
    await page.getByTestId('done').waitFor();
    expect(await page.getByTestId('done-change').textContent()).toBe('¥38.80');
    const receiptNo = await page.getByTestId('done-receipt').textContent();
    expect(receiptNo).toMatch(/^D1-\d{6}$/);
    await expect.poll(() => customer.getByTestId('customer-change').textContent()).toBe('¥38.80');
    await screenshot(page, '04-done');
    await screenshot(customer, '04-customer-thanks');

    const saleId = (await page.getByTestId('done').getAttribute('data-sale-id'))!;
    soldIds.push(saleId);
    const sale = await api.call<Json>('GET', `/api/v1/sales/${saleId}`);
    expect(sale.body).toMatchObject({
      status: 'completed',
      total: 6120,
      paid: 6120,
      change: 3880,
      orderDiscount: 680,
      receiptNo,
    });
    expect((sale.body.lines as Json[]).map((l) => [l.sku, l.qty])).toEqual([
      ['LATTE', 2],
      ['CROISSANT', 1],
    ]);
    const ledger = await api.call<{ records: Array<{ type: string; body: Json }> }>(
      'GET',
      '/api/v1/ledger?limit=1000',
    );
    const completed = ledger.body.records.filter(
      (r) => r.type === 'sale.completed' && r.body.saleId === saleId,
    );
    expect(completed).toHaveLength(1);
    expect(completed[0]!.body).toMatchObject({ receiptNo, total: 6120 });

    // The offline badge counts the unsynced records (no cloud link in this test).
    const status = await api.call<{ ledger: { outboxDepth: number } }>('GET', '/api/v1/status');
    expect(status.body.ledger.outboxDepth).toBeGreaterThan(0);
    await expect
      .poll(() => page.getByTestId('offline-badge').textContent())
      .toContain(`${status.body.ledger.outboxDepth} 条未同步`);
    await page.getByTestId('next-sale').click();
  });

  it('shows code and QR as not available without a cloud link, and cancels an open sale', async () => {
    await page.getByTestId('item-WATER').click();
    await page.getByTestId('pay-button').click();
    await page.getByTestId('due-amount').waitFor();
    expect(await page.getByTestId('tender-code').getAttribute('data-available')).toBe('no');
    expect(await page.getByTestId('tender-qr').getAttribute('data-available')).toBe('no');
    expect(await page.getByTestId('tender-code').isDisabled()).toBe(true);
    await screenshot(page, '05-tenders-offline');
    const before = await api.call<{ records: Array<{ type: string }> }>('GET', '/api/v1/ledger?limit=1000');
    await page.getByTestId('cancel-sale').click();
    await page.getByTestId('pay-button').waitFor();
    // An open sale that is cancelled leaves a void in the ledger and nothing paid.
    await waitFor(async () => {
      const after = await api.call<{ records: Array<{ type: string }> }>('GET', '/api/v1/ledger?limit=1000');
      return after.body.records.length > before.body.records.length &&
        after.body.records.at(-1)?.type === 'sale.voided'
        ? true
        : undefined;
    }, 'sale.voided in the ledger');
  });

  it('refunds one line of a completed sale from the recent list', async () => {
    const saleId = soldIds[0]!;
    await page.getByTestId('recent-button').click();
    await page.getByTestId(`refund-${saleId}`).click();
    await page.getByTestId('refund-plus-2').click();
    expect(await page.getByTestId('refund-qty-2').textContent()).toBe('1/1');
    await page.getByTestId('refund-reason-reasonReturn').click();
    await screenshot(page, '06-refund');
    await page.getByTestId('refund-confirm').click();
    await expect
      .poll(() => page.locator(`[data-testid="recent-row"][data-sale-id="${saleId}"]`).textContent())
      .toContain('已退款');
    await page.getByTestId('refund-done-yes').click();
    const sale = await api.call<{ refunds: Json[]; refundable: number }>('GET', `/api/v1/sales/${saleId}`);
    expect(sale.body.refunds).toHaveLength(1);
    // The croissant's net after its share of the 10 % order discount.
    expect(sale.body.refundable).toBe(6120 - (sale.body.refunds[0]!.total as number));
    await page.getByTestId('recent-close').click();
  });

  it('replays what it missed while its event stream was down, once', async () => {
    await page.evaluate('window.posd.events.stop()');
    await page.getByTestId('conn-state').waitFor();
    const r = await api.call<Json>('POST', '/api/v1/sales', {
      lines: [{ sku: 'CAKE', name: '芝士蛋糕', qty: 1, unitPrice: 3200 }],
      tenders: [{ method: 'cash', amount: 3200 }],
    });
    const saleId = String(r.body.saleId);
    soldIds.push(saleId);
    await page.evaluate('window.posd.events.start()');
    await page.locator('body[data-ready="live"]').waitFor();
    await page.getByTestId('recent-button').click();
    await page.locator(`[data-testid="recent-row"][data-sale-id="${saleId}"]`).waitFor();
    expect(await page.locator(`[data-testid="recent-row"][data-sale-id="${saleId}"]`).count()).toBe(1);
    const applied = await appliedEvents(page);
    expect(applied.filter((e) => e.replayed && e.type === 'sale.updated').length).toBeGreaterThan(0);
    const keys = applied.map((e) => `${e.bootId}/${e.seq}`);
    expect(new Set(keys).size).toBe(keys.length);
    await page.getByTestId('recent-close').click();
  });

  it('recovers after the daemon restarts: reconnects, reloads, shows nothing twice', async () => {
    const bootBefore = (await appliedEvents(page)).at(-1)?.bootId;
    await stopDaemon(till().daemon);
    await page.getByTestId('conn-state').waitFor();
    await screenshot(page, '07-reconnecting');
    till().daemon = await startDaemon(cfg);
    // The session cookie survives the restart: no new sign-in.
    await page.locator('body[data-ready="live"]').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('cashier-name').textContent()).toBe('王芳');

    const r = await api.call<Json>('POST', '/api/v1/sales', {
      lines: [{ sku: 'MUFFIN', name: '蓝莓松饼', qty: 1, unitPrice: 1500 }],
      tenders: [{ method: 'cash', amount: 2000 }],
    });
    expect(r.status).toBe(201);
    const newId = String(r.body.saleId);
    await page.getByTestId('recent-button').click();
    await page.locator(`[data-testid="recent-row"][data-sale-id="${newId}"]`).waitFor();
    await screenshot(page, '08-after-restart');
    for (const id of [...soldIds, newId]) {
      expect(await page.locator(`[data-testid="recent-row"][data-sale-id="${id}"]`).count()).toBe(1);
    }
    const applied = await appliedEvents(page);
    const keys = applied.map((e) => `${e.bootId}/${e.seq}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(applied.at(-1)?.bootId).not.toBe(bootBefore);
    expect(
      applied.filter((e) => e.bootId !== bootBefore && e.type === 'sale.updated').length,
    ).toBeGreaterThan(0);
    // The customer screen came back on the same cookie and followed the new sale.
    await customer.locator('body[data-ready="live"]').waitFor();
    await expect.poll(() => customer.getByTestId('customer-change').textContent()).toBe('¥5.00');
  });

  it('shows the orders screen and closes the shift with an X then a Z report', async () => {
    await page.getByTestId('orders-button').click();
    await expect.poll(() => page.locator('main').textContent()).toContain('暂无订单');
    await page.getByTestId('admin-back').click();

    await page.getByTestId('shift-button').click();
    await page.locator('[data-testid="shift-report"][data-kind="X"]').waitFor();
    const x = await api.call<{ shiftId: string; totals: { expectedCash: number; sales: { count: number } } }>(
      'GET',
      '/api/v1/shifts/current',
    );
    expect(await page.getByTestId('shift-report').textContent()).toContain(
      `销售 ${x.body.totals.sales.count} 笔`,
    );
    await screenshot(page, '09-shift-x');
    for (const d of '500') await page.getByTestId(`key-${d}`).click();
    await page.getByTestId('shift-close').click();
    await page.getByTestId('shift-close-yes').click();
    await page.locator('[data-testid="shift-report"][data-kind="Z"]').waitFor();
    const difference = 50_000 - x.body.totals.expectedCash;
    expect(await page.getByTestId('shift-difference').textContent()).toBe(formatMoney(difference));
    const z = await api.call<{ status: string; difference: number }>(
      'GET',
      `/api/v1/shifts/${x.body.shiftId}`,
    );
    expect(z.body).toMatchObject({ status: 'closed', difference });
    await screenshot(page, '10-shift-z');
    await page.getByTestId('admin-back').click();
  });
});
