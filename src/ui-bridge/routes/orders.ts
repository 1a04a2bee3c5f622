import { Type } from '@sinclair/typebox';
import type { OrderService } from '../../services/order-service.js';
import type { Route } from '../http-server.js';
import { intQuery, validateBody } from '../validate.js';

export const RejectOrderSchema = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

export function orderRoutes(orders: OrderService): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/orders',
      auth: true,
      handle: (ctx) => ({
        status: 200,
        body: { orders: orders.list(intQuery(ctx.query, 'limit', 50, 1, 500)) },
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
