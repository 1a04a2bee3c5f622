import { Type } from '@sinclair/typebox';
import { PosError } from '../../errors.js';
import type { OrderCheckout } from '../../services/order-checkout.js';
import type { OrderService } from '../../services/order-service.js';
import type { Route } from '../http-server.js';
import { intQuery, validateBody } from '../validate.js';

export const RejectOrderSchema = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

export const CancelOrderSchema = Type.Object(
  { reason: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
  { additionalProperties: false },
);

export function orderRoutes(orders: OrderService, checkout: OrderCheckout): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/orders',
      auth: true,
      handle: async (ctx) => {
        const pickupCode = ctx.query.get('pickupCode');
        if (pickupCode !== null) {
          if (!/^[\x21-\x7e]{1,32}$/.test(pickupCode)) {
            throw new PosError('VALIDATION_FAILED', 'pickupCode: 1 to 32 printable characters');
          }
          return { status: 200, body: { orders: await checkout.findByPickupCode(pickupCode) } };
        }
        return { status: 200, body: { orders: orders.list(intQuery(ctx.query, 'limit', 50, 1, 500)) } };
      },
    },
    {
      method: 'POST',
      path: '/api/v1/orders/:orderId/checkout',
      auth: true,
      handle: async (ctx) => ({ status: 200, body: await checkout.checkout(ctx.params.orderId!) }),
    },
    {
      method: 'POST',
      path: '/api/v1/orders/:orderId/cancel',
      auth: true,
      handle: (ctx) => ({
        status: 200,
        body: checkout.cancel(
          ctx.params.orderId!,
          validateBody(CancelOrderSchema, ctx.body ?? {}).reason ?? 'cancelled by the cashier',
        ),
      }),
    },
    {
      method: 'GET',
      path: '/api/v1/orders/:orderId',
      auth: true,
      handle: (ctx) => ({ status: 200, body: orders.get(ctx.params.orderId!) }),
    },
    {
      method: 'POST',
      path: '/api/v1/orders/:orderId/accept',
      auth: true,
      handle: async (ctx) => ({ status: 200, body: await orders.accept(ctx.params.orderId!) }),
    },
    {
      method: 'POST',
      path: '/api/v1/orders/:orderId/reject',
      auth: true,
      handle: (ctx) => ({
        status: 200,
        body: orders.reject(ctx.params.orderId!, validateBody(RejectOrderSchema, ctx.body).reason),
      }),
    },
    {
      method: 'POST',
      path: '/api/v1/orders/:orderId/reprint',
      auth: true,
      handle: async (ctx) => ({ status: 200, body: await orders.reprint(ctx.params.orderId!) }),
    },
  ];
}
