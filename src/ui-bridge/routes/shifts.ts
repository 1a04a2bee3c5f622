import { Type } from '@sinclair/typebox';
import { MAX_AMOUNT } from '../../core/money.js';
import type { ShiftService } from '../../services/shift-service.js';
import type { Route } from '../http-server.js';
import { validateBody } from '../validate.js';

export const OpenShiftSchema = Type.Object(
  {
    openingCash: Type.Integer({ minimum: 0, maximum: MAX_AMOUNT, description: 'counted cash, minor units' }),
  },
  { additionalProperties: false },
);

export const CloseShiftSchema = Type.Object(
  {
    countedCash: Type.Integer({ minimum: 0, maximum: MAX_AMOUNT, description: 'counted cash, minor units' }),
  },
  { additionalProperties: false },
);

export function shiftRoutes(shifts: ShiftService): Route[] {
  return [
    {
      method: 'POST',
      path: '/api/v1/shifts',
      auth: true,
      handle: (ctx) => ({
        status: 201,
        body: shifts.open(validateBody(OpenShiftSchema, ctx.body).openingCash),
      }),
    },
    {
      method: 'GET',
      path: '/api/v1/shifts/current',
      auth: true,
      handle: () => ({ status: 200, body: shifts.currentReport() }),
    },
    {
      method: 'POST',
      path: '/api/v1/shifts/current/close',
      auth: true,
      handle: (ctx) => ({
        status: 200,
        body: shifts.close(validateBody(CloseShiftSchema, ctx.body).countedCash),
      }),
    },
    {
      method: 'GET',
      path: '/api/v1/shifts/:shiftId',
      auth: true,
      handle: (ctx) => ({ status: 200, body: shifts.reportOf(ctx.params.shiftId!) }),
    },
  ];
}
