import { Type } from '@sinclair/typebox';
import { PosError } from '../../errors.js';
import type { SalesStore } from '../../offline/sales-store.js';
import { type OpenSaleLinesDeps, replaceOpenSaleLines } from '../../services/open-sale-lines.js';
import { listSales } from '../../services/sale-list.js';
import type { Route } from '../http-server.js';
import { SaleViewSchema } from '../openapi-docs.js';
import { intQuery, validateBody } from '../validate.js';
import { DiscountSchema, SaleLineSchema } from './sales.js';

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
          before: {
            type: 'string',
            description: 'a saleId (the `next` of the last page): only sales recorded before it, by sequence',
          },
          receiptNo: {
            type: 'string',
            description: 'exactly this receipt number (a refund’s number gives its sale)',
          },
          q: { type: 'string', description: 'the end of a receipt number: its last digits' },
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

export const SaleLinesSchema = Type.Object(
  {
    lines: Type.Array(SaleLineSchema, { minItems: 1, maxItems: 500 }),
    orderDiscount: Type.Optional(DiscountSchema),
  },
  { additionalProperties: false },
);

/** `PUT /api/v1/sales/{saleId}/lines`: back from the pay screen, the changed cart on the same open sale. */
export function saleLinesRoutes(deps: OpenSaleLinesDeps): Route[] {
  return [
    {
      method: 'PUT',
      path: '/api/v1/sales/:saleId/lines',
      auth: true,
      doc: {
        summary: 'Replace the lines of an open sale nothing was paid on (back from the pay screen)',
        tag: 'sales',
        body: SaleLinesSchema,
        responses: { 200: { description: 'the re-priced open sale', schema: SaleViewSchema } },
        errors: ['SALE_NOT_FOUND', 'SALE_NOT_OPEN', 'ORDER_PRICED', 'CONFLICT'],
      },
      handle: (ctx) => ({
        status: 200,
        body: replaceOpenSaleLines(deps, ctx.params.saleId!, validateBody(SaleLinesSchema, ctx.body)),
      }),
    },
  ];
}
