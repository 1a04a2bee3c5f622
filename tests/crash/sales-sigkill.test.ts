import { afterEach, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/api.js';
import { expectEveryAnsweredSaleOnce, readLedger, sellUntilKilled } from '../helpers/crash-load.js';
import { type DaemonProcess, spawnPosd, waitHealthy, writeTestConfig } from '../helpers/daemon.js';
import { randomInt, seededRandom } from '../helpers/random.js';

const KILLS = 24;
const CLIENTS = 8;

let current: DaemonProcess | undefined;
afterEach(() => current?.child.kill('SIGKILL'));

describe('crash safety of sales', () => {
  it(`keeps every acknowledged sale exactly once across ${KILLS} SIGKILLs under concurrent load`, async () => {
    const rand = seededRandom(2026);
    const cfg = await writeTestConfig();
    const acknowledged = new Map<string, string>(); // saleId → receiptNo
    let attempted = 0;

    for (let round = 0; round < KILLS; round++) {
      current = spawnPosd(['run', '--config', cfg.file]);
      await waitHealthy(cfg.port);
      const api = apiClient(cfg.port, cfg.stateDir);

      // Every sale acknowledged so far is there after this restart.
      const before = await readLedger(api);
      const completed = before.filter((r) => r.type === 'sale.completed').map((r) => String(r.body.saleId));
      for (const saleId of acknowledged.keys()) expect(completed).toContain(saleId);

      // The kill lands after a random number of this round's sales were answered, and then a random
      // few milliseconds into the next ones.
      attempted += await sellUntilKilled({
        api,
        daemon: current,
        clients: CLIENTS,
        killAfter: randomInt(rand, 10, 40),
        maxDelayMs: 15,
        rand,
        acknowledged,
        sale: (c, k) => ({
          lines: [
            {
              name: `r${round}c${c}k${k}`,
              qty: 1 + (k % 3),
              unitPrice: 1 + ((round * 7919 + c * 104_729 + k * 31) % 99_999),
            },
          ],
          tenders: [{ method: 'cash', amount: 300_000 }],
        }),
      });
    }

    current = spawnPosd(['run', '--config', cfg.file]);
    await waitHealthy(cfg.port);
    const ledger = await readLedger(apiClient(cfg.port, cfg.stateDir));

    const sales = expectEveryAnsweredSaleOnce(ledger, acknowledged);
    const saleIds = sales.map((r) => String(r.body.saleId));
    // Each completed sale's payment is in the same transaction, just before it.
    const payments = new Set(
      ledger.filter((r) => r.type === 'payment.succeeded').map((r) => String(r.body.saleId)),
    );
    expect(payments.size).toBe(saleIds.length);
    for (const id of saleIds) expect(payments.has(id)).toBe(true);

    expect(acknowledged.size).toBeGreaterThan(KILLS * 10);
    console.log(
      `crash test: ${KILLS} kills, ${attempted} sales attempted, ${acknowledged.size} acknowledged, ${sales.length} in the ledger`,
    );
  }, 240_000);
});
