import { readFileSync, statSync, utimesSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildUi } from '../../e2e/ui-harness.js';

/*
 * The browser tests of two test files run at once: one may load the cashier page's modules while
 * another calls buildUi(). A module rewritten in place can be read half-written, and the page's
 * whole module graph then fails. (Suspected when a CI run saw no PIN pad for 30 s; not reproduced:
 * 36 page loads while tsc rewrote the modules without pause all drew the page.)
 */

const ROOT = resolve(import.meta.dirname, '../../..');
const BUILT = join(ROOT, 'dist', 'ui', 'money.js');
const SOURCE = join(ROOT, 'ui', 'src', 'money.ts');

describe("the tests' UI build", () => {
  it('leaves an up-to-date build alone, and replaces a stale module by rename, never in place', () => {
    buildUi();
    const before = statSync(BUILT);
    buildUi();
    expect(statSync(BUILT).ino).toBe(before.ino);
    expect(statSync(BUILT).mtimeMs).toBe(before.mtimeMs);

    // The source edited after the build: rebuilt, into a new file under the same name.
    const edited = (before.mtimeMs + 10) / 1_000;
    utimesSync(SOURCE, edited, edited);
    buildUi();
    const after = statSync(BUILT);
    expect(after.ino).not.toBe(before.ino);
    expect(readFileSync(BUILT, 'utf8')).toContain('export function parseYuan');
    buildUi();
    expect(statSync(BUILT).ino).toBe(after.ino);
  }, 120_000);
});
