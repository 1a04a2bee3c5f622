import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Frame, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '../../cloud/cloud-service.js';
import { PrinterSim } from '../../src/drivers/sim/printer-sim.js';
import { apiClient } from '../helpers/api.js';
import { cloudKeys, startCloud } from '../helpers/cloud-fixture.js';
import { type DaemonProcess, type TestConfig, tempDir, writeTestConfig } from '../helpers/daemon.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { silentLogger } from '../helpers/test-log.js';
import { waitFor } from '../helpers/wait.js';
import { screenshot, signIn, startDaemon, stopDaemon, writeCashiers } from './ui-harness.js';

/*
 * Store apps in Chromium (contract platform-v1): each app on its own *.apps.localhost origin, in a
 * sandboxed frame of the cashier UI, handed its token by postMessage. Two apps cannot read each
 * other's storage or the cashier's session; an app token does not work from another app's origin;
 * the bill-collection app takes a code payment that goes USERPAYING then SUCCESS, prints a slip,
 * and the cloud holds its records with the app's appId. Needs `npm run build` (dist/apps, dist/sdk).
 */

const ROOT = resolve(import.meta.dirname, '../..');
const DEVICE = 'APPS1';
const QUEUE = 'cn.posd.queue-numbers';
const BILLS = 'cn.posd.bill-collection';
const broker = new Mosquitto();
const keys = cloudKeys();
let cloud: CloudService;
let sim: PrinterSim;
let cfg: TestConfig;
let appsPort: number;
let daemon: DaemonProcess;
let context: BrowserContext;
let page: Page;
let api: ReturnType<typeof apiClient>;

const originOf = (id: string) => `http://${id.replaceAll('.', '-')}.apps.localhost:${appsPort}`;

async function installFromDist(id: string): Promise<void> {
  const res = await fetch(`${api.base}/api/v1/apps`, {
    method: 'POST',
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/gzip' },
    body: readFileSync(join(ROOT, 'dist', 'apps', `${id}.tar.gz`)),
  });
  expect(res.status, await res.text()).toBe(201);
}

beforeAll(async () => {
  await broker.start();
  cloud = await startCloud(broker.url, keys.privateKey);
  sim = new PrinterSim({ paperWidth: 80, log: silentLogger() });
  const simPort = await sim.listen();
  cfg = await writeTestConfig({
    device: { tenant: 't1', id: DEVICE },
    mqtt: { url: broker.url, reconnectMinMs: 100, reconnectMaxMs: 300 },
    cloud: { publicKey: keys.publicPem },
    printer: { uri: `tcp://127.0.0.1:${simPort}`, paperWidth: 80, autoPrint: false },
    scanner: { uri: 'sim:' },
  });
  // Port 0: the apps listener takes a free one (the launcher names it), no race with other tests.
  const config = JSON.parse(readFileSync(cfg.file, 'utf8')) as { ui: Record<string, unknown> };
  config.ui.appsPort = 0;
  writeFileSync(cfg.file, JSON.stringify(config));
  writeCashiers(cfg);
  daemon = await startDaemon(cfg);
  api = apiClient(cfg.port, cfg.stateDir);
  expect((await api.call('POST', '/api/v1/shifts', { openingCash: 0 })).status).toBe(201);
  await installFromDist(QUEUE);
  await installFromDist(BILLS);
  appsPort = await waitFor(async () => {
    const { apps } = (await api.call<{ apps: Array<{ origin: string }> }>('GET', '/api/v1/launcher')).body;
    const port = Number(new URL(apps[0]?.origin ?? 'http://x:0').port);
    return port > 0 ? port : undefined;
  }, 'the apps listener');
  await waitFor(
    async () => ((await api.call('GET', '/api/v1/status')).body.cloud === 'online' ? true : undefined),
    'the cloud link',
    30_000,
    100,
  );
  // A profile like the kiosk's (not incognito), with third-party storage allowed as the kiosk
  // allows it (docs/platform.md): framed apps get their own storage, partitioned by origin.
  context = await chromium.launchPersistentContext(tempDir('posd-chromium-'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
      '--disable-features=TrackingProtection3pcd',
    ],
    viewport: { width: 1280, height: 800 },
    locale: 'zh-CN',
  });
  page = await context.newPage();
  await page.goto(`http://127.0.0.1:${cfg.port}/`);
  await signIn(page);
}, 90_000);

