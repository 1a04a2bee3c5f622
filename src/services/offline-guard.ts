import type { BusinessConfig } from '../config/business.js';
import { checkOfflineSale } from '../core/offline-policy.js';
import type { Ledger } from '../offline/ledger.js';
import type { CloudPort } from './cloud-port.js';

/** The sale guard: the merchant's offline limits apply while a configured cloud link is down. */
export function offlineGuard(
  cloud: CloudPort,
  ledger: Ledger,
  business: () => BusinessConfig,
  now: () => Date = () => new Date(),
): (sale: { total: number; tenders: readonly string[] }) => void {
  return (sale) => {
    if (!cloud.configured || cloud.isOnline()) return;
    checkOfflineSale(
      sale,
      {
        unsyncedSalesTotal: ledger.unsyncedSalesTotal(),
        lastOnlineAt: cloud.lastOnlineAt(),
        since: ledger.createdAt(),
        now: now(),
      },
      business().offline,
    );
  };
}
