import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/api.js';
import { expectEveryAnsweredSaleOnce, readLedger, sellUntilKilled } from '../helpers/crash-load.js';
import { type DaemonProcess, spawnPosd, tempDir, waitHealthy, writeTestConfig } from '../helpers/daemon.js';
import { randomInt, seededRandom } from '../helpers/random.js';

/*
 * Group commit (decision 0005) under power cuts: sales from 8 clients at once share fsyncs, and a
 * sale answers 201 only after the fsync that covers it. The daemon runs with tests/helpers/
 * power-cut.c, which copies the ledger's files as each fsync starts; after a SIGKILL the copies
 * replace the files, so the restart sees only what was fsynced, as after a power cut. Every sale
 * answered 201 must be there, once.
 */

const CUTS = 6;
const CLIENTS = 8;

let current: DaemonProcess | undefined;
afterEach(() => current?.child.kill('SIGKILL'));

function buildShim(): string {
  const out = join(tempDir('posd-power-cut-'), 'power-cut.so');
  const src = resolve(import.meta.dirname, '../helpers/power-cut.c');
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', out, src, '-ldl', '-lpthread']);
  return out;
}

const FILES = ['posd.db', 'posd.db-wal'];

/** What a power cut leaves: each file as of its last fsync (a file never fsynced is gone). */
function cutPower(stateDir: string): void {
  for (const name of FILES) {
    const file = join(stateDir, name);
    if (existsSync(`${file}.synced`)) renameSync(`${file}.synced`, file);
    else rmSync(file, { force: true });
    rmSync(`${file}.synced.tmp`, { force: true });
  }
  rmSync(join(stateDir, 'posd.db-shm'), { force: true });
}

/** Before a start: the files as they are now are on disk (the last cut left them so). */
function markOnDisk(stateDir: string): void {
  for (const name of FILES) {
    const file = join(stateDir, name);
    if (existsSync(file)) copyFileSync(file, `${file}.synced`);
  }
}

describe('group commit under power cuts', () => {
  it(`keeps every sale answered 201 exactly once across ${CUTS} power cuts under 8 concurrent clients`, async () => {
    const shim = buildShim();
    const rand = seededRandom(1805);
    const cfg = await writeTestConfig();
    const env = {
      LD_PRELOAD: shim,
      POSD_POWER_CUT_FILES: FILES.map((f) => join(cfg.stateDir, f)).join(':'),
    };
    const acknowledged = new Map<string, string>(); // saleId → receiptNo
    let attempted = 0;

    for (let round = 0; round < CUTS; round++) {
      markOnDisk(cfg.stateDir);
      current = spawnPosd(['run', '--config', cfg.file], env);
      await waitHealthy(cfg.port);
      const api = apiClient(cfg.port, cfg.stateDir);

      const before = await readLedger(api);
      const completed = new Set(
        before.filter((r) => r.type === 'sale.completed').map((r) => String(r.body.saleId)),
      );
      const lost = [...acknowledged.keys()].filter((id) => !completed.has(id));
      expect(lost, `sales answered 201 but lost by power cut ${round}`).toEqual([]);

      // The cut lands after a random number of this round's answers and a few ms into the next.
      attempted += await sellUntilKilled({
        api,
        daemon: current,
        clients: CLIENTS,
        killAfter: randomInt(rand, 20, 60),
        maxDelayMs: 10,
        rand,
        acknowledged,
        sale: (c, k) => ({
          lines: [{ name: `p${round}c${c}k${k}`, qty: 1, unitPrice: 100 + ((c * 31 + k) % 900) }],
          tenders: [{ method: 'cash', amount: 100_000 }],
        }),
      });
      cutPower(cfg.stateDir);
    }

    current = spawnPosd(['run', '--config', cfg.file], env);
    await waitHealthy(cfg.port);
    const ledger = await readLedger(apiClient(cfg.port, cfg.stateDir));
    // A sale lost with the power took its receipt number with it: the numbers stay gapless.
    const sales = expectEveryAnsweredSaleOnce(ledger, acknowledged);
    expect(acknowledged.size).toBeGreaterThan(CUTS * 20);
    console.log(
      `power-cut test: ${CUTS} cuts, ${attempted} sales attempted, ${acknowledged.size} answered 201, ${sales.length} in the ledger`,
    );
  }, 240_000);
});
