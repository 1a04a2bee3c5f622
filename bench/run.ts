import { benchFleet } from './fleet.js';
import { benchFleetCluster } from './fleet-cluster.js';
import { benchOfflineOutbox } from './offline-outbox.js';
import { benchPrinterConfirm } from './printer-confirm.js';
import { benchReceiptEncode } from './receipt-encode.js';
import { benchReceiptRender } from './receipt-render.js';
import { benchSaleCommit } from './sale-commit.js';
import { benchScanLatency } from './scan-latency.js';
import { benchSlowFlash } from './slow-flash.js';
import { benchStartMemory } from './start-memory.js';
import { benchSyncDrain } from './sync-drain.js';

/** `npm run bench [name…]`: runs the named benchmarks, or all. */
const benches: Record<string, () => Promise<void>> = {
  'sale-commit': benchSaleCommit,
  'sync-drain': benchSyncDrain,
  fleet: benchFleet,
  'fleet-cluster': benchFleetCluster,
  'receipt-encode': benchReceiptEncode,
  'receipt-render': benchReceiptRender,
  'scan-latency': benchScanLatency,
  'slow-flash': benchSlowFlash,
  'printer-confirm': benchPrinterConfirm,
  'start-memory': benchStartMemory,
  'offline-outbox': benchOfflineOutbox,
};

// `--terminals N` (the fleet benches): the rest are benchmark names.
const args = process.argv.slice(2);
const at = args.indexOf('--terminals');
if (at >= 0) process.env.BENCH_TERMINALS = args.splice(at, 2)[1];
const wanted = args;
for (const name of wanted.length > 0 ? wanted : Object.keys(benches)) {
  const bench = benches[name];
  if (!bench) {
    console.error(`unknown benchmark ${name}; known: ${Object.keys(benches).join(', ')}`);
    process.exit(64);
  }
  await bench();
}
