import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// image/files/update/rauc-bootloader: RAUC's custom backend over systemd-boot's entries (decision
// 0008), run against an ESP in a temp dir. set-primary mounts a slot and is exercised by the image's
// update boots (tests/image/image.test.ts); here: the states and which entry systemd-boot boots.
const SCRIPT = resolve(import.meta.dirname, '../../image/files/update/rauc-bootloader');
let esp: string;
let entries: string;

const entry = (slot: 'a' | 'b', sortKey: string) =>
  `title   posd (slot ${slot.toUpperCase()})\nsort-key ${sortKey}\nversion 6.1.0\nlinux   /posd/${slot}/vmlinuz\n` +
  `initrd  /posd/${slot}/initrd.img\noptions root=PARTUUID=x ro rauc.slot=${slot.toUpperCase()}\n`;

function backend(...args: string[]) {
  const r = spawnSync('sh', [SCRIPT, ...args], { env: { ...process.env, POSD_ESP: esp }, encoding: 'utf8' });
  return { status: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}
const files = () => readdirSync(entries).sort().join(' ');

beforeEach(() => {
  esp = mkdtempSync(join(tmpdir(), 'posd-esp-'));
  entries = join(esp, 'loader/entries');
  mkdirSync(entries, { recursive: true });
  writeFileSync(join(entries, 'posd-a.conf'), entry('a', 'posd-1-primary'));
});
afterEach(() => rmSync(esp, { recursive: true, force: true }));

describe('rauc-bootloader', () => {
  it('a new image: A primary and good, B (no entry) bad; marking B good without an entry fails', () => {
    expect(backend('get-primary').out).toBe('A');
    expect(backend('get-state', 'A').out).toBe('good');
    expect(backend('get-state', 'B').out).toBe('bad');
    expect(backend('set-state', 'B', 'bad').status).toBe(0);
    expect(backend('set-state', 'B', 'good').status).not.toBe(0);
  });

  it('a slot on trial is primary while it has tries, and marking it good removes the counter', () => {
    writeFileSync(join(entries, 'posd-a.conf'), entry('a', 'posd-2'));
    writeFileSync(join(entries, 'posd-b+0-1.conf'), entry('b', 'posd-1-primary'));
    // No tries left (systemd-boot counted the last one down): the other slot boots.
    expect(backend('get-primary').out).toBe('A');
    expect(backend('get-state', 'B').out).toBe('bad');
    rmSync(join(entries, 'posd-b+0-1.conf'));
    writeFileSync(join(entries, 'posd-b+2-1.conf'), entry('b', 'posd-1-primary'));
    expect(backend('get-primary').out).toBe('B');
    expect(backend('get-state', 'B').out).toBe('good');
    expect(backend('set-state', 'B', 'good').status).toBe(0);
    expect(files()).toBe('posd-a.conf posd-b.conf');
    expect(readFileSync(join(entries, 'posd-b.conf'), 'utf8')).toBe(entry('b', 'posd-1-primary'));
    expect(backend('get-primary').out).toBe('B');
  });

  it('a slot marked bad gets no tries and is never primary; marked good it comes back', () => {
    writeFileSync(join(entries, 'posd-b.conf'), entry('b', 'posd-2'));
    expect(backend('set-state', 'A', 'bad').status).toBe(0);
    expect(files()).toBe('posd-a+0.conf posd-b.conf');
    expect(backend('get-state', 'A').out).toBe('bad');
    expect(backend('get-primary').out).toBe('B');
    expect(backend('set-state', 'A', 'good').status).toBe(0);
    expect(files()).toBe('posd-a.conf posd-b.conf');
    expect(backend('get-primary').out).toBe('A');
  });

  it('refuses unknown slots and commands', () => {
    expect(backend('get-state', 'C').status).not.toBe(0);
    expect(backend('set-state', 'A', 'maybe').status).not.toBe(0);
    expect(backend('frobnicate').status).not.toBe(0);
  });
});