afterAll(async () => {
  await context?.close();
  if (daemon) await stopDaemon(daemon);
  await cloud?.stop();
  await broker.stop();
  await sim?.close();
});

/** Opens an app from the apps screen and waits for it to hold its session. */
async function openApp(id: string): Promise<Frame> {
  if (await page.getByTestId('apps-screen').isVisible()) await page.getByTestId('apps-close').click();
  await page.getByTestId('apps-button').click();
  await page.getByTestId(`app-${id}`).click();
  const handle = await page.locator(`iframe[data-app-id="${id}"]`).elementHandle();
  const frame = (await handle!.contentFrame())!;
  await frame.locator('body[data-state="ready"]').waitFor({ timeout: 20_000 });
  return frame;
}

const scan = (code: string) => api.call('POST', '/api/v1/devices/scanner/scans', { code });

describe('store apps in Chromium', () => {
  it('resolves *.apps.localhost to this machine (Chromium does it itself)', async () => {
    const frame = await openApp(QUEUE);
    expect(frame.url()).toBe(`${originOf(QUEUE)}/`);
    expect(await frame.evaluate('location.origin')).toBe(originOf(QUEUE));
  });

  it('queue numbers: takes a number, prints the ticket, shows it on the customer display', async () => {
    const frame = await openApp(QUEUE);
    const before = sim.receipts.length;
    await frame.locator('#take').click();
    await frame.locator('body[data-state="printed"]').waitFor({ timeout: 20_000 });
    const number = await frame.locator('#number').textContent();
    expect(number).toMatch(/^A\d{3}$/);
    await waitFor(() => (sim.receipts.length > before ? true : undefined), 'ticket printed', 20_000);
    const ticket = sim.receipts
      .slice(before)
      .map((r) => r.lines.join('\n'))
      .join('\n');
    expect(ticket).toContain('排队取号');
    expect(ticket).toContain(number!);
    await screenshot(page, 'apps-01-queue-number');
  });

  it("two apps cannot read each other's storage or the cashier's session; a token does not work from another app's origin", async () => {
    const queue = await openApp(QUEUE);
    await queue.evaluate("localStorage.setItem('secret', 'queue-only')");
    expect(await queue.evaluate("localStorage.getItem('secret')")).toBe('queue-only');
    const bills = await openApp(BILLS);
    // Browser code, given as text (the tests are typed for Node).
    const seen = await bills.evaluate(`(async () => {
      let parentDoc = 'blocked';
      try {
        parentDoc = String(window.parent.document.cookie);
      } catch {}
      // The cashier's session from an app origin: the API never allows credentials (the browser
      // refuses to hand over the answer), and without them it is 401.
      const status = (init) =>
        fetch(${JSON.stringify(api.base)} + '/api/v1/session', init).then((r) => r.status, () => 'blocked');
      return {
        other: localStorage.getItem('secret'),
        queueState: localStorage.getItem('queue'),
        cookie: document.cookie,
        parentDoc,
        withCookie: await status({ credentials: 'include' }),
        session: await status({ credentials: 'omit' }),
      };
    })()`);
    expect(seen).toEqual({
      other: null,
      queueState: null,
      cookie: '',
      parentDoc: 'blocked',
      withCookie: 'blocked',
      session: 401,
    });
    // The cashier's page cannot read into an app either.
    expect(await page.evaluate('document.querySelector("iframe[data-app-id]").contentDocument')).toBeNull();

    // The queue app's token, used from the bill app's origin: refused; the bill app's own works.
    const queueToken = (await api.call('POST', `/api/v1/apps/${QUEUE}/sessions`)).body.token as string;
    const billsToken = (await api.call('POST', `/api/v1/apps/${BILLS}/sessions`)).body.token as string;
    const post = (token: string) =>
      bills.evaluate(`fetch(${JSON.stringify(api.base)} + '/api/v1/print-jobs', {
        method: 'POST',
        headers: { authorization: 'Bearer ${token}', 'content-type': 'application/json' },
        body: JSON.stringify({ document: { lines: [{ text: 'cross-origin test' }], cut: false } }),
      }).then((r) => r.status)`);
    const statuses = { stolen: await post(queueToken), own: await post(billsToken) };
    expect(statuses).toEqual({ stolen: 403, own: 202 });
    await screenshot(page, 'apps-02-bill-collection-open');
  });

  it('bill collection: a bill scanned, paid by a code that goes USERPAYING then SUCCESS, a slip printed, the cloud has it with the appId', async () => {
    const frame = await openApp(BILLS);
    // Every state the app shows, in order (browser code, given as text: the tests are typed for Node).
    await frame.evaluate(`
      window.states = [];
      new MutationObserver(() => window.states.push(document.body.dataset.state)).observe(document.body, {
        attributes: true,
        attributeFilter: ['data-state'],
      });
    `);
    expect((await scan('BILL:ELEC:1234567890:12345')).status).toBe(202);
    await frame.locator('body[data-state="bill"]').waitFor();
    expect(await frame.locator('#amount').textContent()).toBe('￥123.45');
    const before = sim.receipts.length;
    // A WeChat code ending in 5: the simulator answers USERPAYING, then SUCCESS on the 2nd query.
    expect((await scan('134567890123456785')).status).toBe(202);
    await frame.locator('body[data-state="pending"]').waitFor({ timeout: 10_000 });
    await screenshot(page, 'apps-03-bill-waiting-for-customer');
    await frame.locator('body[data-state="paid"]').waitFor({ timeout: 40_000 });
    const states = (await frame.evaluate('window.states')) as string[];
    expect(states.indexOf('pending')).toBeGreaterThanOrEqual(0);
    expect(states.indexOf('pending')).toBeLessThan(states.indexOf('paid'));
    await screenshot(page, 'apps-04-bill-paid');

    // The cashier's own screen took no part: no sale of its own, no payment screen.
    expect(await page.getByTestId('apps-screen').isVisible()).toBe(true);

    // On paper.
    await waitFor(
      () =>
        sim.receipts.slice(before).some((r) => r.lines.join('\n').includes('缴费凭条')) ? true : undefined,
      'the slip',
      20_000,
    );
    const slip = sim.receipts
      .slice(before)
      .map((r) => r.lines.join('\n'))
      .find((t) => t.includes('缴费凭条'))!;
    expect(slip).toContain('1234567890');
    expect(slip).toContain('123.45');

    // In the cloud, with the app's id; the acquirer saw USERPAYING first (queried until SUCCESS).
    const records = await waitFor(
      () => {
        const rs = cloud.store.facts('t1', DEVICE);
        return rs.some(
          (r) => r.type === 'sale.completed' && (r.body as Record<string, unknown>).appId === BILLS,
        )
          ? rs
          : undefined;
      },
      'the app sale in the cloud',
      30_000,
    );
    const bodies = records.map((r) => ({ type: r.type, body: r.body as Record<string, unknown> }));
    const paid = bodies.find((r) => r.type === 'payment.succeeded' && r.body.appId === BILLS)!;
    expect(paid.body).toMatchObject({ method: 'code', channel: 'wechat', amount: 12_345, appId: BILLS });
    const completed = bodies.find((r) => r.type === 'sale.completed' && r.body.appId === BILLS)!;
    expect(completed.body.saleId).toBe(paid.body.saleId);
    const acquired = cloud.acquirer.payment({ tenant: 't1', device: DEVICE }, String(paid.body.paymentId));
    expect(acquired).toMatchObject({ status: 'SUCCESS', behaviour: '5' });
    expect(acquired!.queries).toBeGreaterThanOrEqual(2);
  });

  it("removal revokes: the open app's next call gets 401 and it says so", async () => {
    const frame = await openApp(QUEUE);
    const r = await fetch(`${api.base}/api/v1/apps/${QUEUE}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${api.token}` },
    });
    expect(r.status).toBe(204);
    await frame.locator('#take').click();
    await frame.locator('body[data-state="ended"]').waitFor({ timeout: 10_000 });
    await screenshot(page, 'apps-05-removed');
  });
});
