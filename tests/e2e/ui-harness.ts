import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import {
  type DaemonProcess,
  spawnPosd,
  type TestConfig,
  waitHealthy,
  withTimeout,
} from '../helpers/daemon.js';

const ROOT = resolve(import.meta.dirname, '../..');
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e');
export const TEST_PIN = '2468';

/**
 * Compiles ui/ to dist/ui/ when a source is newer than its output (`npm test` has built it). Never
 * rewrites a file in place: a browser of another test file may be loading these modules this very
 * moment, and a half-written one fails the page's whole module graph (a blank screen). So it
 * compiles beside them and renames each file in, which a reader sees whole or not at all.
 */
export function buildUi(): void {
  const src = join(ROOT, 'ui', 'src');
  const out = join(ROOT, 'dist', 'ui');
  const stale = readdirSync(src)
    .filter((f) => f.endsWith('.ts'))
    .some((f) => {
      const built = join(out, f.replace(/\.ts$/, '.js'));
      return !existsSync(built) || statSync(built).mtimeMs < statSync(join(src, f)).mtimeMs;
    });
  if (!stale) return;
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const staging = mkdtempSync(join(ROOT, 'dist', '.ui-build-'));
  try {
    execFileSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/typescript/bin/tsc'),
        '-p',
        join(ROOT, 'ui/tsconfig.json'),
        '--outDir',
        staging,
      ],
      { stdio: 'inherit' },
    );
    mkdirSync(out, { recursive: true });
    for (const f of readdirSync(staging)) renameSync(join(staging, f), join(out, f));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** A cashier for the test daemon, written where the daemon reads it. */
export function writeCashiers(cfg: TestConfig): void {
  mkdirSync(cfg.stateDir, { recursive: true });
  writeFileSync(
    join(cfg.stateDir, 'cashiers.json'),
    JSON.stringify({ cashiers: [{ id: 'c1', name: '王芳', pin: TEST_PIN }] }),
  );
}

export async function startDaemon(cfg: TestConfig): Promise<DaemonProcess> {
  const d = spawnPosd(['run', '--config', cfg.file]);
  await waitHealthy(cfg.port);
  return d;
}

export async function stopDaemon(d: DaemonProcess): Promise<void> {
  if (d.child.exitCode !== null || d.child.signalCode !== null) return;
  d.child.kill('SIGTERM');
  await withTimeout(d.exited, 6_000, 'daemon exit');
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** Taps the PIN keypad and waits for the live cashier screen. */
export async function signIn(page: Page, pin = TEST_PIN): Promise<void> {
  await page
    .locator('body[data-ready="signin"]')
    .waitFor()
    .catch(async (err: unknown) => {
      // What the page showed instead, for the failure's message.
      const shown = await page
        .evaluate(
          "location.href + ' ready=' + document.body.dataset.ready + ' ' + document.body.innerText.slice(0, 300)",
        )
        .catch((e: unknown) => String(e));
      throw new Error(`no PIN pad: ${String(shown)}\n${String(err)}`);
    });
  for (const digit of pin) await page.getByTestId(`pin-key-${digit}`).click();
  await page.getByTestId('pin-ok').click();
  await page.locator('body[data-ready="live"]').waitFor();
}
