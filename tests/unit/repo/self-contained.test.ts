import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const CODE_DIRS = ['src', 'tests', 'cloud', 'ui', 'image', 'scripts', 'bench', 'systemd', '.ci'];
const TEXT = /\.(ts|mts|js|mjs|json|sh|md|service|conf|rules|html|css|txt)$|(^|\/)run$/;

/** Relative paths that climb out of `fromDir` past the repository root, and names of the old sibling folder. */
function pathsOutside(root: string, file: string, text: string): string[] {
  const found: string[] = [];
  const fromDir = dirname(resolve(root, file));
  // Code under src/, bench/ and cloud/ also runs compiled from dist/, one level deeper.
  const fromDist = /^(src|bench|cloud)\//.test(file) ? dirname(resolve(root, 'dist', file)) : fromDir;
  const escapes = (dir: string, target: string) => {
    const rel = relative(root, resolve(dir, target));
    return rel.startsWith('..') || isAbsolute(rel);
  };
  const outside = (target: string) => escapes(fromDir, target) && escapes(fromDist, target);
  for (const m of text.matchAll(/(?:^|[\s'"`(=:,])((?:\.\.\/)+[^\s'"`),;]*)/gm)) {
    const p = m[1] as string;
    if (outside(p)) found.push(p);
  }
  // path.resolve(dir, '..', '..', …) written as separate arguments
  for (const m of text.matchAll(/(?:['"]\.\.['"]\s*,\s*)+(?:['"][^'"]*['"])?/g)) {
    const parts = [...m[0].matchAll(/['"]([^'"]*)['"]/g)].map((x) => x[1] as string);
    const joined = parts.join('/');
    if (outside(joined)) found.push(joined);
  }
  for (const m of text.matchAll(
    /\bshared\/(?:contract|ARCHITECTURE\.md|ux-review|hooks)\b|\/work\/[\w.-]+/g,
  )) {
    found.push(m[0]);
  }
  return found;
}

function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return out.split('\n').filter(Boolean);
}

describe('the repository stands alone', () => {
  it('finds a path that climbs out of the repository (the check can fail)', () => {
    // The sibling folder's name is built here, so this file itself names no path outside.
    const sibling = ['..', 'shared'].join('/');
    expect(
      pathsOutside(
        ROOT,
        'tests/unit/x.test.ts',
        `resolve(import.meta.dirname, '../../../${sibling}/contract/v.json')`,
      ),
    ).not.toEqual([]);
    expect(
      pathsOutside(ROOT, 'tests/unit/x.test.ts', "resolve(import.meta.dirname, '..', '..', '..', '..', 'x')"),
    ).not.toEqual([]);
    expect(pathsOutside(ROOT, 'README.md', `see \`${sibling}/ARCHITECTURE.md\``)).not.toEqual([]);
    expect(pathsOutside(ROOT, 'tests/unit/x.test.ts', "import { a } from '../../src/a.js';")).toEqual([]);
    expect(pathsOutside(ROOT, 'bench/x.ts', "resolve(import.meta.dirname, '../../bench/x.c')")).toEqual([]);
    expect(pathsOutside(ROOT, 'bench/x.ts', "resolve(import.meta.dirname, '../../../x.c')")).not.toEqual([]);
  });

  it('no file under src, tests, cloud, ui, image, scripts, bench, systemd or .ci names a path outside it', () => {
    const offenders: string[] = [];
    for (const file of trackedFiles()) {
      if (!CODE_DIRS.some((d) => file.startsWith(`${d}/`)) || !TEXT.test(file)) continue;
      if (file === 'tests/unit/repo/self-contained.test.ts') continue;
      for (const p of pathsOutside(ROOT, file, readFileSync(resolve(ROOT, file), 'utf8')))
        offenders.push(`${file}: ${p}`);
    }
    expect(offenders).toEqual([]);
  });

  it('README and docs link only inside the repository', () => {
    const offenders: string[] = [];
    for (const file of trackedFiles()) {
      if (!(file === 'README.md' || (file.startsWith('docs/') && file.endsWith('.md')))) continue;
      if (file.startsWith('docs/contract/')) continue; // the contracts' own text, kept identical to the source
      for (const p of pathsOutside(ROOT, file, readFileSync(resolve(ROOT, file), 'utf8')))
        offenders.push(`${file}: ${p}`);
    }
    expect(offenders).toEqual([]);
  });
});
