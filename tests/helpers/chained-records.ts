import type { IncomingRecord } from '../../cloud/store.js';
import { chainOf, GENESIS_CHAIN } from '../../src/offline/chain.js';

/** A chained run of `sale.completed` records with these ids and bodies, from `fromSeq` after `prev`. */
export function chainedSales(
  sales: Array<{ id: string; body: Record<string, unknown> }>,
  at: string,
  fromSeq = 1,
  prev = GENESIS_CHAIN,
): IncomingRecord[] {
  return sales.map(({ id, body }, i) => {
    const r = { seq: fromSeq + i, id, type: 'sale.completed', at, body };
    const chain = chainOf(prev, r);
    prev = chain;
    return { ...r, chain };
  });
}
