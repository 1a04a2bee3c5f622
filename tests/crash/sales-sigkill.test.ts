import { afterEach, describe, expect, it } from 'vitest';
import type { LedgerRecord } from '../../src/core/ledger-record.js';
import { verifyChain } from '../../src/offline/chain.js';
import { apiClient } from '../helpers/api.js';
import { type DaemonProcess, spawnPosd, waitHealthy, writeTestConfig } from '../helpers/daemon.js';
import { randomInt, seededRandom } from '../helpers/random.js';

const KILLS = 24;
const CLIENTS = 8;

let current: DaemonProcess | undefined;
afterEach(() => current?.child.kill('SIGKILL'));

async function readLedger(api: ReturnType<typeof apiClient>): Promise<LedgerRecord[]> {
  const all: LedgerRecord[] = [];
  for (;;) {
    const after = all.at(-1)?.seq ?? 0;
    const page = await api.call<{ records: LedgerRecord[] }>(
      'GET',
      `/api/v1/ledger?afterSeq=${after}&limit=1000`,
    );
    if (page.body.records.length === 0) return all;
    all.push(...page.body.records);
  }
}

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
      // few milliseconds into the next ones: waiting for answers, not for time, so a slow machine
      // kills as deep into the work as a fast one.
      let killed = false;
      let answeredThisRound = 0;
      const killAfter = randomInt(rand, 10, 40);
      let reachedKillPoint: () => void = () => {};
      const killPoint = new Promise<void>((r) => {
        reachedKillPoint = r;
      });
      const client = async (c: number) => {
        for (let k = 0; !killed; k++) {
          attempted += 1;
          const unitPrice = 1 + ((round * 7919 + c * 104_729 + k * 31) % 99_999);
          try {
            const r = await api.call<{ saleId: string; receiptNo: string }>('POST', '/api/v1/sales', {
              lines: [{ name: `r${round}c${c}k${k}`, qty: 1 + (k % 3), unitPrice }],
              tenders: [{ method: 'cash', amount: 300_000 }],
            });
            if (r.status !== 201) throw new Error(`unexpected ${r.status}: ${JSON.stringify(r.body)}`);
            acknowledged.set(r.body.saleId, r.body.receiptNo);
            answeredThisRound += 1;
            if (answeredThisRound >= killAfter) reachedKillPoint();
          } catch (err) {
            if (killed) return; // the daemon died with this request in flight: its outcome is unknown
            throw err;
          }
        }
      };
      const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
      await Promise.race([killPoint, Promise.all(clients)]); // a client's error ends the wait
      await new Promise((r) => setTimeout(r, randomInt(rand, 0, 15)));
      killed = true;
      current.child.kill('SIGKILL');
      await current.exited;
      await Promise.all(clients);
    }

    current = spawnPosd(['run', '--config', cfg.file]);
    await waitHealthy(cfg.port);
    const ledger = await readLedger(apiClient(cfg.port, cfg.stateDir));

    expect(ledger.map((r) => r.seq)).toEqual(ledger.map((_, i) => i + 1));
    expect(verifyChain(ledger)).toBeUndefined();

    const sales = ledger.filter((r) => r.type === 'sale.completed');
    const saleIds = sales.map((r) => String(r.body.saleId));
    expect(new Set(saleIds).size).toBe(saleIds.length);
    for (const [saleId, receiptNo] of acknowledged) {
      const found = sales.filter((r) => r.body.saleId === saleId);
      expect(found).toHaveLength(1);
      expect(found[0]!.body.receiptNo).toBe(receiptNo);
    }
    // Receipt numbers are gapless: in-flight sales lost with a kill took no number with them.
    expect(sales.map((r) => r.body.receiptNo)).toEqual(
      sales.map((_, i) => `D1-${String(i + 1).padStart(6, '0')}`),
    );
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
