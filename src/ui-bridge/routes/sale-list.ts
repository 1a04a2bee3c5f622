import { Type } from '@sinclair/typebox';
import { PosError } from '../../errors.js';
import type { SalesStore } from '../../offline/sales-store.js';
import { listSales } from '../../services/sale-list.js';
import type { Route } from '../http-server.js';
import { SaleViewSchema } from '../openapi-docs.js';
import { intQuery } from '../validate.js';

const ID = /^[A-Za-z0-9-]{1,64}$/;
const RECEIPT = /^[A-Za-z0-9-]{1,40}$/;

function textQuery(query: URLSearchParams, name: string, pattern: RegExp, what: string): string | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  if (!pattern.test(raw)) throw new PosError('BAD_REQUEST', `${name} must be ${what}`);
  return raw;
}

export const SaleListSchema = Type.Object({
  sales: Type.Array(SaleViewSchema),
  next: Type.Optional(Type.String({ description: 'pass as `before` for the next (older) page' })),
});

/** `GET /api/v1/sales`: the recent-sales list of the cashier screen, read from the ledger database. */
export function saleListRoutes(store: SalesStore): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/sales',
      auth: true,
      doc: {
        summary: 'Sales (not refunds) newest first, with lines, payments, refunds; by receipt number',
        tag: 'sales',
        query: {
          limit: { type: 'integer', description: '1–100, default 20' },
          before: { type: 'string', description: 'a saleId: only older sales (the `next` of the last page)' },
          receiptNo: {
            type: 'string',
            description: 'exactly this receipt number (a refund’s number gives its sale)',
          },
          q: { type: 'string', description: 'part of a receipt number, e.g. its last digits' },
        },
        responses: { 200: { description: 'the sales', schema: SaleListSchema } },
        errors: ['BAD_REQUEST'],
      },
      handle: (ctx) => {
        const limit = intQuery(ctx.query, 'limit', 20, 1, 100);
        const before = textQuery(ctx.query, 'before', ID, 'a sale id');
        const receiptNo = textQuery(ctx.query, 'receiptNo', RECEIPT, '1–40 letters, digits or -');
        const q = textQuery(ctx.query, 'q', RECEIPT, '1–40 letters, digits or -');
        const query = {
          limit,
          ...(before ? { before } : {}),
          ...(receiptNo ? { receiptNo } : {}),
          ...(q ? { q } : {}),
        };
        return { status: 200, body: listSales(store, query) };
      },
    },
  ];
}
