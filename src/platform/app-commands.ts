import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { describeError, PosError } from '../errors.js';
import type { CommandService } from '../services/command-service.js';
import { APP_ID_PATTERN } from './app-id.js';
import type { AppInstaller } from './installer.js';
import { MAX_PACKAGE_BYTES } from './package-check.js';

/** Where a package may come from: `https://`, or `http://` to a loopback host (contract). */
export function packageUrlAllowed(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PosError('VALIDATION_FAILED', 'args.url: not a URL');
  }
  if (url.username || url.password)
    throw new PosError('VALIDATION_FAILED', 'args.url: no credentials in URLs');
  if (url.protocol === 'https:') return url;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback =
    host === 'localhost' ||
    (isIP(host) === 4 && host.startsWith('127.')) ||
    (isIP(host) === 6 && (host === '::1' || host === '0:0:0:0:0:0:0:1'));
  if (url.protocol === 'http:' && loopback) return url;
  throw new PosError('VALIDATION_FAILED', 'args.url: https://, or http:// to a loopback host');
}

export type Fetcher = (url: URL, maxBytes: number) => Promise<Uint8Array>;

/** Downloads at most `maxBytes` (no redirects to elsewhere: a redirect is a failure). */
export const fetchPackage: Fetcher = async (url, maxBytes) => {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(60_000) });
  } catch (err) {
    throw new PosError('APP_DOWNLOAD_FAILED', `download failed: ${describeError(err)}`);
  }
  if (!res.ok || !res.body) throw new PosError('APP_DOWNLOAD_FAILED', `download answered ${res.status}`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > maxBytes) throw new PosError('APP_PACKAGE_INVALID', `package over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
};

function stringArg(args: Record<string, unknown>, key: string): string {
  const v = args[key];
  if (typeof v !== 'string' || v === '' || v.length > 2048)
    throw new PosError('VALIDATION_FAILED', `args.${key}: must be a string`);
  return v;
}

/**
 * `app.install {appId, version, url, sha256, scopes}` and `app.remove {appId}` (mqtt-v1 Commands,
 * signed and run at most once by the command service). The package's sha256 is checked before
 * it is opened; its manifest must say what the command says.
 */
export function registerAppCommands(
  commands: CommandService,
  installer: Pick<AppInstaller, 'install' | 'remove'>,
  fetcher: Fetcher = fetchPackage,
): void {
  commands.register('app.install', async (args) => {
    const appId = stringArg(args, 'appId');
    if (!APP_ID_PATTERN.test(appId) || appId.length > 64)
      throw new PosError('VALIDATION_FAILED', 'args.appId: not an app id');
    const version = stringArg(args, 'version');
    const sha256 = stringArg(args, 'sha256').toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new PosError('VALIDATION_FAILED', 'args.sha256: 64 hex digits');
    const scopes = args.scopes;
    if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string'))
      throw new PosError('VALIDATION_FAILED', 'args.scopes: a list of scopes');
    const url = packageUrlAllowed(stringArg(args, 'url'));
    const bytes = await fetcher(url, MAX_PACKAGE_BYTES);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256) throw new PosError('APP_PACKAGE_INVALID', 'the package does not match its sha256');
    const app = installer.install(bytes, { appId, version, scopes: scopes as string[] });
    return { appId: app.appId, version: app.version, scopes: app.scopes };
  });
  commands.register('app.remove', (args) => {
    const appId = stringArg(args, 'appId');
    // Gone is what the cloud asked for: an app already absent is not a failure.
    return { appId, removed: installer.remove(appId) };
  });
}
