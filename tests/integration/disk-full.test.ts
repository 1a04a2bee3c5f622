import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LedgerRecord } from '../../src/core/ledger-record.js';
import { verifyChain } from '../../src/offline/chain.js';
import { apiClient } from '../helpers/api.js';
import {
  type DaemonProcess,
  spawnPosd,
  tempDir,
  waitHealthy,
  withTimeout,
  writeTestConfig,
} from '../helpers/daemon.js';

// A real small filesystem (tmpfs) fills up for real; mounting needs root, which CI has.
const dir = tempDir();
const mountPoint = join(dir, 'state');
mkdirSync(mountPoint);
let daemon: DaemonProcess | undefined;

afterAll(() => {
  daemon?.child.kill('SIGKILL');
  try {
    execFileSync('umount', ['-l', mountPoint]);
  } catch {
    // already unmounted
  }
});

function fillDisk(file: string): number {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(16 * 1024, 1);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return written;
}

const sale = (n: number) => ({
  lines: [{ name: `item ${n} ${'x'.repeat(100)}`, qty: 1, unitPrice: 100 + n }],
  tenders: [{ method: 'cash', amount: 100_000 }],
});

describe('storage full or read-only', () => {
  it('refuses sales with a clear code, keeps what was committed, and sells again when space returns', async () => {
    expect(process.getuid?.(), 'this test mounts a tmpfs and must run as root').toBe(0);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mountPoint]);
    const cfg = await writeTestConfig({ stateDir: mountPoint }, dir);
    daemon = spawnPosd(['run', '--config', cfg.file]);
    await waitHealthy(cfg.port);
    const api = apiClient(cfg.port, mountPoint);
    const acknowledged: string[] = [];

    for (let i = 0; i < 20; i++) {
      const r = await api.call<{ saleId: string }>('POST', '/api/v1/sales', sale(i));
      expect(r.status).toBe(201);
      acknowledged.push(r.body.saleId);
    }

    const filler = join(mountPoint, 'filler');
    fillDisk(filler);
    const statuses: number[] = [];
    let full: { status: number; body: { error?: { code: string; message: string } } } | undefined;
    for (let i = 20; i < 2_000 && !full; i++) {
      const r = await api.call<{ saleId: string; error?: { code: string; message: string } }>(
        'POST',
        '/api/v1/sales',
        sale(i),
      );
      statuses.push(r.status);
      if (r.status === 201) acknowledged.push(r.body.saleId);
      else full = r;
    }
    expect(full?.status).toBe(507);
    expect(full?.body.error?.code).toBe('STORAGE_FULL');
    expect(statuses.every((s) => s === 201 || s === 507)).toBe(true);

    // Reads still work and nothing committed is damaged.
    const ledger = await api.call<{ records: LedgerRecord[] }>('GET', '/api/v1/ledger?limit=1000');
    expect(ledger.status).toBe(200);
    expect(verifyChain(ledger.body.records)).toBeUndefined();
    expect((await fetch(`http://127.0.0.1:${cfg.port}/healthz`)).status).toBe(200);

    rmSync(filler);
    const after = await api.call<{ saleId: string }>('POST', '/api/v1/sales', sale(9_999));
    expect(after.status).toBe(201);
    acknowledged.push(after.body.saleId);

    daemon.child.kill('SIGTERM');
    expect((await withTimeout(daemon.exited, 5_000, 'exit')).code).toBe(0);
    daemon = spawnPosd(['run', '--config', cfg.file]);
    await waitHealthy(cfg.port);
    const records: LedgerRecord[] = [];
    for (;;) {
      const page = await api.call<{ records: LedgerRecord[] }>(
        'GET',
        `/api/v1/ledger?afterSeq=${records.at(-1)?.seq ?? 0}&limit=1000`,
      );
      if (page.body.records.length === 0) break;
      records.push(...page.body.records);
    }
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
    expect(verifyChain(records)).toBeUndefined();
    const completed = records.filter((r) => r.type === 'sale.completed').map((r) => String(r.body.saleId));
    expect(completed).toEqual(acknowledged);

    // Read-only storage (a remount after filesystem errors): a busy filesystem cannot be remounted
    // read-only under a running daemon, so the daemon meets it at start and says so clearly.
    daemon.child.kill('SIGTERM');
    await withTimeout(daemon.exited, 5_000, 'exit');
    execFileSync('mount', ['-o', 'remount,ro', mountPoint]);
    daemon = spawnPosd(['run', '--config', cfg.file]);
    const { code } = await withTimeout(daemon.exited, 10_000, 'exit on read-only storage');
    expect(code).toBe(73);
    expect(daemon.stderr()).toMatch(/read-only/);
    execFileSync('mount', ['-o', 'remount,rw', mountPoint]);
    daemon = spawnPosd(['run', '--config', cfg.file]);
    await waitHealthy(cfg.port);
    const again = await api.call('POST', '/api/v1/sales', sale(10_002));
    expect(again.status).toBe(201);
  }, 120_000);
});
