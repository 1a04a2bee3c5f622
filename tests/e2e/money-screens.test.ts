import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatMoney } from '../../ui/src/money.js';
import type { apiClient } from '../helpers/api.js';
import type { TestConfig } from '../helpers/daemon.js';
import { localTill } from './till-fixtures.js';
import { screenshot, signIn } from './ui-harness.js';

type Json = Record<string, unknown>;
type Sale = { saleId: string; status: string; paid: number; total: number; receiptNo?: string };

const till = localTill();
let cfg: TestConfig;
let page: Page;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  ({ cfg, page, api } = till());
  page.setDefaultTimeout(15_000);
  await signIn(page);
});

/** Waits for what the screen shows, long enough for a loaded machine. */
function poll<T>(read: () => Promise<T>) {
  return expect.poll(read, { timeout: 15_000 });
}

/** The screen at 1024x600 and at 1280x800. */
async function shots(name: string): Promise<void> {
  await screenshot(page, `${name}-1024x600`);
  await page.setViewportSize({ width: 1280, height: 800 });
  await screenshot(page, `${name}-1280x800`);
  await page.setViewportSize({ width: 1024, height: 600 });
}

async function keys(text: string): Promise<void> {
  for (const k of text) await page.getByTestId(`key-${k}`).click();
}

async function ledgerTypes(): Promise<Array<{ type: string; body: Json }>> {
  const r = await api.call<{ records: Array<{ type: string; body: Json }> }>(
    'GET',
    '/api/v1/ledger?limit=1000',
  );
  return r.body.records;
}

async function saleOnScreen(): Promise<Sale> {
  const id = await page.locator('section.pay').getAttribute('data-sale-id');
  return (await api.call<Sale>('GET', `/api/v1/sales/${id}`)).body;
}

/** Each test from a freshly loaded page (as after a kiosk restart), so none leans on another's screen. */
async function fresh(): Promise<void> {
  await page.goto(`http://127.0.0.1:${cfg.port}/`);
  await page.locator('body[data-ready="live"]').waitFor();
}

/** Latte ×2 and a croissant: ¥68.00. */
async function cart68(): Promise<void> {
  await page.getByTestId('item-LATTE').click();
  await page.getByTestId('item-LATTE').click();
  await page.getByTestId('item-CROISSANT').click();
  await poll(() => page.getByTestId('cart-total').textContent()).toBe('¥68.00');
}

let paidSale: Sale;

