import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryOrder } from '../helpers/money-fixtures.js';
import { waitFor } from '../helpers/wait.js';
import { type CloudTill, fullyVisible, screenshotBoth, startCloudTill, stopCloudTill } from './cloud-till.js';
import { signIn } from './ui-harness.js';

/*
 * The online-order inbox on the 1024x600 screen (and 1280x800): an order from 美团 pushed by the
 * reference cloud, its pickup code and auto-accept countdown shown whole, the sound repeated until
 * the order is handled, 拒单 asking first; in English, English.
 */

const DEVICE = 'E2EI1';
let till: CloudTill;
let page: Page;

beforeAll(async () => {
  till = await startCloudTill(DEVICE, { orders: { autoAcceptSeconds: 600 } });
  page = till.page;
  await signIn(page);
  // The reminder comes every second here (15 s on a till) so the test need not wait long.
  await page.evaluate('window.posd.orders.reminderMs = 1000');
}, 120_000);

afterAll(async () => {
  await stopCloudTill(till);
});

const row = (orderId: string) => page.locator(`[data-testid="order-row"][data-order-id="${orderId}"]`);

async function orderStatus(orderId: string): Promise<string> {
  const r = await till.api.call<{ status: string }>('GET', `/api/v1/orders/${orderId}`);
  return r.body.status;
}

async function pushed(order: ReturnType<typeof deliveryOrder>): Promise<void> {
  await till.cloud.pushOrder('t1', DEVICE, order);
  await waitFor(
    async () =>
      (await till.api.call('GET', `/api/v1/orders/${order.id}`)).status === 200 ? true : undefined,
    'the order received',
    20_000,
  );
}

describe('the order inbox at 1024x600', () => {
  it('shows the pickup code and the auto-accept countdown whole, the source by name, and keeps sounding', async () => {
    const orderId = `MT-${Date.now()}`;
    await pushed(deliveryOrder(orderId));
    await page.getByTestId('order-banner-open').click();
    await row(orderId).waitFor();
    const pickup = page.getByTestId(`pickup-${orderId}`);
    const countdown = row(orderId).getByTestId('auto-accept');
    for (const size of [
      { width: 1024, height: 600 },
      { width: 1280, height: 800 },
    ]) {
      await page.setViewportSize(size);
      // Once the screen has settled (a loaded machine lays the new row out a frame late).
      await expect.poll(() => fullyVisible(pickup), { message: `pickup code at ${size.width}` }).toBe(true);
      await expect.poll(() => fullyVisible(countdown), { message: `countdown at ${size.width}` }).toBe(true);
      expect(await pickup.textContent()).toBe('取餐码 A17');
      expect(await countdown.textContent()).toMatch(/^\d+ 秒后自动接单$/);
    }
    await page.setViewportSize({ width: 1024, height: 600 });
    expect(await page.getByTestId(`order-source-${orderId}`).textContent()).toBe('美团');
    expect(await row(orderId).textContent()).toContain('备注：少辣');
    // Not one beep: again and again while the order waits.
    await expect
      .poll(() => page.evaluate<number>('window.posd.beeper.count'), { timeout: 15_000 })
      .toBeGreaterThan(2);
    await screenshotBoth(page, '40-orders');
  }, 60_000);

  it('asks before 拒单, and rejects only on the yes', async () => {
    const orderId = (await page.getByTestId('order-row').first().getAttribute('data-order-id'))!;
    await page.getByTestId(`reject-${orderId}`).click();
    await page.getByTestId(`confirm-${orderId}`).waitFor();
    expect(await page.getByTestId(`confirm-${orderId}`).textContent()).toContain('确定拒单吗');
    expect(await orderStatus(orderId)).toBe('received');
    await screenshotBoth(page, '41-order-reject-ask');
    await page.getByTestId(`confirm-no-${orderId}`).click();
    expect(await orderStatus(orderId)).toBe('received');
    await page.getByTestId(`reject-${orderId}`).click();
    await page.getByTestId(`reject-confirm-${orderId}`).click();
    await expect.poll(() => orderStatus(orderId)).toBe('rejected');
    await expect.poll(() => row(orderId).getAttribute('data-status')).toBe('rejected');
    // Handled: the sound stops.
    const after = await page.evaluate<number>('window.posd.beeper.count');
    await page.getByTestId('admin-back').click();
    await page.getByTestId('orders-button').click();
    expect(await page.evaluate<number>('window.posd.beeper.count')).toBeLessThanOrEqual(after + 1);
  });

  it('reads in English in English mode: platform names, note, printed tickets', async () => {
    await page.getByTestId('lang-toggle').click();
    const orderId = `EL-${Date.now()}`;
    await pushed({ ...deliveryOrder(orderId), source: 'eleme' });
    await row(orderId).waitFor();
    expect(await page.getByTestId(`order-source-${orderId}`).textContent()).toBe('Ele.me');
    const shown = (await row(orderId).textContent())!;
    expect(shown).toContain('Note: 少辣');
    expect(shown).toContain('Pickup A17');
    expect(shown).not.toMatch(/[：、，（]/);
    expect(await row(orderId).getByTestId('auto-accept').textContent()).toMatch(/^Auto-accept in \d+ s$/);
    await page.getByTestId(`accept-${orderId}`).click();
    await expect.poll(() => orderStatus(orderId)).toBe('accepted');
    await screenshotBoth(page, '42-orders-en');
    await page.getByTestId('lang-toggle').click();
  });
});
