import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageJson(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string };
      if (pkg.name === 'posd') return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json of posd not found');
    dir = parent;
  }
}

/** The project root (where package.json is), in source and in dist alike. */
export const PROJECT_ROOT = dirname(findPackageJson());

export const APP_VERSION: string = (
  JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
