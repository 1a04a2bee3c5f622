import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonProcess, TestConfig } from '../helpers/daemon.js';
import { writeTestConfig } from '../helpers/daemon.js';
import { buildUi, launchBrowser, signIn, startDaemon, stopDaemon, writeCashiers } from './ui-harness.js';

let cfg: TestConfig;
let daemon: DaemonProcess;
let browser: Browser;

beforeAll(async () => {
  buildUi();
  cfg = await writeTestConfig();
  writeCashiers(cfg);
  daemon = await startDaemon(cfg);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  if (daemon) await stopDaemon(daemon);
});

/** Right-clicks the middle of the page; true when the page kept the browser's menu shut. */
async function rightClickPrevented(page: Page): Promise<boolean> {
  // Listening on window, after the page's own listeners on document have run.
  await page.evaluate(`new Promise((ready) => {
    window.__menu = new Promise((seen) =>
      window.addEventListener('contextmenu', (ev) => seen(ev.defaultPrevented), { once: true }),
    );
    ready();
  })`);
  await page.mouse.click(300, 300, { button: 'right' });
  return page.evaluate<boolean>('window.__menu');
}

describe('the kiosk pages (cashier and customer screens)', () => {
  it('open no browser context menu on a right-click or long press', async () => {
    const context = await browser.newContext({ viewport: { width: 1024, height: 600 } });
    const cashier = await context.newPage();
    await cashier.goto(`http://127.0.0.1:${cfg.port}/`);
    await cashier.getByTestId('pin-ok').waitFor();
    expect(await rightClickPrevented(cashier)).toBe(true);

    const customer = await context.newPage();
    await customer.goto(`http://127.0.0.1:${cfg.port}/customer`);
    await customer.getByTestId('customer-idle').waitFor();
    expect(await rightClickPrevented(customer)).toBe(true);
    await context.close();
  });

  it('keep a tap when the screen is redrawn between the finger going down and up', async () => {
    const context = await browser.newContext({ viewport: { width: 1024, height: 600 } });
    const cashier = await context.newPage();
    await cashier.goto(`http://127.0.0.1:${cfg.port}/`);
    const key = cashier.getByTestId('pin-key-1');
    await key.waitFor();
    const box = (await key.boundingBox())!;
    for (let tap = 1; tap <= 2; tap++) {
      await cashier.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await cashier.mouse.down();
      // An event from the daemon (a sale synced, the link back) redraws the screen mid-tap.
      await cashier.evaluate('window.posd.render()');
      await cashier.mouse.up();
      await expect.poll(() => cashier.getByTestId('pin-dots').textContent()).toBe('●'.repeat(tap));
    }
    await context.close();
  });

  it('show the PIN pad while the sign-in check hangs, and the sale screen once it answers', async () => {
    const context = await browser.newContext({ viewport: { width: 1024, height: 600 } });
    const cashier = await context.newPage();
    await cashier.goto(`http://127.0.0.1:${cfg.port}/`);
    await signIn(cashier);
    // The page reloads (a kiosk restart) and its first "who is signed in" gets no answer.
    let asked = 0;
    await cashier.route('**/api/v1/session', async (route) => {
      if (route.request().method() === 'GET' && ++asked === 1) return; // held: never answered
      await route.continue();
    });
    await cashier.reload();
    await cashier.locator('body[data-ready="signin"]').waitFor();
    await cashier.getByTestId('pin-key-1').waitFor();
    // Asked again: the cashier still signed in gets the sale screen back without a PIN.
    await cashier.locator('body[data-ready="live"]').waitFor({ timeout: 20_000 });
    expect(asked).toBeGreaterThanOrEqual(2);
    await context.close();
  });
});
