import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const outer = mkdtempSync(join(tmpdir(), 'posd-alone-'));
const copy = join(outer, 'posd');

afterAll(() => rmSync(outer, { recursive: true, force: true }));

/** The repository's own files, copied into a folder with nothing beside it. */
function copyRepository(): void {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
  for (const f of files) {
    mkdirSync(dirname(join(copy, f)), { recursive: true });
    try {
      cpSync(join(ROOT, f), join(copy, f));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // deleted, not yet committed
    }
  }
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  // A repository of its own, as a clone would be (the self-containment check lists files with git).
  execFileSync('git', ['init', '-q'], { cwd: copy });
  execFileSync('git', ['add', '-A'], { cwd: copy });
}

describe('a copy of the repository with nothing beside it', () => {
  it('builds and passes the tests that read the contracts and check for outside paths', () => {
    copyRepository();
    expect(readdirSync(outer)).toEqual(['posd']);
    const run = (cmd: string, args: string[]) =>
      execFileSync(cmd, args, {
        cwd: copy,
        encoding: 'utf8',
        stdio: 'pipe',
        env: { ...process.env, CI: 'true' },
      });
    run('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
    const out = run('npx', [
      'vitest',
      'run',
      'tests/unit/offline/ledger.test.ts',
      'tests/unit/services/config-service.test.ts',
      'tests/unit/repo/self-contained.test.ts',
    ]);
    expect(out).toMatch(/\b0 failed\b/);
    expect(out).toMatch(/\b[1-9]\d* passed\b/);
  }, 240_000);
});
