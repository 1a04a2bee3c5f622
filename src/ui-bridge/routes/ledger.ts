import type { Ledger } from '../../offline/ledger.js';
import type { Route } from '../http-server.js';
import { intQuery } from '../validate.js';

export function ledgerRoutes(ledger: Ledger): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/ledger',
      auth: true,
      handle: (ctx) => {
        const afterSeq = intQuery(ctx.query, 'afterSeq', 0, 0, Number.MAX_SAFE_INTEGER);
        const limit = intQuery(ctx.query, 'limit', 100, 1, 1000);
        return { status: 200, body: { epoch: ledger.epoch, records: ledger.page(afterSeq, limit) } };
      },
    },
  ];
}
