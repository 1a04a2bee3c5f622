import { Type } from '@sinclair/typebox';
import type { EventBus } from '../bus.js';
import { PosError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PinVerifier } from './cashiers.js';
import { CatalogItemSchema, type CatalogPort } from './catalog.js';
import { EVENTS_PATH } from './event-stream.js';
import type { Route } from './http-server.js';
import type { PinThrottle } from './pin-throttle.js';
import { clearedSessionCookie, type SessionStore, sessionCookie } from './sessions.js';
import { validateBody } from './validate.js';

declare module '../bus.js' {
  interface PosEvents {
    /** The cashier's cart before it becomes a sale, for the customer screen and display. */
    'cart.updated': {
      lines: Array<{ name: string; qty: number; amount: number }>;
      total: number;
    };
  }
}

export const SignInSchema = Type.Object(
  { pin: Type.String({ pattern: '^[0-9]{4,8}$', description: '4 to 8 digits' }) },
  { additionalProperties: false },
);
export const CashierSchema = Type.Object({ id: Type.String(), name: Type.String() });
export const SessionSchema = Type.Object({
  cashier: Type.Union([CashierSchema, Type.Null()], { description: 'null when authorised by the token' }),
});
export const CartSchema = Type.Object(
  {
    lines: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 120 }),
          qty: Type.Integer({ minimum: 1, maximum: 9999 }),
          amount: Type.Integer({ minimum: 0, maximum: 100_000_000 }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 500 },
    ),
    total: Type.Integer({ minimum: 0, maximum: 100_000_000 }),
  },
  { additionalProperties: false },
);
export const LedgerFiguresSchema = Type.Object({
  lastSeq: Type.Integer(),
  ackedUpTo: Type.Integer(),
  outboxDepth: Type.Integer({ description: 'records not yet synced: the offline badge' }),
  rejected: Type.Integer(),
  oldestUnsyncedAt: Type.Optional(Type.String({ format: 'date-time' })),
});
export const StatusSchema = Type.Object({
  bootId: Type.String({ description: 'the event stream boot (changes on restart)' }),
  epoch: Type.String({ description: 'the ledger epoch' }),
  mode: Type.String(),
  cloud: Type.Union([Type.Literal('online'), Type.Literal('offline'), Type.Literal('none')]),
  ledger: LedgerFiguresSchema,
  merchantName: Type.Optional(
    Type.String({ description: "the business config's merchant name (the customer screen's idle)" }),
  ),
});

export interface UiRoutesDeps {
  sessions: SessionStore;
  cashiers: PinVerifier;
  throttle: PinThrottle;
  catalog: CatalogPort;
  bus: EventBus;
  log: Logger;
  status: () => Record<string, unknown>;
}

/** Sign-in, catalog, status and the cart mirror: what the served UI needs beyond the sales API. */
export function uiRoutes(d: UiRoutesDeps): Route[] {
  return [
    {
      method: 'POST',
      path: '/api/v1/session',
      auth: false,
      doc: {
        summary: 'Sign a cashier in with a PIN; sets the HttpOnly session cookie',
        tag: 'session',
        body: SignInSchema,
        responses: { 201: { description: 'signed in', schema: SessionSchema } },
        errors: ['PIN_WRONG', 'PIN_LOCKED'],
      },
      handle: (ctx) => {
        d.throttle.check();
        const { pin } = validateBody(SignInSchema, ctx.body);
        const cashier = d.cashiers.verifyPin(pin);
        if (!cashier) {
          d.throttle.failed();
          d.log.warn('wrong PIN');
          throw new PosError('PIN_WRONG', 'wrong PIN');
        }
        d.throttle.succeeded();
        const session = d.sessions.create(cashier);
        d.log.info({ cashier: cashier.id }, 'cashier signed in');
        return {
          status: 201,
          body: { cashier },
          headers: { 'set-cookie': sessionCookie(session.id, session.maxAgeSeconds) },
        };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/session',
      auth: true,
      doc: {
        summary: 'Who is signed in',
        tag: 'session',
        responses: { 200: { description: 'the session', schema: SessionSchema } },
      },
      handle: (ctx) => ({ status: 200, body: { cashier: d.sessions.cashierOf(ctx.headers) ?? null } }),
    },
    {
      method: 'DELETE',
      path: '/api/v1/session',
      auth: true,
      doc: {
        summary: 'Sign out; clears the cookie',
        tag: 'session',
        responses: { 204: { description: 'signed out' } },
      },
      handle: (ctx) => {
        d.sessions.destroy(ctx.headers);
        return { status: 204, headers: { 'set-cookie': clearedSessionCookie() } };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/catalog',
      auth: true,
      doc: {
        summary: 'Items for the grid and barcode lookup',
        tag: 'ui',
        responses: {
          200: { description: 'the catalog', schema: Type.Object({ items: Type.Array(CatalogItemSchema) }) },
        },
      },
      handle: () => ({ status: 200, body: { items: d.catalog.items() } }),
    },
    {
      method: 'GET',
      path: '/api/v1/status',
      auth: true,
      doc: {
        summary: 'Ledger figures (the offline badge), cloud link, event-stream boot',
        tag: 'ui',
        responses: { 200: { description: 'status', schema: StatusSchema } },
      },
      handle: () => ({ status: 200, body: d.status() }),
    },
    {
      method: 'PUT',
      path: '/api/v1/cart',
      auth: true,
      doc: {
        summary: 'Mirror the cashier’s cart to the customer screen (a cart.updated event; nothing is stored)',
        tag: 'ui',
        body: CartSchema,
        responses: { 204: { description: 'announced' } },
      },
      handle: (ctx) => {
        d.bus.emit('cart.updated', validateBody(CartSchema, ctx.body));
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: EVENTS_PATH,
      auth: true,
      doc: {
        summary:
          'WebSocket stream of {seq, type, at, data}; first frame `hello` {bootId, lastSeq, oldestSeq}; ' +
          '`?afterSeq=N&bootId=B` replays after N or sends `resync` {reason: restarted | behind}',
        tag: 'events',
        query: {
          afterSeq: { type: 'integer', description: 'last seq the client has seen' },
          bootId: { type: 'string', description: 'the bootId of the hello the client last saw' },
        },
        responses: { 101: { description: 'switching to WebSocket' } },
        errors: ['UPGRADE_REQUIRED'],
      },
      handle: () => {
        throw new PosError('UPGRADE_REQUIRED', 'this is a WebSocket endpoint');
      },
    },
  ];
}
