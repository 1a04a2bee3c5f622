import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, statSync, truncateSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';

/** A download that must not be tried again as it is (wrong size or hash, refused by the server). */
export class DownloadRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadRefused';
  }
}

export interface DownloadOptions {
  url: string;
  /** Where the bytes go; bytes already there are kept and the rest asked for (HTTP Range). */
  file: string;
  size: number;
  sha256: string;
  log: Logger;
  /** Bytes on disk, after each chunk written. */
  onProgress?: (bytes: number) => void;
  backoff?: { initialMs: number; maxMs: number };
  /** Stops retrying (posd stopping). */
  signal?: AbortSignal;
  /** Puts the finished bundle on disk (fsync of it and its directory); tests hold it. */
  sync?: (file: string) => Promise<void>;
  /** No byte for this long: the connection is given up and tried again. */
  idleTimeoutMs?: number;
  /** Reads back the first `bytes` on disk (a download resumed after a restart); tests count them. */
  readBack?: (file: string, bytes: number) => AsyncIterable<Buffer>;
}

/** The sha256 of the bytes on disk, kept up to date as chunks are written: the bundle is not read again. */
interface RunningHash {
  hash: Hash;
  bytes: number;
}

const readBackFile = (file: string, bytes: number): AsyncIterable<Buffer> =>
  createReadStream(file, { start: 0, end: bytes - 1 });

async function hashOnDisk(file: string, bytes: number, readBack = readBackFile): Promise<RunningHash> {
  const hash = createHash('sha256');
  if (bytes > 0) for await (const chunk of readBack(file, bytes)) hash.update(chunk);
  return { hash, bytes };
}

function bytesOnDisk(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function remove(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/** The data partition is full: retrying would keep it full and the ledger could not grow. */
function noSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

const MAX_REDIRECTS = 5;

function request(url: string, headers: Record<string, string>, idleMs: number): Promise<IncomingMessage> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(url, { headers }, resolve);
    req.setTimeout(idleMs, () => req.destroy(new Error(`no answer for ${idleMs} ms`)));
    req.on('error', reject);
  });
}

/** GET, following a few redirects to http(s) URLs (a CDN's); anything else is refused. */
async function get(url: string, headers: Record<string, string>, idleMs: number): Promise<IncomingMessage> {
  let at = url;
  for (let hops = 0; ; hops++) {
    const res = await request(at, headers, idleMs);
    const status = res.statusCode ?? 0;
    if (![301, 302, 303, 307, 308].includes(status)) return res;
    res.destroy();
    let next: URL | undefined;
    try {
      next = new URL(res.headers.location ?? '', at);
    } catch {
      next = undefined;
    }
    if (!res.headers.location || !next || (next.protocol !== 'http:' && next.protocol !== 'https:')) {
      throw new DownloadRefused(`the server answered HTTP ${status} without an http(s) location to follow`);
    }
    if (hops >= MAX_REDIRECTS) throw new DownloadRefused(`more than ${MAX_REDIRECTS} redirects from ${url}`);
    at = next.href;
  }
}

/** The total size a `Content-Range: bytes a-b/total` names, if any. */
function rangeTotal(header: string | undefined): number | undefined {
  const m = /\/(\d+)\s*$/.exec(header ?? '');
  return m ? Number(m[1]) : undefined;
}

