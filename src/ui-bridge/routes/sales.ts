import { Type } from '@sinclair/typebox';
import { MAX_AMOUNT } from '../../core/money.js';
import { MAX_QTY } from '../../core/sale.js';
import type { PaymentService } from '../../services/payment-service.js';
import type { RefundService } from '../../services/refund-service.js';
import type { SaleService } from '../../services/sale-service.js';
import type { RequestContext, Route } from '../http-server.js';
import { validateBody } from '../validate.js';

const Amount = Type.Integer({ minimum: 0, maximum: MAX_AMOUNT, description: 'minor units (fen)' });
const PositiveAmount = Type.Integer({ minimum: 1, maximum: MAX_AMOUNT, description: 'minor units (fen)' });

export const DiscountSchema = Type.Union([
  Type.Object({ amount: Amount }, { additionalProperties: false }),
  Type.Object(
    {
      percentBp: Type.Integer({ minimum: 0, maximum: 10_000, description: 'basis points: 1500 = 15 % off' }),
    },
    { additionalProperties: false },
  ),
]);

export const SaleLineSchema = Type.Object(
  {
    sku: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    name: Type.String({ minLength: 1, maxLength: 120 }),
    qty: Type.Integer({ minimum: 1, maximum: MAX_QTY }),
    unitPrice: Amount,
    discount: Type.Optional(DiscountSchema),
  },
  { additionalProperties: false },
);

export const CreateSaleSchema = Type.Object(
  {
    lines: Type.Array(SaleLineSchema, { minItems: 1, maxItems: 500 }),
    orderDiscount: Type.Optional(DiscountSchema),
    tenders: Type.Optional(
      Type.Array(
        Type.Object(
          {
            method: Type.Union(['cash', 'code', 'qr', 'card', 'member'].map((m) => Type.Literal(m))),
            amount: PositiveAmount,
          },
          { additionalProperties: false },
        ),
        { maxItems: 20 },
      ),
    ),
  },
  { additionalProperties: false },
);

export const PaymentSchema = Type.Union([
  Type.Object({ method: Type.Literal('cash'), amount: PositiveAmount }, { additionalProperties: false }),
  Type.Object(
    { method: Type.Literal('code'), authCode: Type.String({ pattern: '^[0-9]{10,30}$' }) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      method: Type.Literal('qr'),
      channel: Type.Union([Type.Literal('wechat'), Type.Literal('alipay'), Type.Literal('unionpay')]),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      method: Type.Literal('member'),
      memberCode: Type.String({ pattern: '^[A-Za-z0-9]{4,40}$', description: 'the scanned membership card' }),
      amount: Type.Optional(PositiveAmount),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      method: Type.Literal('card'),
      amount: PositiveAmount,
      reference: Type.Optional(Type.String({ maxLength: 64, description: 'card terminal slip reference' })),
    },
    { additionalProperties: false },
  ),
]);

export const VoidSchema = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 200 })) },
  { additionalProperties: false },
);

export const RefundSchema = Type.Object(
  {
    lines: Type.Array(
      Type.Object(
        { lineNo: Type.Integer({ minimum: 1 }), qty: Type.Integer({ minimum: 1, maximum: MAX_QTY }) },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 500 },
    ),
    reason: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export function idempotencyKey(ctx: RequestContext): string | undefined {
  const value = ctx.headers['idempotency-key'];
  return Array.isArray(value) ? value[0] : value;
}

export function saleRoutes(sales: SaleService, payments: PaymentService, refunds: RefundService): Route[] {
  return [
    {
      method: 'POST',
      path: '/api/v1/sales',
      auth: true,
      handle: (ctx) => sales.createSale(validateBody(CreateSaleSchema, ctx.body), idempotencyKey(ctx)),
    },
    {
      method: 'GET',
      path: '/api/v1/sales/:saleId',
      auth: true,
      handle: (ctx) => ({ status: 200, body: sales.getSale(ctx.params.saleId!) }),
    },
    {
      method: 'POST',
      path: '/api/v1/sales/:saleId/payments',
      auth: true,
      handle: (ctx) => {
        const body = validateBody(PaymentSchema, ctx.body);
        const saleId = ctx.params.saleId!;
        // Code and QR never wait for the acquirer: 202 now, the outcome comes as events.
        const key = idempotencyKey(ctx);
        if (body.method === 'code')
          return { status: 202, body: payments.startCode(saleId, body.authCode, key) };
        if (body.method === 'member')
          return { status: 202, body: payments.startMember(saleId, body.memberCode, body.amount, key) };
        if (body.method === 'qr') return { status: 202, body: payments.startQr(saleId, body.channel, key) };
        if (body.method === 'card') return sales.payCard(saleId, body.amount, body.reference, key);
        return sales.payCash(saleId, body.amount, key);
      },
    },
    {
      method: 'GET',
      path: '/api/v1/payments/:paymentId',
      auth: true,
      handle: (ctx) => ({ status: 200, body: payments.get(ctx.params.paymentId!) }),
    },
    {
      method: 'POST',
      path: '/api/v1/payments/:paymentId/cancel',
      auth: true,
      // Answers within one request deadline: 202 `closing` while the close is retried in the background.
      handle: async (ctx) => {
        const { closing, payment } = await payments.cancelQr(ctx.params.paymentId!);
        return closing
          ? { status: 202, body: { ...payment, status: 'closing' } }
          : { status: 200, body: payment };
      },
    },
    {
      method: 'POST',
      path: '/api/v1/sales/:saleId/void',
      auth: true,
      handle: (ctx) => {
        const body = validateBody(VoidSchema, ctx.body ?? {});
        return { status: 200, body: sales.voidSale(ctx.params.saleId!, body.reason) };
      },
    },
    {
      method: 'POST',
      path: '/api/v1/sales/:saleId/refunds',
      auth: true,
      handle: (ctx) =>
        refunds.refund(ctx.params.saleId!, validateBody(RefundSchema, ctx.body), idempotencyKey(ctx)),
    },
  ];
}
