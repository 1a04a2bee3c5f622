import { expect } from 'vitest';
import type { LedgerRecord } from '../../src/core/ledger-record.js';
import { verifyChain } from '../../src/offline/chain.js';
import type { apiClient } from './api.js';
import type { DaemonProcess } from './daemon.js';
import { randomInt } from './random.js';

type Api = ReturnType<typeof apiClient>;

/** Every record of the daemon's ledger, through the local API. */
export async function readLedger(api: Api): Promise<LedgerRecord[]> {
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

export interface KillRound {
  api: Api;
  daemon: DaemonProcess;
  clients: number;
  /** The kill comes once this many sales of the round were answered… */
  killAfter: number;
  /** …and then 0 to this many ms (drawn from `rand`) into the next ones. */
  maxDelayMs: number;
  rand: () => number;
  /** The sale client `c` sends as its `k`th. */
  sale: (c: number, k: number) => Record<string, unknown>;
  /** Each sale answered 201: saleId → receiptNo. */
  acknowledged: Map<string, string>;
}

/**
 * Sales from `clients` concurrent clients until the daemon is SIGKILLed: after `killAfter`
 * answers, waiting for answers and not for time, so a slow machine kills as deep into the work as
 * a fast one. A sale in flight at the kill has an unknown outcome. Returns the sales attempted.
 */
export async function sellUntilKilled(o: KillRound): Promise<number> {
  let attempted = 0;
  let killed = false;
  let answered = 0;
  let reached: () => void = () => {};
  const killPoint = new Promise<void>((r) => {
    reached = r;
  });
  const client = async (c: number) => {
    for (let k = 0; !killed; k++) {
      attempted += 1;
      try {
        const r = await o.api.call<{ saleId: string; receiptNo: string }>(
          'POST',
          '/api/v1/sales',
          o.sale(c, k),
        );
        if (r.status !== 201) throw new Error(`unexpected ${r.status}: ${JSON.stringify(r.body)}`);
        o.acknowledged.set(r.body.saleId, r.body.receiptNo);
        answered += 1;
        if (answered >= o.killAfter) reached();
      } catch (err) {
        if (killed) return; // in flight when the daemon died: its outcome is unknown
        throw err;
      }
    }
  };
  const clients = Array.from({ length: o.clients }, (_, c) => client(c));
  await Promise.race([killPoint, Promise.all(clients)]); // a client's error ends the wait
  await new Promise((r) => setTimeout(r, randomInt(o.rand, 0, o.maxDelayMs)));
  killed = true;
  o.daemon.child.kill('SIGKILL');
  await o.daemon.exited;
  await Promise.all(clients);
  return attempted;
}

/**
 * The ledger after the crashes: seqs from 1 without a gap, one unbroken chain, each sale once,
 * every sale answered 201 there with the receipt number it was answered with, and receipt numbers
 * gapless (a sale lost in flight took no number with it). Returns the `sale.completed` records.
 */
export function expectEveryAnsweredSaleOnce(
  ledger: LedgerRecord[],
  acknowledged: Map<string, string>,
): LedgerRecord[] {
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
  expect(sales.map((r) => r.body.receiptNo)).toEqual(
    sales.map((_, i) => `D1-${String(i + 1).padStart(6, '0')}`),
  );
  return sales;
}
