import { Type } from '@sinclair/typebox';
import { PosError } from '../../errors.js';
import type { CouponIssuer } from '../../services/coupon-issuer.js';
import type { CouponService } from '../../services/coupon-service.js';
import type { SaleService } from '../../services/sale-service.js';
import type { Route } from '../http-server.js';
import { qrSvg } from '../payment-qr.js';
import { validateBody } from '../validate.js';
import { idempotencyKey } from './sales.js';

export const ApplyCouponSchema = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

export const IssueCouponSchema = Type.Object(
  {
    ruleId: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'a rule of business config coupons.issueRules',
    }),
    saleId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

export function couponRoutes(coupons: CouponService, sales: SaleService, issuer: CouponIssuer): Route[] {
  return [
    {
      method: 'POST',
      path: '/api/v1/coupons/issue',
      auth: true,
      handle: (ctx) => {
        const { ruleId, saleId } = validateBody(IssueCouponSchema, ctx.body);
        return { status: 201, body: issuer.issue(ruleId, saleId, idempotencyKey(ctx)) };
      },
    },
    {
      method: 'POST',
      path: '/api/v1/sales/:saleId/coupon',
      auth: true,
      handle: async (ctx) => {
        const { code } = validateBody(ApplyCouponSchema, ctx.body);
        await coupons.apply(ctx.params.saleId!, code);
        return { status: 200, body: sales.getSale(ctx.params.saleId!) };
      },
    },
    {
      method: 'DELETE',
      path: '/api/v1/sales/:saleId/coupon',
      auth: true,
      doc: {
        summary: 'Take the coupon off an open sale (its hold at the cloud is released)',
        tag: 'coupons',
        responses: { 200: { description: 'the sale without its coupon' } },
        errors: ['NOT_FOUND', 'SALE_NOT_OPEN', 'CONFLICT'],
      },
      handle: (ctx) => {
        coupons.remove(ctx.params.saleId!);
        return { status: 200, body: sales.getSale(ctx.params.saleId!) };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/coupons/issued/:code/qr.svg',
      auth: true,
      doc: {
        summary: 'A coupon this terminal issued, as an SVG QR code of its code (customer screen)',
        tag: 'coupons',
        responses: { 200: { description: 'image/svg+xml' } },
        errors: ['NOT_FOUND'],
      },
      handle: (ctx) => {
        const coupon = issuer.issued(ctx.params.code!);
        if (!coupon) throw new PosError('NOT_FOUND', 'this terminal issued no such coupon');
        return { status: 200, body: qrSvg(coupon.code), headers: { 'content-type': 'image/svg+xml' } };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/coupons/conflicts',
      auth: true,
      handle: () => ({ status: 200, body: { conflicts: coupons.conflicts() } }),
    },
  ];
}
