import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ARTIFACTS = resolve('test-artifacts/printer');

/** Writes a PNG under test-artifacts/printer and returns its path. */
export function saveArtifact(name: string, png: Buffer): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name);
  writeFileSync(path, png);
  return path;
}

/** The QR payloads zbarimg reads from a PNG: raw bytes (-Sbinary) as UTF-8, no charset guessing. */
export function zbarRead(path: string): Promise<string[]> {
  return new Promise((ok, fail) => {
    execFile('zbarimg', ['-q', '--raw', '-Sbinary', '-Sdisable', '-Sqrcode.enable', path], (err, stdout) => {
      if (err && (err as { code?: number }).code !== 4) return fail(err);
      ok(stdout.split('\n').filter((l) => l.length > 0));
    });
  });
}