/** One attempt: appends what the server sends after the bytes on disk. Throws on any problem. */
async function attempt(o: DownloadOptions, idleMs: number, sum: { running?: RunningHash }): Promise<void> {
  let have = bytesOnDisk(o.file);
  if (have > o.size) {
    remove(o.file); // more than the command allows: not ours to resume
    have = 0;
  }
  if (have === o.size) return;
  const res = await get(o.url, have > 0 ? { range: `bytes=${have}-` } : {}, idleMs);
  try {
    if (res.statusCode === 416) {
      remove(o.file); // the server has fewer bytes than we do: start again
      throw new Error('range not satisfiable; starting again');
    }
    if (res.statusCode !== 200 && res.statusCode !== 206) {
      const status = res.statusCode ?? 0;
      const message = `the server answered HTTP ${status}`;
      throw status >= 400 && status < 500 && status !== 408 && status !== 429
        ? new DownloadRefused(message)
        : new Error(message);
    }
    const from = res.statusCode === 206 ? have : 0; // 200: the server ignored the range
    const total =
      res.statusCode === 206
        ? rangeTotal(res.headers['content-range'])
        : Number(res.headers['content-length']);
    if (total !== undefined && Number.isFinite(total) && total > o.size) {
      remove(o.file);
      throw new DownloadRefused(`the bundle is ${total} bytes, more than the command's size ${o.size}`);
    }
    if (from === 0 && have > 0) truncateSync(o.file, 0);
    // What is on disk already hashed (this run wrote it), or read once (posd restarted mid-download).
    if (sum.running?.bytes !== from) sum.running = await hashOnDisk(o.file, from, o.readBack);
    const running = sum.running;
    let written = from;
    const out = createWriteStream(o.file, { flags: from === 0 ? 'w' : 'a', mode: 0o640 });
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        written += chunk.length;
        if (written > o.size)
          throw new DownloadRefused(`the server sent more than the command's size ${o.size}`);
        running.hash.update(chunk);
        running.bytes = written;
        if (!out.write(chunk)) await once(out, 'drain');
        o.onProgress?.(written);
      }
    } catch (err) {
      if (err instanceof DownloadRefused) remove(o.file);
      throw err;
    } finally {
      // What arrived before a cut is kept: the next attempt asks only for the rest.
      await new Promise<void>((resolve) => out.end(resolve));
    }
    o.onProgress?.(written);
    if (written < o.size) throw new Error(`the connection ended after ${written} of ${o.size} bytes`);
  } finally {
    res.destroy();
  }
}

/**
 * Downloads `url` into `file`, resuming from the bytes already there, retrying network trouble
 * with backoff until the file is complete; then checks its size and sha256. A `DownloadRefused`
 * (too big, wrong hash, refused by the server) removes the file and is not retried.
 */
export async function download(o: DownloadOptions): Promise<void> {
  const idleMs = o.idleTimeoutMs ?? 30_000;
  const backoff = o.backoff ?? { initialMs: 1_000, maxMs: 60_000 };
  let delay = backoff.initialMs;
  const sum: { running?: RunningHash } = {};
  for (;;) {
    o.signal?.throwIfAborted();
    try {
      const before = bytesOnDisk(o.file);
      await attempt(o, idleMs, sum).catch((err: unknown) => {
        // Progress made: the next failure waits from the start again.
        if (bytesOnDisk(o.file) > before) delay = backoff.initialMs;
        throw err;
      });
      break;
    } catch (err) {
      if (err instanceof DownloadRefused) throw err;
      if (noSpace(err)) {
        remove(o.file);
        throw new DownloadRefused(
          `no room left on the data partition for the bundle (${describeError(err)})`,
        );
      }
      o.signal?.throwIfAborted();
      o.log.warn(
        { err: describeError(err), bytes: bytesOnDisk(o.file), retryInMs: delay },
        'download interrupted',
      );
      await sleep(delay, undefined, o.signal ? { signal: o.signal } : {});
      delay = Math.min(delay * 2, backoff.maxMs);
    }
  }
  const size = bytesOnDisk(o.file);
  if (size !== o.size) {
    remove(o.file);
    throw new DownloadRefused(`the bundle is ${size} bytes, not the command's ${o.size}`);
  }
  // A write that failed after its chunk was hashed leaves fewer bytes than hashed: read them back.
  const running = sum.running?.bytes === size ? sum.running : await hashOnDisk(o.file, size, o.readBack);
  const digest = running.hash.digest('hex');
  if (digest !== o.sha256.toLowerCase()) {
    remove(o.file);
    throw new DownloadRefused(`sha256 mismatch: the bundle's is ${digest}, the command's ${o.sha256}`);
  }
  // On disk before the caller records `installing`: a power cut after that record finds it whole.
  await (o.sync ?? syncFile)(o.file);
}

/** fsync of a file and of its directory (the entry of a file just made). */
export async function syncFile(file: string): Promise<void> {
  for (const path of [file, dirname(file)]) {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

/**
 * Whether `file` holds exactly `size` bytes hashing to `sha256`: a bundle found on disk after a
 * restart, checked before it is installed (one read of it).
 */
export async function bundleMatches(file: string, size: number, sha256: string): Promise<boolean> {
  if (bytesOnDisk(file) !== size) return false;
  const { hash } = await hashOnDisk(file, size);
  return hash.digest('hex') === sha256.toLowerCase();
}
