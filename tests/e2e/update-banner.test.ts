import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_VERSION } from '../../src/version.js';
import type { DaemonProcess, TestConfig } from '../helpers/daemon.js';
import { writeTestConfig } from '../helpers/daemon.js';
import { FakeRauc } from '../helpers/fake-rauc.js';
import { waitFor } from '../helpers/wait.js';
import {
  buildUi,
  launchBrowser,
  screenshot,
  signIn,
  startDaemon,
  stopDaemon,
  TEST_PIN,
} from './ui-harness.js';

/*
 * Issue 20 in Chromium at 1024x600: an installed update waits for its window; the cashier screen
 * says when the terminal restarts (zh and en), and only a manager's PIN restarts it now.
 */

const MANAGER_PIN = '8642';
const hour = (new Date().getHours() + 3) % 24;
const hh = (h: number) => String(h).padStart(2, '0');
/** The window's start as the banner says it: with its date when that is not today (after 21:00). */
function restartsAt(lang: 'zh-CN' | 'en'): string {
  const start = new Date();
  if (hour < start.getHours()) start.setDate(start.getDate() + 1);
  const today = start.toDateString() === new Date().toDateString();
  return today ? `${hh(hour)}:00` : `${start.toLocaleDateString(lang)} ${hh(hour)}:00`;
}

let cfg: TestConfig;
let rauc: FakeRauc;
let daemon: DaemonProcess;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  buildUi();
  const base = await writeTestConfig();
  rauc = new FakeRauc(base.dir, { bootedVersion: APP_VERSION, otherVersion: '99.0.0' });
  cfg = await writeTestConfig(
    {
      update: {
        rauc: rauc.argv,
        reboot: rauc.rebootArgv,
        window: `${hh(hour)}:00-${hh((hour + 1) % 24)}:00`,
      },
    },
    base.dir,
  );
  mkdirSync(cfg.stateDir, { recursive: true });
  writeFileSync(
    join(cfg.stateDir, 'cashiers.json'),
    JSON.stringify({
      cashiers: [
        { id: 'c1', name: '王芳', pin: TEST_PIN },
        { id: 'm1', name: '李店长', pin: MANAGER_PIN, role: 'manager' },
      ],
    }),
  );
  // RAUC installed 99.0.0 into the other slot; the window is hours away.
  writeFileSync(
    join(cfg.stateDir, 'update-state.json'),
    JSON.stringify({
      state: 'waiting-to-reboot',
      version: '99.0.0',
      fromVersion: APP_VERSION,
      attemptId: 'e2e',
    }),
  );
  daemon = await startDaemon(cfg);
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1024, height: 600 }, locale: 'zh-CN' });
  page = await context.newPage();
  await page.goto(`http://127.0.0.1:${cfg.port}/`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (daemon) await stopDaemon(daemon);
});

describe('the update banner', () => {
  it('says when the terminal restarts, in Chinese and in English', async () => {
    await signIn(page);
    const text = page.getByTestId('update-text');
    await expect
      .poll(() => text.textContent())
      .toBe(`更新 99.0.0 已就绪，将于 ${restartsAt('zh-CN')} 自动重启`);
    await screenshot(page, 'update-01-banner-zh');
    await page.getByTestId('lang-toggle').click();
    await expect.poll(() => text.textContent()).toBe(`Update 99.0.0 ready, restarts at ${restartsAt('en')}`);
    await screenshot(page, 'update-02-banner-en');
    await page.getByTestId('lang-toggle').click();
  });

  it('a cashier’s PIN does not restart the terminal; a manager’s does, at once', async () => {
    await page.getByTestId('update-pin').fill(TEST_PIN);
    await page.getByTestId('update-restart').click();
    await expect.poll(() => page.getByTestId('message-code').textContent()).toBe('FORBIDDEN');
    expect(rauc.calls('reboot')).toEqual([]);
    await page.getByTestId('update-pin').fill(MANAGER_PIN);
    await page.getByTestId('update-restart').click();
    await waitFor(() => (rauc.calls('reboot').length === 1 ? true : undefined), 'the reboot');
    await expect.poll(() => page.getByTestId('update-banner').textContent()).toBe('正在重启以完成更新…');
    await screenshot(page, 'update-03-restarting');
  });
});
