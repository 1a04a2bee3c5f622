import { Type } from '@sinclair/typebox';
import { PosError } from '../errors.js';
import type { Route } from '../ui-bridge/http-server.js';
import { validateBody } from '../ui-bridge/validate.js';
import type { UpdateService } from './update-service.js';

/** Whose PIN this is, and whether they may restart the terminal (cashiers.json `role`). */
export type PinRole = (pin: string) => 'manager' | 'cashier' | undefined;

/**
 * Wrong manager PINs (src/ui-bridge/pin-throttle.ts): its own counter, which only a manager's PIN
 * resets, so that a cashier cannot reset it with their own PIN between guesses.
 */
export interface PinGuesses {
  /** Throws PIN_LOCKED while locked. */
  check(): void;
  failed(): void;
  succeeded(): void;
}

export const RestartSchema = Type.Object(
  { pin: Type.String({ minLength: 1, maxLength: 32, description: "a manager's PIN" }) },
  { additionalProperties: false },
);

const UpdateViewSchema = Type.Object(
  {
    state: Type.String({
      description: 'idle, downloading, installing, waiting-to-reboot, rebooting, rolled-back, failed',
    }),
    version: Type.Union([Type.String(), Type.Null()]),
    progress: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()]),
    restartsAt: Type.Optional(Type.String({ description: 'waiting-to-reboot: when the terminal restarts' })),
    waitingFor: Type.Optional(Type.Array(Type.String(), { description: 'what holds the restart back' })),
  },
  { additionalProperties: true },
);

/** The cashier's view of an update and a manager's "restart now" (docs/local-api.md). */
export function updateRoutes(
  updates: Pick<UpdateService, 'view' | 'restartNow'>,
  pinRole: PinRole,
  guesses?: PinGuesses,
): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/update',
      auth: true,
      handle: () => ({ status: 200, body: updates.view() }),
      doc: {
        summary: 'The over-the-air update: state, version, progress, when the terminal restarts',
        tag: 'system',
        responses: { 200: { description: 'the update', schema: UpdateViewSchema } },
      },
    },
    {
      method: 'POST',
      path: '/api/v1/update/restart',
      auth: true,
      handle: async (ctx) => {
        guesses?.check(); // the manager's PIN is not to be guessed here either
        const { pin } = validateBody(RestartSchema, ctx.body);
        const role = pinRole(pin);
        if (role !== 'manager') guesses?.failed();
        if (!role) throw new PosError('PIN_WRONG', 'wrong PIN');
        if (role !== 'manager') throw new PosError('FORBIDDEN', 'only a manager may restart the terminal');
        guesses?.succeeded();
        return { status: 202, body: await updates.restartNow() };
      },
      doc: {
        summary:
          'A manager restarts the terminal into the installed update now, outside the update window; never while money is in flight',
        tag: 'system',
        body: RestartSchema,
        responses: {
          202: { description: 'restarting', schema: Type.Object({ restarting: Type.Literal(true) }) },
        },
        errors: ['PIN_WRONG', 'PIN_LOCKED', 'FORBIDDEN', 'UPDATE_NOT_READY', 'VALIDATION_FAILED'],
      },
    },
  ];
}
