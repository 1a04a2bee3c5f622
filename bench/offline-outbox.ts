import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../src/bus.js';
import type { BusinessConfig } from '../src/config/business.js';
import { checkOfflineSale, type OfflinePolicy } from '../src/core/offline-policy.js';
import { createRootLogger } from '../src/log.js';
import { openDatabase } from '../src/offline/db.js';
import { Ledger } from '../src/offline/ledger.js';
import { SalesStore } from '../src/offline/sales-store.js';
import { ShiftStore } from '../src/offline/shift-store.js';
import type { CloudPort } from '../src/services/cloud-port.js';
import { offlineGuard } from '../src/services/offline-guard.js';
import { SaleService, type SaleServiceOptions } from '../src/services/sale-service.js';
import { ShiftService } from '../src/services/shift-service.js';
import { fmt, nowMs, summarize } from './stats.js';

/** Records waiting for the cloud before the measured sales: about a week offline in a busy shop. */
const OUTBOX = Number(process.env.BENCH_OUTBOX ?? 100_000);
const SALES = Number(process.env.BENCH_OFFLINE_SALES ?? 500);

const policy: OfflinePolicy = {
  tenders: ['cash'],
  maxOfflineAmountPerSale: 1_000_000,
  maxOfflineTotal: Number.MAX_SAFE_INTEGER,
  maxOfflineHours: 1_000_000,
};
const business = () => ({ offline: policy }) as unknown as BusinessConfig;
const offlineCloud = {
  configured: true,
  isOnline: () => false,
  lastOnlineAt: () => new Date(),
} as unknown as CloudPort;

const saleInput = (i: number) => ({
  lines: [
    { sku: 'LATTE', name: '拿铁咖啡', qty: 1, unitPrice: 2800 },
    { sku: 'CROI', name: '可颂', qty: 2, unitPrice: 400 + (i % 7) },
  ],
  tenders: [{ method: 'cash', amount: 10_000 }],
});

type Guard = (
  ledger: Ledger,
  db: ReturnType<typeof openDatabase>,
) => NonNullable<SaleServiceOptions['guard']>;

/** What the limit read before: every unsynced sale's body, on every sale. */
const scanningGuard: Guard = (ledger, db) => {
  const scan = db.prepare<[], { total: number }>(
    `SELECT coalesce(sum(json_extract(body, '$.total')), 0) AS total FROM ledger
      WHERE seq > (SELECT acked_up_to FROM ledger_head) AND type = 'sale.completed' AND sync <> 'rejected'`,
  );
  return (sale) =>
    checkOfflineSale(
      sale,
      {
        unsyncedSalesTotal: scan.get()!.total,
        lastOnlineAt: new Date(),
        since: ledger.createdAt(),
        now: new Date(),
      },
      policy,
    );
};
const countingGuard: Guard = (ledger) => offlineGuard(offlineCloud, ledger, business);

/** Offline cash sales, the offline limit checked on each, after `outbox` unsynced records. */
function offlineSales(dir: string, name: string, outbox: number, guard: Guard) {
  const db = openDatabase({ file: join(dir, `${name}.db`), log: createRootLogger('silent') });
  const ledger = new Ledger({ db, dir });
  for (let done = 0; done < outbox; done += 1_000) {
    ledger.transact(() => {
      for (let i = done; i < Math.min(outbox, done + 1_000); i++)
        ledger.append('sale.completed', { total: 3_600, n: i });
    });
  }
  const bus = new EventBus();
  const shifts = new ShiftService({ ledger, store: new ShiftStore(db), bus });
  const sales = new SaleService({
    ledger,
    store: new SalesStore(db),
    shifts,
    bus,
    deviceId: 'B1',
    guard: guard(ledger, db),
  });
  const latencies: number[] = [];
  for (let i = 0; i < SALES; i++) {
    const t0 = nowMs();
    sales.createSale(saleInput(i));
    latencies.push(nowMs() - t0);
  }
  const unsynced = ledger.unsyncedSales();
  db.close();
  return { ...summarize(latencies), unsynced };
}

export async function benchOfflineOutbox(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'posd-bench-offline-'));
  offlineSales(dir, 'warm-up', 0, countingGuard); // the sale path compiled before anything is timed
  const fresh = offlineSales(dir, 'fresh', 0, countingGuard);
  const counted = offlineSales(dir, 'counted', OUTBOX, countingGuard);
  const scanned = offlineSales(dir, 'scanned', OUTBOX, scanningGuard);
  const line = (label: string, s: typeof fresh) =>
    `  ${label.padEnd(44)} p50 ${fmt(s.p50, 3)} ms  p99 ${fmt(s.p99, 3)} ms`;
  console.log(`offline-outbox (${SALES} offline cash sales, the offline limit checked on each)`);
  console.log(line('empty outbox (reference)', fresh));
  console.log(line(`${OUTBOX} records waiting, counted (posd)`, counted));
  console.log(line(`${OUTBOX} records waiting, scanned (before)`, scanned));
  console.log(
    `     p50 ratio to the empty outbox: counted ${fmt(counted.p50 / fresh.p50)}, scanned ${fmt(scanned.p50 / fresh.p50)}; ` +
      `unsynced sales after: ${counted.unsynced.count} = ${scanned.unsynced.count}`,
  );
  if (counted.unsynced.amount !== scanned.unsynced.amount)
    throw new Error('the two runs disagree on the total');
}
