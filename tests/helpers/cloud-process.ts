import { type ChildProcess, spawn } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { tempDir } from './daemon.js';
import { waitFor } from './wait.js';

// From tests/helpers (vitest) or dist/tests/helpers (a bench): the built CLI either way.
const CLI = import.meta.dirname.includes(`${sep}dist${sep}`)
  ? resolve(import.meta.dirname, '../../cloud/cli.js')
  : resolve(import.meta.dirname, '../../dist/cloud/cli.js');

export interface CloudProcess {
  child: ChildProcess;
  stderr: () => string;
}

/** The signing key as a PEM file, for `cli.js serve --key`. */
export function writeKeyFile(privateKey: KeyObject): string {
  const file = join(tempDir('posd-cloud-key-'), 'cloud-key.pem');
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
  return file;
}

/** A reference cloud instance as its own process (`cli.js serve`), once it says it is serving. */
export async function spawnCloud(args: string[], timeoutMs = 60_000): Promise<CloudProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
  });
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`cloud exited: ${err}`);
      return err.includes('cloud serving') ? true : undefined;
    },
    'a cloud instance serving',
    timeoutMs,
    50,
  );
  return { child, stderr: () => err };
}
