import { gzipSync } from 'node:zlib';
import { type TarWriteEntry, writeTar } from '../../src/platform/tar.js';

export interface ManifestInput {
  id?: string;
  name?: string;
  version?: string;
  entry?: string;
  scopes?: string[];
}

export function manifestOf(m: ManifestInput = {}): string {
  return JSON.stringify({
    id: m.id ?? 'com.example.queue',
    name: m.name ?? '排队取号',
    version: m.version ?? '1.0.0',
    entry: m.entry ?? 'index.html',
    scopes: m.scopes ?? ['print', 'display'],
  });
}

/** A gzip'd ustar package: a manifest, an index page, and any extra entries (hostile ones too). */
export function appPackage(
  m: ManifestInput = {},
  extra: TarWriteEntry[] = [],
  page = '<h1>hello</h1>',
): Buffer {
  return gzipSync(
    writeTar([{ path: 'manifest.json', data: manifestOf(m) }, { path: 'index.html', data: page }, ...extra]),
  );
}
