/**
 * A strict ustar reader and a small writer (pure, no I/O). The reader reports every entry's kind
 * as the archive states it, so the package check can refuse links and devices; it understands no
 * pax or GNU extension headers (they are reported as their own kinds and refused upstream).
 */
import { PosError } from '../errors.js';

export type TarEntryKind = 'file' | 'directory' | 'symlink' | 'hardlink' | 'device' | 'fifo' | 'other';

export interface TarEntry {
  /** As written in the archive (prefix + name), not yet checked. */
  path: string;
  kind: TarEntryKind;
  /** The typeflag byte as a character, for messages. */
  typeflag: string;
  data: Uint8Array;
}

const BLOCK = 512;

function invalid(message: string): PosError {
  return new PosError('APP_PACKAGE_INVALID', message);
}

function field(block: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && block[end] !== 0) end++;
  return Buffer.from(block.subarray(start, end)).toString('utf8');
}

function octal(block: Uint8Array, start: number, length: number, what: string): number {
  const text = field(block, start, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw invalid(`tar header: ${what} is not an octal number`);
  const value = Number.parseInt(text, 8);
  if (!Number.isSafeInteger(value)) throw invalid(`tar header: ${what} is too large`);
  return value;
}

function kindOf(typeflag: number): TarEntryKind {
  switch (typeflag) {
    case 0x30: // '0'
    case 0:
      return 'file';
    case 0x35: // '5'
      return 'directory';
    case 0x32: // '2'
      return 'symlink';
    case 0x31: // '1'
      return 'hardlink';
    case 0x33: // '3'
    case 0x34: // '4'
      return 'device';
    case 0x36: // '6'
      return 'fifo';
    default:
      return 'other';
  }
}

function checksumOk(block: Uint8Array): boolean {
  const stored = octal(block, 148, 8, 'checksum');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === stored;
}

/**
 * Every entry of an uncompressed tar, in order. `maxEntries` and `maxFileBytes` stop reading early
 * (the caller's limits); a truncated or corrupt archive is refused, never half-read.
 */
export function readTar(tar: Uint8Array, limits: { maxEntries: number; maxBytes: number }): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let total = 0;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) return entries; // end of archive
    if (!checksumOk(header)) throw invalid(`tar header at ${offset}: bad checksum`);
    const magic = field(header, 257, 6);
    if (magic !== 'ustar' && magic !== 'ustar ') throw invalid('not a ustar archive');
    const name = field(header, 0, 100);
    const prefix = magic === 'ustar' ? field(header, 345, 155) : '';
    const size = octal(header, 124, 12, 'size');
    const typeflag = header[156]!;
    const kind = kindOf(typeflag);
    if (entries.length >= limits.maxEntries) throw invalid(`more than ${limits.maxEntries} entries`);
    total += size;
    if (total > limits.maxBytes) throw invalid(`more than ${limits.maxBytes} bytes unpacked`);
    const start = offset + BLOCK;
    if (start + size > tar.length) throw invalid('archive is truncated');
    entries.push({
      path: prefix ? `${prefix}/${name}` : name,
      kind,
      typeflag: typeflag === 0 ? '\\0' : String.fromCharCode(typeflag),
      data: tar.subarray(start, start + size),
    });
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  throw invalid('archive has no end marker');
}

export interface TarWriteEntry {
  path: string;
  data?: Uint8Array | string;
  /** Defaults to a file ('0'); tests write others to build hostile packages. */
  typeflag?: string;
  linkname?: string;
}

function put(block: Uint8Array, start: number, length: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > length) throw new Error(`tar field too long: ${text}`);
  block.set(bytes, start);
}

function putOctal(block: Uint8Array, start: number, length: number, value: number): void {
  put(block, start, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

/** A ustar archive of `entries` (paths up to 100 bytes, or split over the 155-byte prefix). */
export function writeTar(entries: readonly TarWriteEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : (e.data ?? new Uint8Array());
    const header = new Uint8Array(BLOCK);
    let name = e.path;
    let prefix = '';
    if (Buffer.byteLength(name) > 100) {
      const cut = name.lastIndexOf('/', 155);
      prefix = name.slice(0, cut);
      name = name.slice(cut + 1);
    }
    put(header, 0, 100, name);
    putOctal(header, 100, 8, (e.typeflag ?? '0') === '5' ? 0o755 : 0o644);
    putOctal(header, 108, 8, 0);
    putOctal(header, 116, 8, 0);
    putOctal(header, 124, 12, data.length);
    putOctal(header, 136, 12, 0);
    header[156] = (e.typeflag ?? '0').charCodeAt(0);
    if (e.linkname) put(header, 157, 100, e.linkname);
    put(header, 257, 6, 'ustar\0');
    put(header, 263, 2, '00');
    put(header, 345, 155, prefix);
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of header) sum += b;
    put(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    parts.push(header, data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(new Uint8Array(pad));
  }
  parts.push(new Uint8Array(BLOCK * 2));
  return Buffer.concat(parts);
}
