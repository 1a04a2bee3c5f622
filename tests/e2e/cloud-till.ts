import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import type { CloudService } from '../../cloud/cloud-service.js';
import { apiClient } from '../helpers/api.js';
import { cloudKeys, pushConfigAndWaitOnline, startCloud } from '../helpers/cloud-fixture.js';
import type { DaemonProcess, TestConfig } from '../helpers/daemon.js';
import { writeTestConfig } from '../helpers/daemon.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { buildUi, launchBrowser, screenshot, startDaemon, stopDaemon, writeCashiers } from './ui-harness.js';

// The page's globals, for the evaluate() callbacks below (tests compile without the DOM library).
interface PageRect {
  left: number;
  right: number;
  top: number;
  bottom: number;
  width: number;
  height: number;
}
interface PageElement {
  getBoundingClientRect(): PageRect;
  getAttribute(name: string): string | null;
  textContent: string | null;
}
declare const window: { innerWidth: number; innerHeight: number };
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
};
declare function getComputedStyle(el: unknown): { overflow: string; overflowX: string; overflowY: string };

/**
 * A till as the cashier meets it: `posd run` at 1024x600 in Chromium, linked to the reference
 * cloud over a real mosquitto through a TCP proxy (so a test can cut the link), with the customer
 * screen in its own window on the cashier's cookie.
 */
export interface CloudTill {
  broker: Mosquitto;
  proxy: TcpProxy;
  cloud: CloudService;
  cfg: TestConfig;
  daemon: DaemonProcess;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  api: ReturnType<typeof apiClient>;
  device: string;
}

export async function startCloudTill(device: string, business: Record<string, unknown>): Promise<CloudTill> {
  buildUi();
  const broker = new Mosquitto();
  await broker.start();
  const proxy = new TcpProxy(broker.port);
  await proxy.start();
  const keys = cloudKeys();
  const cloud = await startCloud(broker.url, keys.privateKey);
  const cfg = await writeTestConfig({
    device: { tenant: 't1', id: device },
    mqtt: { url: `mqtt://127.0.0.1:${proxy.port}`, reconnectMinMs: 100, reconnectMaxMs: 300 },
    cloud: { publicKey: keys.publicPem },
    scanner: { uri: 'sim:' },
  });
  writeCashiers(cfg);
  const daemon = await startDaemon(cfg);
  const api = apiClient(cfg.port, cfg.stateDir);
  await pushConfigAndWaitOnline(cloud, api, device, business);
  // A shift open with its float, as the cashier would have it before the first sale.
  const shift = await api.call('POST', '/api/v1/shifts', { openingCash: 20_000 });
  if (shift.status !== 201 && shift.status !== 200) throw new Error(`shift not opened: ${shift.status}`);
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1024, height: 600 }, locale: 'zh-CN' });
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${cfg.port}/`);
  return { broker, proxy, cloud, cfg, daemon, browser, context, page, api, device };
}

export async function stopCloudTill(t: CloudTill | undefined): Promise<void> {
  if (!t) return;
  await t.browser.close();
  await stopDaemon(t.daemon);
  await t.cloud.stop();
  await t.proxy.stop();
  await t.broker.stop();
}

/** The customer screen: its own window (a background tab is throttled) on the cashier's cookie. */
export async function openCustomer(t: CloudTill): Promise<Page> {
  const second = await t.browser.newContext({ viewport: { width: 1024, height: 600 }, locale: 'zh-CN' });
  await second.addCookies(await t.context.cookies());
  const customer = await second.newPage();
  await customer.goto(`http://127.0.0.1:${t.cfg.port}/customer`);
  await customer.locator('body[data-ready="live"]').waitFor();
  return customer;
}

/** A screenshot at 1024x600 and the same screen at 1280x800 (the two screens the UI is made for). */
export async function screenshotBoth(page: Page, name: string): Promise<void> {
  await page.setViewportSize({ width: 1024, height: 600 });
  await screenshot(page, `${name}-1024x600`);
  await page.setViewportSize({ width: 1280, height: 800 });
  await screenshot(page, `${name}-1280x800`);
  await page.setViewportSize({ width: 1024, height: 600 });
}

/**
 * Whether the element is shown whole: inside the viewport and not cut by any ancestor that clips
 * (overflow hidden/auto/scroll), and its own text not cut with an ellipsis.
 */
export function fullyVisible(el: Locator): Promise<boolean> {
  return el.evaluate((node) => {
    const r = node.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return false;
    if (r.left < 0 || r.top < 0 || r.right > window.innerWidth + 0.5 || r.bottom > window.innerHeight + 0.5)
      return false;
    if (node.scrollWidth > node.clientWidth + 1 && getComputedStyle(node).overflow !== 'visible')
      return false;
    for (let p = node.parentElement; p; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
      const q = p.getBoundingClientRect();
      if (
        r.left < q.left - 0.5 ||
        r.right > q.right + 0.5 ||
        r.top < q.top - 0.5 ||
        r.bottom > q.bottom + 0.5
      )
        return false;
    }
    return true;
  });
}

/** The test ids of visible buttons that the element overlaps (the toast must cover none). */
export function buttonsCovered(page: Page, testId: string): Promise<string[]> {
  return page.evaluate((id) => {
    const el = document.querySelector(`[data-testid="${id}"]`);
    if (!el) return [];
    const r = el.getBoundingClientRect();
    return [...document.querySelectorAll('button')]
      .filter((b) => {
        const q = b.getBoundingClientRect();
        if (q.width === 0 || q.height === 0) return false;
        return q.left < r.right && q.right > r.left && q.top < r.bottom && q.bottom > r.top;
      })
      .map((b) => b.getAttribute('data-testid') ?? b.textContent ?? '');
  }, testId);
}

/** Visible buttons smaller than a fingertip (56 px either way), by test id and size. */
export function smallButtons(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('button')]
      .map((b) => ({ b, r: b.getBoundingClientRect() }))
      .filter(({ r }) => r.width > 0 && r.height > 0 && (r.width < 55.5 || r.height < 55.5))
      .map(({ b, r }) => `${b.getAttribute('data-testid')} ${Math.round(r.width)}x${Math.round(r.height)}`),
  );
}
