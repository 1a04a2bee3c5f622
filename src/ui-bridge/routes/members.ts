import { Type } from '@sinclair/typebox';
import { MAX_AMOUNT } from '../../core/money.js';
import type { MemberService } from '../../services/member-service.js';
import type { SaleService } from '../../services/sale-service.js';
import type { Route } from '../http-server.js';
import { validateBody } from '../validate.js';
import { idempotencyKey } from './sales.js';

export const MemberLookupSchema = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
export const SaleMemberSchema = Type.Object(
  { memberId: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
export const RechargeSchema = Type.Object(
  { amount: Type.Integer({ minimum: 1, maximum: MAX_AMOUNT }) },
  { additionalProperties: false },
);

export function memberRoutes(members: MemberService, sales: SaleService): Route[] {
  return [
    {
      method: 'POST',
      path: '/api/v1/members/lookup',
      auth: true,
      handle: async (ctx) => ({
        status: 200,
        body: await members.lookup(validateBody(MemberLookupSchema, ctx.body).code),
      }),
    },
    {
      method: 'POST',
      path: '/api/v1/members/:memberId/recharges',
      auth: true,
      handle: (ctx) =>
        members.recharge(
          ctx.params.memberId!,
          validateBody(RechargeSchema, ctx.body).amount,
          idempotencyKey(ctx),
        ),
    },
    {
      method: 'POST',
      path: '/api/v1/sales/:saleId/member',
      auth: true,
      handle: (ctx) => ({
        status: 200,
        body: sales.setMember(ctx.params.saleId!, validateBody(SaleMemberSchema, ctx.body).memberId),
      }),
    },
  ];
}
