import { mkdir, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { receiptStrings } from '../../core/receipt-strings.js';

/** Labels before the number that names a receipt (sale, refund, order), in both receipt languages. */
const NUMBER_LABELS = (['zh-CN', 'en'] as const).flatMap((l) => {
  const s = receiptStrings(l);
  return [s.refundNo, s.receiptNo, s.orderNo];
});

/** The receipt, refund or order number printed on it, for its file name; undefined if none. */
export function receiptNumberOf(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    for (const label of NUMBER_LABELS) {
      if (!line.startsWith(`${label}: `)) continue;
      const value = line
        .slice(label.length + 2)
        .trim()
        .replace(/[^A-Za-z0-9_-]+/g, '_')
        .slice(0, 64);
      if (value) return value;
    }
  }
  return undefined;
}

/** `20261205-083012-123` (UTC): names sort in printing order, across restarts. */
function stamp(at: Date): string {
  const iso = at.toISOString(); // 2026-12-05T08:30:12.123Z
  return `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}-${iso.slice(20, 23)}`;
}

/**
 * Writes a receipt image under a name never used before: `receipt-{time}-{number}.png` (or without
 * the number), with `-2`, `-3`… when that name exists. Never overwrites a file.
 */
export async function writeReceiptFile(
  dir: string,
  png: Buffer,
  lines: readonly string[],
  at: Date,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const number = receiptNumberOf(lines);
  const base = `receipt-${stamp(at)}${number ? `-${number}` : ''}`;
  for (let n = 1; ; n++) {
    const path = join(dir, `${base}${n > 1 ? `-${n}` : ''}.png`);
    try {
      await writeFile(path, png, { flag: 'wx' });
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** Deletes receipt images older than `keepDays` (by modification time); returns how many went. */
export async function pruneReceiptFiles(dir: string, keepDays: number, now = new Date()): Promise<number> {
  const cutoff = now.getTime() - keepDays * 86_400_000;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0; // no receipts yet
  }
  let removed = 0;
  for (const name of names) {
    if (!/^receipt-.*\.png$/.test(name)) continue;
    const path = join(dir, name);
    try {
      if ((await stat(path)).mtimeMs < cutoff) {
        await unlink(path);
        removed++;
      }
    } catch {
      // Gone already, or not ours to remove: leave it.
    }
  }
  return removed;
}
