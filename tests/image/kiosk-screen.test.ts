import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPng, keyCentres, keypadFigures } from '../../image/kiosk-screen.mjs';
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
import { freePort, tempDir, writeTestConfig } from '../helpers/daemon.js';

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
    const box = checkPng(file).figures.keysBox as { x: number; y: number; w: number; h: number };
    const keys = keyCentres(box);
    for (const k of [...TEST_PIN, 'OK']) await page.mouse.click(keys[k]!.x, keys[k]!.y);
    await page.locator('body[data-ready="live"]').waitFor();
    await page.close();
  });

  it('is not a blank screen, a console or an error page', async () => {
    const blank = new PNG({ width: 320, height: 200 });
    blank.data.fill(0);
    expect(keypadFigures(blank).keypad).toBe(false);
    blank.data.fill(255);
    expect(keypadFigures(blank).keypad).toBe(false);
    const closed = await freePort();
    const error = checkPng(await shot(`http://127.0.0.1:${closed}/`, 'error-page'));
    expect(error.keypad).toBe(false);
    const file = join(tempDir(), 'x.png');
    writeFileSync(file, PNG.sync.write(blank));
    expect(checkPng(file).keypad).toBe(false);
  });
});
