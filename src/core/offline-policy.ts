import { PosError } from '../errors.js';
import { formatAmount } from './money.js';

export interface OfflinePolicy {
  tenders: readonly string[];
  maxOfflineAmountPerSale: number;
  maxOfflineTotal: number;
  maxOfflineHours: number;
}

export interface OfflineSituation {
  /** Sales completed while the cloud has not acknowledged them, in minor units. */
  unsyncedSalesTotal: number;
  /** When the link was last up (undefined: never since this database exists). */
  lastOnlineAt: Date | undefined;
  /** When this database started (the offline clock starts there if the link never came up). */
  since: Date;
  now: Date;
}

/**
 * The merchant's risk limits for selling without the cloud: which tenders, how much per sale, how
 * much in all, for how long. A refusal says which limit and by how much.
 */
export function checkOfflineSale(
  sale: { total: number; tenders: readonly string[] },
  situation: OfflineSituation,
  policy: OfflinePolicy,
): void {
  for (const tender of sale.tenders) {
    if (!policy.tenders.includes(tender)) {
      throw new PosError('OFFLINE_LIMIT', `${tender} is not accepted while the terminal is offline`, {
        tender,
      });
    }
  }
  if (sale.total > policy.maxOfflineAmountPerSale) {
    throw new PosError(
      'OFFLINE_LIMIT',
      `offline, a sale may be at most ${formatAmount(policy.maxOfflineAmountPerSale)} (this one is ${formatAmount(sale.total)})`,
      { limit: 'maxOfflineAmountPerSale' },
    );
  }
  if (situation.unsyncedSalesTotal + sale.total > policy.maxOfflineTotal) {
    throw new PosError(
      'OFFLINE_LIMIT',
      `offline sales would exceed ${formatAmount(policy.maxOfflineTotal)} in all until the terminal syncs`,
      { limit: 'maxOfflineTotal' },
    );
  }
  const from = situation.lastOnlineAt ?? situation.since;
  const hours = (situation.now.getTime() - from.getTime()) / 3_600_000;
  if (hours > policy.maxOfflineHours) {
    throw new PosError(
      'OFFLINE_LIMIT',
      `the terminal has been offline for more than ${policy.maxOfflineHours} h: connect it to sync`,
      { limit: 'maxOfflineHours' },
    );
  }
}