describe('money screens (1024x600, zh-CN)', () => {
  it('asks for the float before the first sale of a shift; nothing typed opens nothing', async () => {
    await cart68();
    await page.getByTestId('pay-button').click();
    await page.getByTestId('float-needed').waitFor();
    expect(await page.getByTestId('admin-display').textContent()).toContain('请输入');
    await shots('30-shift-float');
    await page.getByTestId('shift-open').click();
    await poll(() => page.getByTestId('message').textContent()).toContain('请先输入备用金');
    const none = await api.call<{ error?: { code: string } }>('GET', '/api/v1/shifts/current');
    expect(none.body.error?.code).toBe('NO_OPEN_SHIFT');
    await keys('200');
    await page.getByTestId('shift-open').click();
    // The checkout goes on by itself once the shift is open.
    await poll(() => page.getByTestId('due-amount').textContent()).toBe('¥68.00');
    const shift = await api.call<{ openingCash: number }>('GET', '/api/v1/shifts/current');
    expect(shift.body.openingCash).toBe(20_000);
    const opened = (await ledgerTypes()).filter((r) => r.type === 'shift.opened');
    expect(opened.map((r) => [r.body.openingCash, r.body.auto])).toEqual([[20_000, undefined]]);
  });

  it('a quick cash amount tapped by mistake pays nothing: it fills the field, 确认收款 takes it', async () => {
    await fresh();
    await cart68();
    await page.getByTestId('pay-button').click();
    await poll(() => page.getByTestId('due-amount').textContent()).toBe('¥68.00');
    const sale = await saleOnScreen();
    // ¥100 instead of ¥70, by mistake: nothing is paid, the field shows it.
    await page.getByTestId('quick-10000').click();
    await poll(() => page.getByTestId('tendered-display').textContent()).toContain('¥100');
    const untouched = (await api.call<Sale>('GET', `/api/v1/sales/${sale.saleId}`)).body;
    expect([untouched.status, untouched.paid]).toEqual(['open', 0]);
    expect(await page.getByTestId('due-amount').textContent()).toBe('¥68.00');
    await shots('31-pay-quick-filled');
    // The pay screen lists what is being paid for; the quick amounts follow what is due.
    expect(await page.getByTestId('pay-lines').textContent()).toContain('拿铁咖啡');
    expect(await page.getByTestId('quick-7000').textContent()).toBe('¥70.00');
    // The right note, then the one tap that takes the money.
    await page.getByTestId('quick-7000').click();
    await poll(() => page.getByTestId('tendered-display').textContent()).toContain('¥70');
    await page.getByTestId('cash-confirm').click();
    await page.getByTestId('done').waitFor();
    expect(await page.getByTestId('done-change').textContent()).toBe('¥2.00');
    const paid = (await api.call<Sale>('GET', `/api/v1/sales/${sale.saleId}`)).body;
    expect(paid).toMatchObject({ status: 'completed', paid: 6800 });
    await page.getByTestId('next-sale').click();
  });

  it('goes back from the pay screen to the cart and adds an item to the same sale, voiding nothing', async () => {
    await fresh();
    await page.getByTestId('item-AMERICANO').click();
    await page.getByTestId('pay-button').click();
    await poll(() => page.getByTestId('due-amount').textContent()).toBe('¥22.00');
    const first = await saleOnScreen();
    await page.getByTestId('pay-back').click();
    await page.getByTestId('item-MUFFIN').click();
    await poll(() => page.getByTestId('cart-total').textContent()).toBe('¥37.00');
    await page.getByTestId('pay-button').click();
    await poll(() => page.getByTestId('due-amount').textContent()).toBe('¥37.00');
    expect((await saleOnScreen()).saleId).toBe(first.saleId);
    expect((await ledgerTypes()).some((r) => r.type === 'sale.voided')).toBe(false);
    // Once money is taken, going back is refused with a word, not silently.
    await keys('20');
    await page.getByTestId('cash-confirm').click();
    await poll(() => page.getByTestId('due-amount').textContent()).toBe('¥17.00');
    await page.getByTestId('pay-back').click();
    await poll(() => page.getByTestId('message').textContent()).toContain('已收款 ¥20.00');
  });

  it('cancelling after a partial cash payment asks, then says the cash to hand back; the void is recorded', async () => {
    await fresh();
    await page.getByTestId('item-AMERICANO').click();
    await page.getByTestId('item-MUFFIN').click();
    await page.getByTestId('pay-button').click();
    await poll(() => page.getByTestId('due-amount').textContent()).toBe('¥37.00');
    await keys('20');
    await page.getByTestId('cash-confirm').click();
    await poll(() => page.getByTestId('due-amount').textContent()).toBe('¥17.00');
    const sale = await saleOnScreen();
    await page.getByTestId('cancel-sale').click();
    await page.getByTestId('cancel-confirm').waitFor();
    expect(await page.getByTestId('cancel-confirm-emphasis').textContent()).toBe('请退还现金 ¥20.00');
    await shots('32-cancel-partial-ask');
    // "Keep taking payment" leaves the sale as it was.
    await page.getByTestId('cancel-confirm-no').click();
    expect((await api.call<Sale>('GET', `/api/v1/sales/${sale.saleId}`)).body.status).toBe('open');
    await page.getByTestId('cancel-sale').click();
    await page.getByTestId('cancel-confirm-yes').click();
    await page.getByTestId('cancel-done').waitFor();
    expect(await page.getByTestId('cancel-done-emphasis').textContent()).toBe('请退还现金 ¥20.00');
    await shots('33-cancel-partial-return-cash');
    await page.getByTestId('cancel-done-yes').click();
    const voided = (await ledgerTypes()).filter(
      (r) => r.type === 'sale.voided' && r.body.saleId === sale.saleId,
    );
    expect(voided.map((r) => r.body.cashReturned)).toEqual([2000]);
    await page.getByTestId('pay-button').waitFor();
  });

  it('after a reload, finds a sale in the recent list by receipt number and refunds it to cash', async () => {
    const made = await api.call<{ saleId: string }>('POST', '/api/v1/sales', {
      lines: [
        { sku: 'LATTE', name: '拿铁咖啡', qty: 2, unitPrice: 2800 },
        { sku: 'CROISSANT', name: '可颂', qty: 1, unitPrice: 1200 },
      ],
      tenders: [{ method: 'cash', amount: 7000 }],
    });
    paidSale = (await api.call<Sale>('GET', `/api/v1/sales/${made.body.saleId}`)).body;
    // More sales than one page, so the list is long and its back button must stay reachable.
    for (let i = 0; i < 22; i++) {
      await api.call('POST', '/api/v1/sales', {
        lines: [{ sku: 'WATER', name: '矿泉水', qty: 1, unitPrice: 300 }],
        tenders: [{ method: 'cash', amount: 300 }],
      });
    }
    await fresh();
    await page.getByTestId('recent-button').click();
    await page.getByTestId('recent-more').waitFor();
    await page.getByTestId('recent-more').scrollIntoViewIfNeeded();
    const back = await page.getByTestId('recent-close').boundingBox();
    expect(back && back.y >= 0 && back.y + back.height <= 600).toBe(true);
    await shots('34-recent-long');

    await page.getByTestId('recent-search').fill(paidSale.receiptNo!.slice(-3));
    await page.getByTestId('recent-search-go').click();
    const row = page.locator(`[data-testid="recent-row"][data-sale-id="${paidSale.saleId}"]`);
    await row.waitFor();
    expect(await page.getByTestId('recent-row').count()).toBe(1);
    expect(await row.getByTestId('recent-items').textContent()).toBe('拿铁咖啡×2、可颂');
    expect(await row.getByTestId('recent-tenders').textContent()).toBe('现金 ¥68.00');
    expect(await row.getByTestId('recent-time').textContent()).toMatch(/^\d\d:\d\d$/);
    await shots('35-recent-search');

    await page.getByTestId(`refund-${paidSale.saleId}`).click();
    await page.getByTestId('refund-plus-2').click();
    expect(await page.getByTestId('refund-amount-2').textContent()).toBe('¥12.00');
    expect(await page.getByTestId('refund-total').textContent()).toBe('¥12.00');
    // A reason first.
    expect(await page.getByTestId('refund-confirm').isDisabled()).toBe(true);
    await page.getByTestId('refund-reason-reasonReturn').click();
    await shots('36-refund');
    await page.getByTestId('refund-confirm').click();
    await page.getByTestId('refund-done').waitFor();
    expect(await page.getByTestId('refund-done-emphasis').textContent()).toBe('请退还现金 ¥12.00');
    await shots('37-refund-result');
    await page.getByTestId('refund-done-yes').click();
    const sale = await api.call<{ refundable: number; refunds: Array<{ saleId: string }> }>(
      'GET',
      `/api/v1/sales/${paidSale.saleId}`,
    );
    expect(sale.body.refundable).toBe(6800 - 1200);
    const refund = await api.call<Json>('GET', `/api/v1/sales/${sale.body.refunds[0]!.saleId}`);
    const completed = (await ledgerTypes()).find(
      (r) => r.type === 'refund.completed' && r.body.refundId === refund.body.saleId,
    );
    expect(completed?.body.reason).toBe('顾客退货');
  });

  it('voiding a completed sale asks first, naming the amount and the cash to hand back', async () => {
    await fresh();
    await page.getByTestId('recent-button').click();
    const r = await api.call<{ saleId: string; receiptNo: string }>('POST', '/api/v1/sales', {
      lines: [{ sku: 'CAKE', name: '芝士蛋糕', qty: 1, unitPrice: 3200 }],
      tenders: [{ method: 'cash', amount: 5000 }],
    });
    const row = page.locator(`[data-testid="recent-row"][data-sale-id="${r.body.saleId}"]`);
    await row.waitFor();
    await page.getByTestId(`void-${r.body.saleId}`).click();
    await page.getByTestId('void-confirm').waitFor();
    const text = await page.getByTestId('void-confirm').textContent();
    expect(text).toContain(r.body.receiptNo);
    expect(text).toContain('¥32.00');
    expect(text).toContain('请把现金 ¥32.00 退还');
    await shots('38-void-ask');
    await page.getByTestId('void-confirm-no').click();
    expect((await api.call<Sale>('GET', `/api/v1/sales/${r.body.saleId}`)).body.status).toBe('completed');
    await page.getByTestId(`void-${r.body.saleId}`).click();
    await page.getByTestId('void-confirm-yes').click();
    await page.getByTestId('void-done').waitFor();
    expect(await page.getByTestId('void-done-emphasis').textContent()).toBe('请退还现金 ¥32.00');
    await page.getByTestId('void-done-yes').click();
    expect((await api.call<Sale>('GET', `/api/v1/sales/${r.body.saleId}`)).body.status).toBe('voided');
    await poll(() => row.getAttribute('data-status')).toBe('voided');
    await page.getByTestId('recent-close').click();
  });

  it('refuses a Z with nothing counted; shows expected, counted and the difference, and asks before closing', async () => {
    await fresh();
    await page.getByTestId('shift-button').click();
    await page.locator('[data-testid="shift-report"][data-kind="X"]').waitFor();
    await page.getByTestId('shift-close').click();
    await poll(() => page.getByTestId('message').textContent()).toContain('请先清点钱箱');
    expect((await api.call<{ status: string }>('GET', '/api/v1/shifts/current')).body.status).toBe('open');

    // An explicit ¥0 is allowed, but the confirmation says so; going back records nothing.
    await keys('0');
    await page.getByTestId('shift-close').click();
    await page.getByTestId('shift-close-confirm').waitFor();
    await page.getByTestId('close-zero').waitFor();
    await page.getByTestId('shift-close-back').click();
    expect((await api.call<{ status: string }>('GET', '/api/v1/shifts/current')).body.status).toBe('open');
    expect((await ledgerTypes()).some((r) => r.type === 'shift.closed')).toBe(false);

    const x = await api.call<{ shiftId: string; totals: { expectedCash: number } }>(
      'GET',
      '/api/v1/shifts/current',
    );
    await keys('C300');
    await page.getByTestId('shift-close').click();
    await page.getByTestId('shift-close-confirm').waitFor();
    const difference = 30_000 - x.body.totals.expectedCash;
    expect(await page.getByTestId('close-expected').textContent()).toBe(
      formatMoney(x.body.totals.expectedCash),
    );
    expect(await page.getByTestId('close-counted').textContent()).toBe('¥300.00');
    expect(await page.getByTestId('close-difference').textContent()).toBe(formatMoney(difference));
    await shots('39-shift-close-confirm');
    expect((await ledgerTypes()).some((r) => r.type === 'shift.closed')).toBe(false);
    await page.getByTestId('shift-close-yes').click();
    await page.locator('[data-testid="shift-report"][data-kind="Z"]').waitFor();
    expect(await page.getByTestId('shift-difference').textContent()).toBe(formatMoney(difference));
    const z = await api.call<{ status: string; difference: number; countedCash: number }>(
      'GET',
      `/api/v1/shifts/${x.body.shiftId}`,
    );
    expect(z.body).toMatchObject({ status: 'closed', countedCash: 30_000, difference });
    await shots('40-shift-z');
  });
});
