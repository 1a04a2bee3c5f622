import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkPng,
  customerFigures,
  enterPin,
  keyCentres,
  keypadFigures,
  pinScreen,
} from '../../image/kiosk-screen.mjs';
import {
  ARTIFACTS,
  buildUi,
  launchBrowser,
  startDaemon,
  stopDaemon,
  TEST_PIN,
  writeCashiers,
} from '../e2e/ui-harness.js';
import type { DaemonProcess, TestConfig } from '../helpers/daemon.js';
import { refusedPort, tempDir, writeTestConfig } from '../helpers/daemon.js';

// image/kiosk-screen.mjs decides whether the image's screendump is the PIN keypad. Checked here on
// the real sign-in page (headless Chromium at the kiosk's size), a blank screen and an error page.
let cfg: TestConfig;
let daemon: DaemonProcess;
let browser: Browser;
const dir = join(ARTIFACTS, 'kiosk-screen');

beforeAll(async () => {
  buildUi();
  cfg = await writeTestConfig();
  writeCashiers(cfg);
  daemon = await startDaemon(cfg);
  browser = await launchBrowser();
  mkdirSync(dir, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  if (daemon) await stopDaemon(daemon);
});

async function shot(url: string, name: string, size = { width: 1280, height: 800 }): Promise<string> {
  const page = await browser.newPage({ viewport: size, locale: 'zh-CN' });
  await page.goto(url).catch(() => undefined);
  if (url.endsWith(`:${cfg.port}/`)) await page.getByTestId('pin-ok').waitFor();
  // Chromium's own error page refuses a capture until it has painted (about 1 in 10 otherwise).
  else await page.locator('#main-frame-error').waitFor();
  await page.evaluate(
    'new Promise((painted) => requestAnimationFrame(() => requestAnimationFrame(painted)))',
  );
  const file = join(dir, `${name}.png`);
  await page.screenshot({ path: file });
  await page.close();
  return file;
}

type Box = { x: number; y: number; w: number; h: number };

/** The sign-in page at a kiosk size, and where its keys are in the first picture of it. */
async function signInPage(size = { width: 1280, height: 800 }) {
  const page = await browser.newPage({ viewport: size, locale: 'zh-CN' });
  await page.goto(`http://127.0.0.1:${cfg.port}/`);
  await page.getByTestId('pin-ok').waitFor();
  const box = keypadFigures(PNG.sync.read(await page.screenshot())).figures.keysBox as Box;
  return { page, box };
}

describe('the keypad on screen', () => {
  it('is recognised on the sign-in page at the kiosk sizes', async () => {
    for (const size of [
      { width: 1280, height: 800 },
      { width: 1024, height: 768 },
      { width: 1024, height: 600 },
    ]) {
      const r = checkPng(
        await shot(`http://127.0.0.1:${cfg.port}/`, `keypad-${size.width}x${size.height}`, size),
      );
      expect(r.reasons, JSON.stringify(r.figures)).toEqual([]);
      expect(r.keypad).toBe(true);
    }
  });

  it('taps the PIN where the picture shows the keys, and the cashier is signed in', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
    await page.goto(`http://127.0.0.1:${cfg.port}/`);
    await page.getByTestId('pin-ok').waitFor();
    const file = join(dir, 'before-taps.png');
    await page.screenshot({ path: file });
    const box = checkPng(file).figures.keysBox as Box;
    const keys = keyCentres(box);
    for (const k of [...TEST_PIN, 'OK']) await page.mouse.click(keys[k]!.x, keys[k]!.y);
    await page.locator('body[data-ready="live"]').waitFor();
    await page.close();
  });

  it('enters the PIN watching the dots: lost taps tapped again, a doubled key cleared, a wrong PIN tried again', async () => {
    const { page, box } = await signInPage();
    const look = async () => pinScreen(PNG.sync.read(await page.screenshot()), box);
    const keys = keyCentres(box);
    const click = (k: string) => page.mouse.click(keys[k]!.x, keys[k]!.y);
    // The dots as the page shows them, read from the picture.
    for (const n of [1, 2, 3]) {
      await click('1');
      await page
        .getByTestId('pin-dots')
        .filter({ hasText: '●'.repeat(n) })
        .waitFor();
      expect(await look()).toMatchObject({ keypad: true, signedIn: false, dots: n, error: false });
    }
    await click('C');
    await page.getByTestId('pin-dots').filter({ hasText: /^\s*$/ }).waitFor();
    expect((await look()).dots).toBe(0);

    // An emulated guest's input: the first tap of each key lost, the third key's second tap counted
    // twice, and the first OK answered "wrong PIN" (a digit lost inside the page).
    const seen = new Map<string, number>();
    let okTaps = 0;
    const tap = async (k: string) => {
      const n = (seen.get(k) ?? 0) + 1;
      seen.set(k, n);
      if (k === 'OK') {
        okTaps += 1;
        if (okTaps === 1) {
          await click('C');
          await click('9');
        }
        return click('OK');
      }
      if (n === 1 && k !== 'C') return;
      await click(k);
      if (k === TEST_PIN[2] && n === 2) await click(k);
    };
    const taps = await enterPin({ tap, look }, TEST_PIN, { settleMs: 2_000, step: 50 });
    await page.locator('body[data-ready="live"]').waitFor();
    expect(taps.retaps).toBeGreaterThanOrEqual(4);
    expect(taps.restarts).toBe(2);
    expect(taps.seen).toBe('screen');
    expect((await look()).signedIn).toBe(true);
    await page.close();
  });

  it('taps where the keys are now when the page lays itself out again (a window made full screen)', async () => {
    // As test.sh's `pin`: the keys from the first picture, then from each picture looked at.
    const opened = await signInPage({ width: 1024, height: 768 });
    const page = opened.page;
    let box = opened.box;
    const first = box;
    await page.setViewportSize({ width: 1280, height: 800 });
    const look = async () => {
      const screen = pinScreen(PNG.sync.read(await page.screenshot()), box);
      box = screen.box;
      return screen;
    };
    const tap = async (k: string) => {
      const at = keyCentres(box)[k]!;
      await page.mouse.click(at.x, at.y);
    };
    const taps = await enterPin({ tap, look }, TEST_PIN, { settleMs: 2_000, step: 50 });
    expect(box.x).not.toBe(first.x);
    expect(taps.restarts).toBe(0);
    await page.locator('body[data-ready="live"]').waitFor();
    await page.close();
  });

  it('takes the guest’s word for the sign-in when the screen goes dark after OK (the kiosk restarted)', async () => {
    const { page, box } = await signInPage();
    const keys = keyCentres(box);
    let dark = false;
    let guestSaw = false;
    const look = async () => {
      const screen = pinScreen(PNG.sync.read(await page.screenshot()), box);
      return dark ? { ...screen, keypad: false, signedIn: false } : screen;
    };
    const tap = async (k: string) => {
      await page.mouse.click(keys[k]!.x, keys[k]!.y);
      if (k === 'OK') {
        await page.locator('body[data-ready="live"]').waitFor();
        dark = true;
      }
    };
    // Dark and no word from the guest: not taken for signed in.
    await expect(
      enterPin({ tap, look, signedIn: async () => guestSaw }, TEST_PIN, {
        tries: 1,
        settleMs: 300,
        step: 50,
      }),
    ).rejects.toThrow(/not taken/);
    guestSaw = true;
    const taps = await enterPin({ tap, look, signedIn: async () => guestSaw }, TEST_PIN, {
      settleMs: 300,
      step: 50,
    });
    expect(taps.seen).toBe('console');
    await page.close();
  });

  it('gives up with the reason when the taps never reach the page', async () => {
    const { page, box } = await signInPage();
    const look = async () => {
      return pinScreen(PNG.sync.read(await page.screenshot()), box);
    };
    await expect(
      enterPin({ tap: async () => {}, look }, TEST_PIN, { tries: 2, settleMs: 300, step: 50 }),
    ).rejects.toThrow(/not taken in 2 tries/);
    await page.close();
  });

  it('tells the customer page on the second screen from the keypad and a blank screen', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
    await page.goto(`http://127.0.0.1:${cfg.port}/customer`);
    await page.locator('body.customer-body #app > *').first().waitFor();
    const customer = customerFigures(PNG.sync.read(await page.screenshot()));
    expect(customer.reasons, JSON.stringify(customer.figures)).toEqual([]);
    await page.goto(`http://127.0.0.1:${cfg.port}/`);
    await page.getByTestId('pin-ok').waitFor();
    expect(customerFigures(PNG.sync.read(await page.screenshot())).customer).toBe(false);
    await page.close();
    const blank = new PNG({ width: 320, height: 200 });
    blank.data.fill(0);
    expect(customerFigures(blank).customer).toBe(false);
  });

  it('is not a blank screen, a console or an error page', async () => {
    const blank = new PNG({ width: 320, height: 200 });
    blank.data.fill(0);
    expect(keypadFigures(blank).keypad).toBe(false);
    // Black (the kiosk restarting) is not the signed-in page either.
    expect(pinScreen(blank, { x: 40, y: 120, w: 200, h: 60 }).signedIn).toBe(false);
    blank.data.fill(255);
    expect(keypadFigures(blank).keypad).toBe(false);
    const closed = await refusedPort();
    const error = checkPng(await shot(`http://127.0.0.1:${closed}/`, 'error-page'));
    expect(error.keypad).toBe(false);
    const file = join(tempDir(), 'x.png');
    writeFileSync(file, PNG.sync.write(blank));
    expect(checkPng(file).keypad).toBe(false);
  });
});
