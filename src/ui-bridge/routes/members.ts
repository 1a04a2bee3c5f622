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
/** A mainland mobile number: 11 digits starting with 1. */
export const MemberPhoneLookupSchema = Type.Object(
  { phone: Type.String({ pattern: '^1[0-9]{10}$', description: 'the member’s mobile number, 11 digits' }) },
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
      path: '/api/v1/members/lookup-by-phone',
      auth: true,
      doc: {
        summary:
          'Look a member up by mobile number (cloud `member.lookup` with the number as its code); ' +
          'the member goes on the sale for points, a stored-value payment still needs the member code',
        tag: 'members',
        body: MemberPhoneLookupSchema,
        responses: {
          200: {
            description: 'the member {memberId, name, balance, points}',
            schema: Type.Object({
              memberId: Type.String(),
              name: Type.Optional(Type.String()),
              balance: Type.Integer(),
              points: Type.Integer(),
            }),
          },
        },
        errors: ['VALIDATION_FAILED', 'NOT_FOUND', 'TENDER_NOT_SUPPORTED'],
      },
      handle: async (ctx) => {
        const member = await members.lookup(validateBody(MemberPhoneLookupSchema, ctx.body).phone);
        // Only what identifies the member for points: nothing that could pay from the stored value.
        return {
          status: 200,
          body: {
            memberId: member.memberId,
            ...(member.name ? { name: member.name } : {}),
            balance: member.balance,
            points: member.points,
          },
        };
      },
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
