// Packs each store app under apps/ into dist/apps/{id}.tar.gz (contract platform-v1 "The package"),
// with the daemon's own tar writer and package check: what the build makes, a terminal accepts.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = resolve(import.meta.dirname, '..');
const { writeTar } = await import(join(root, 'dist/src/platform/tar.js'));
const { checkPackage } = await import(join(root, 'dist/src/platform/package-check.js'));
const out = join(root, 'dist', 'apps');
mkdirSync(out, { recursive: true });

function files(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : [path];
    });
}

for (const name of readdirSync(join(root, 'apps')).sort()) {
  const dir = join(root, 'apps', name);
  if (!statSync(dir).isDirectory()) continue;
  const entries = files(dir).map((path) => ({ path: relative(dir, path), data: readFileSync(path) }));
  const pkg = gzipSync(writeTar(entries), { level: 9 });
  const { manifest } = checkPackage(pkg);
  writeFileSync(join(out, `${manifest.id}.tar.gz`), pkg);
  process.stdout.write(`app ${manifest.id} ${manifest.version}: ${pkg.length} bytes\n`);
}
