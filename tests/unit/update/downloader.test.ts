import { existsSync, lstatSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { bundleMatches, DownloadRefused, download, syncFile } from '../../../src/update/downloader.js';
import { BundleServer, type BundleServerOptions } from '../../helpers/bundle-server.js';
import { tempDir } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/wait.js';

const log = pino({ level: 'silent' });
const fast = { initialMs: 10, maxMs: 50 };
let server: BundleServer | undefined;
let redirector: Server | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
  redirector?.closeAllConnections();
  await new Promise((resolve) => (redirector ? redirector.close(resolve) : resolve(undefined)));
  redirector = undefined;
});

/** A server that only redirects (`routes`: path → Location); aborts `stop` once it has seen too many requests. */
async function redirecting(routes: Record<string, string>, stop: AbortController): Promise<string> {
  let seen = 0;
  redirector = createServer((req, res) => {
    if (++seen > 20) stop.abort(); // a download looping on redirects
    res.writeHead(302, { location: routes[req.url ?? ''] ?? '/nowhere' }).end();
  });
  await new Promise<void>((resolve) => redirector!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
}

function target(): string {
  return join(tempDir('posd-dl-'), 'bundle.raucb');
}

/** A bundle of `size` random bytes served for this test, a file to fetch it to, and the download's arguments. */
async function serving(size: number, options?: BundleServerOptions) {
  const s = await BundleServer.random(size, options).start();
  server = s;
  const file = target();
  return { s, file, args: { url: s.url, file, size, sha256: s.sha256, log } };
}

/** What the download threw (undefined when it succeeded). */
const thrown = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('bundle download', () => {
  it('resumes with HTTP Range after the connection drops mid-way, then checks size and sha256', async () => {
    const size = 300_000;
    // The first two answers are cut after 100 kB each.
    server = await BundleServer.random(size, { dropAfter: (i) => (i < 2 ? 100_000 : undefined) }).start();
    const file = target();
    const progress: number[] = [];
    await download({
      url: server.url,
      file,
      size,
      sha256: server.sha256,
      log,
      backoff: fast,
      onProgress: (b) => progress.push(b),
    });
    expect(readFileSync(file).equals(server.body)).toBe(true);
    // Each retry asks only for what is not on disk yet (what arrived before the cut is kept).
    const ranges = server.requests.map((r) => r.range);
    expect(ranges).toHaveLength(3);
    expect(ranges[0]).toBeUndefined();
    const [n1, n2] = ranges.slice(1).map((r) => Number(/^bytes=(\d+)-$/.exec(r ?? '')?.[1]));
    expect(n1).toBeGreaterThan(0);
    expect(n2).toBeGreaterThan(n1!);
    expect(n2).toBeLessThanOrEqual(200_000);
    expect(progress.at(-1)).toBe(size);
  });

  it('goes on from the bytes already on disk (a restart mid-download)', async () => {
    const { s, file, args } = await serving(50_000);
    writeFileSync(file, s.body.subarray(0, 20_000));
    await download({ ...args, backoff: fast });
    expect(s.requests.map((r) => r.range)).toEqual(['bytes=20000-']);
    expect(readFileSync(file).equals(s.body)).toBe(true);
  });

  it('hashes the bundle as it arrives: none of it is read back, but what a restart left on disk', async () => {
    const size = 300_000;
    const readBack: number[] = [];
    const counting = async function* (file: string, bytes: number) {
      readBack.push(bytes);
      yield readFileSync(file).subarray(0, bytes);
    };
    // Two cuts on the way: each retry appends to the same running hash.
    const cut = await serving(size, { dropAfter: (i) => (i < 2 ? 100_000 : undefined) });
    await download({ ...cut.args, backoff: fast, readBack: counting });
    expect(readFileSync(cut.file).equals(cut.s.body)).toBe(true);
    expect(cut.s.requests).toHaveLength(3);
    expect(readBack).toEqual([]);
    await cut.s.stop();
    // posd restarted with 20 kB on disk: those are read once, the rest hashed as it comes.
    const { s, file, args } = await serving(50_000);
    writeFileSync(file, s.body.subarray(0, 20_000));
    await download({ ...args, backoff: fast, readBack: counting });
    expect(readBack).toEqual([20_000]);
    await s.stop();
    // A wrong hash is still caught without reading the bundle back.
    const wrong = await serving(10_000);
    const err = await thrown(download({ ...wrong.args, sha256: 'ab'.repeat(32), readBack: counting }));
    expect(String(err)).toMatch(/sha256 mismatch/);
    expect(readBack).toEqual([20_000]);
  });

  it('resolves only once the whole bundle is synced to disk (what `installing` is recorded after)', async () => {
    const { file, args } = await serving(50_000);
    const synced: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let done = false;
    const downloading = download({
      ...args,
      backoff: fast,
      sync: async (f) => {
        synced.push(f);
        await held;
        await syncFile(f); // and the real fsync of the file and its directory works
      },
    }).then(() => {
      done = true;
    });
    await waitFor(() => (synced.length > 0 ? true : undefined), 'the sync asked for');
    expect(synced).toEqual([file]);
    expect(statSync(file).size).toBe(50_000); // every byte written and checked first
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    release();
    await downloading;
    expect(done).toBe(true);
  });

  it('a bundle found on disk matches only with every byte of the command’s size and sha256', async () => {
    const { s, file, args } = await serving(20_000);
    await download({ ...args, backoff: fast });
    expect(await bundleMatches(file, s.body.length, s.sha256.toUpperCase())).toBe(true);
    const torn = Buffer.from(s.body);
    torn.fill(0, 12_288); // a power cut: the last pages never reached the disk
    writeFileSync(file, torn);
    expect(await bundleMatches(file, s.body.length, s.sha256)).toBe(false);
    writeFileSync(file, s.body.subarray(0, 8_192)); // or the file cut short
    expect(await bundleMatches(file, s.body.length, s.sha256)).toBe(false);
    expect(await bundleMatches(join(file, '..', 'none.raucb'), s.body.length, s.sha256)).toBe(false);
  });

  it('starts again when the server ignores the range', async () => {
    const { s, file, args } = await serving(50_000, { ignoreRange: true });
    writeFileSync(file, s.body.subarray(0, 20_000));
    await download({ ...args, backoff: fast });
    expect(readFileSync(file).equals(s.body)).toBe(true);
  });

  it('refuses a bundle whose sha256 is not the command’s, and keeps nothing of it', async () => {
    const { file, args } = await serving(10_000);
    const err = await thrown(download({ ...args, sha256: 'ab'.repeat(32) }));
    expect(err).toBeInstanceOf(DownloadRefused);
    expect(String(err)).toMatch(/sha256 mismatch/);
    expect(existsSync(file)).toBe(false);
  });

  it('refuses more bytes than the command’s size, announced or streamed', async () => {
    const first = await serving(20_000);
    const { file } = first;
    const announced = await thrown(download({ ...first.args, size: 10_000 }));
    expect(announced).toBeInstanceOf(DownloadRefused);
    expect(String(announced)).toMatch(/more than the command's size 10000/);
    await first.s.stop();
    const chunked = await serving(20_000, { chunked: true });
    const streamed = await thrown(download({ ...chunked.args, file, size: 10_000 }));
    expect(streamed).toBeInstanceOf(DownloadRefused);
    expect(String(streamed)).toMatch(/sent more than the command's size 10000/);
    expect(existsSync(file) ? statSync(file).size : 0).toBe(0);
  });

  it('does not retry a bundle the server does not have (HTTP 404)', async () => {
    const { s, args } = await serving(1_000);
    const err = await thrown(download({ ...args, url: s.url.replace('bundle.raucb', 'missing') }));
    expect(err).toBeInstanceOf(DownloadRefused);
    expect(String(err)).toMatch(/HTTP 404/);
  });

  it('follows a CDN’s redirects to the bundle; a redirect to file:// or a loop is refused, not retried for ever', async () => {
    server = await BundleServer.random(30_000).start();
    const stop = new AbortController();
    const base = await redirecting(
      { '/a': '/b', '/b': server.url, '/file': 'file:///etc/passwd', '/loop': '/loop' },
      stop,
    );
    const file = target();
    const common = { file, size: 30_000, sha256: server.sha256, log, backoff: fast, signal: stop.signal };
    await download({ ...common, url: `${base}/a` });
    expect(readFileSync(file).equals(server.body)).toBe(true);
    for (const [path, why] of [
      ['/file', /without an http\(s\) location/],
      ['/loop', /more than 5 redirects/],
    ] as const) {
      const err = await download({ ...common, file: target(), url: `${base}${path}` }).catch(
        (e: unknown) => e,
      );
      expect(err, path).toBeInstanceOf(DownloadRefused);
      expect(String(err)).toMatch(why);
    }
  });

  it('a full data partition ends the download (failed, the partial bundle removed), not retried for ever', async () => {
    const { file, args } = await serving(300_000);
    symlinkSync('/dev/full', file); // every write: ENOSPC
    const stop = new AbortController();
    let retries = 0;
    const counting = pino({ level: 'warn' }, { write: () => void (++retries > 20 && stop.abort()) });
    const err = await thrown(download({ ...args, log: counting, backoff: fast, signal: stop.signal }));
    expect(err).toBeInstanceOf(DownloadRefused);
    expect(String(err)).toMatch(/no room left on the data partition/);
    expect(() => lstatSync(file)).toThrow(/ENOENT/);
  });
});
