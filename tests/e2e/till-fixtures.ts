import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import type { CloudService } from '../../cloud/cloud-service.js';
import { PrinterSim, type SimReceipt } from '../../src/drivers/sim/printer-sim.js';
import { apiClient } from '../helpers/api.js';
import { cloudKeys, pushConfigAndWaitOnline, startCloud } from '../helpers/cloud-fixture.js';
import { type DaemonProcess, type TestConfig, writeTestConfig } from '../helpers/daemon.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { silentLogger } from '../helpers/test-log.js';
import { waitFor } from '../helpers/wait.js';
import { ARTIFACTS, buildUi, launchBrowser, startDaemon, stopDaemon, writeCashiers } from './ui-harness.js';

/**
 * The business config of a printing till: a code waits ~2 s for the customer, 4 s at most; online
 * orders auto-accepted after 10 minutes, long enough that the cashier decides in every test.
 */
export const PRINTING_TILL_BUSINESS = {
  payments: {
    requestTimeoutMs: 1_000,
    queryDelayMs: 1_000,
    queryIntervalMs: 1_000,
    resolveWithinMs: 4_000,
    qrExpirySeconds: 30,
  },
  orders: { autoAcceptSeconds: 600 },
};

/** What a test file's till is made of; `daemon` is the one running now (a test may restart it). */
export interface Till {
  cfg: TestConfig;
  daemon: DaemonProcess;
  api: ReturnType<typeof apiClient>;
  browser: Browser;
  context: BrowserContext;
  /** The cashier screen at 1024x600, zh-CN, loaded (not signed in). */
  page: Page;
}

export interface PrintingTill extends Till {
  cloud: CloudService;
  sim: PrinterSim;
}

/** Chromium on the cashier screen of the daemon `cfg` describes. */
async function openCashierScreen(cfg: TestConfig) {
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1024, height: 600 }, locale: 'zh-CN' });
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${cfg.port}/`);
  return { browser, context, page };
}

/** Reads a fixture's parts once its beforeAll has run. */
function readyParts<T>(parts: Partial<T>, all: ReadonlyArray<keyof T>): () => T {
  return () => {
    for (const k of all)
      if (parts[k] === undefined) throw new Error(`the till is started in beforeAll (${String(k)})`);
    return parts as T;
  };
}

const TILL_PARTS = ['cfg', 'daemon', 'api', 'browser', 'context', 'page'] as const;

/**
 * A till with no cloud, for one test file: `posd run` with the test cashiers and Chromium on its
 * cashier screen; stopped after the file's tests.
 */
export function localTill(): () => Till {
  const parts: Partial<Till> = {};
  beforeAll(async () => {
    buildUi();
    const cfg = await writeTestConfig();
    parts.cfg = cfg;
    writeCashiers(cfg);
    parts.daemon = await startDaemon(cfg);
    parts.api = apiClient(cfg.port, cfg.stateDir);
    Object.assign(parts, await openCashierScreen(cfg));
  });
  afterAll(async () => {
    await parts.browser?.close();
    if (parts.daemon) await stopDaemon(parts.daemon);
  });
  return readyParts(parts, TILL_PARTS);
}

/**
 * A till on a real terminal's setup, for one test file: the reference cloud behind a mosquitto
 * broker, a simulated ESC/POS printer on TCP in this process (each receipt kept as a PNG under
 * test-artifacts/e2e/receipts/), the simulated scanner and customer display, a shift open with no
 * float, `business` applied, the printer ready, and Chromium on the cashier screen.
 */
export function printingTill(
  device: string,
  business: Record<string, unknown> = PRINTING_TILL_BUSINESS,
): () => PrintingTill {
  const broker = new Mosquitto();
  const keys = cloudKeys();
  const parts: Partial<PrintingTill> = {};
  beforeAll(async () => {
    buildUi();
    await broker.start();
    const cloud = await startCloud(broker.url, keys.privateKey);
    parts.cloud = cloud;
    const sim = new PrinterSim({ paperWidth: 80, log: silentLogger(), outDir: join(ARTIFACTS, 'receipts') });
    parts.sim = sim;
    const simPort = await sim.listen();
    const cfg = await writeTestConfig({
      device: { tenant: 't1', id: device },
      mqtt: { url: broker.url, reconnectMinMs: 100, reconnectMaxMs: 300 },
      cloud: { publicKey: keys.publicPem },
      printer: { uri: `tcp://127.0.0.1:${simPort}`, paperWidth: 80 },
      scanner: { uri: 'sim:' },
      display: { uri: 'sim:' },
    });
    parts.cfg = cfg;
    writeCashiers(cfg);
    parts.daemon = await startDaemon(cfg);
    const api = apiClient(cfg.port, cfg.stateDir);
    parts.api = api;
    // The cashier's float (the UI asks for it before the first sale: money-screens.test.ts).
    const shift = await api.call('POST', '/api/v1/shifts', { openingCash: 0 });
    expect(shift.status).toBe(201);
    await pushConfigAndWaitOnline(cloud, api, device, business);
    await waitFor(
      async () => {
        const d = await api.call<{ printer: { state: string } }>('GET', '/api/v1/devices');
        return d.body.printer.state === 'ready' ? true : undefined;
      },
      'printer ready',
      30_000,
    );
    Object.assign(parts, await openCashierScreen(cfg));
  }, 120_000);
  afterAll(async () => {
    await parts.browser?.close();
    if (parts.daemon) await stopDaemon(parts.daemon);
    await parts.cloud?.stop();
    await broker.stop();
    await parts.sim?.close();
  });
  return readyParts(parts, [...TILL_PARTS, 'cloud', 'sim']);
}

/** The text of a receipt as printed, line by line. */
export const receiptText = (r: SimReceipt): string => r.lines.join('\n');

/** The receipts the simulated printer has printed that hold `needle`. */
export const receiptsWith = (sim: PrinterSim, needle: string): SimReceipt[] =>
  sim.receipts.filter((r) => receiptText(r).includes(needle));
