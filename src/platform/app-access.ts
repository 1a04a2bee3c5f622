import type { IncomingMessage } from 'node:http';
import { PosError } from '../errors.js';
import type { StreamAudience } from '../ui-bridge/event-stream.js';
import type { Reply, RequestContext, RequestHooks } from '../ui-bridge/http-server.js';
import { appIdempotencyKey } from './app-id.js';
import type { AppRegistry, InstalledApp } from './app-registry.js';
import { APP_TOKEN_PREFIX, type AppSession, type AppSessions } from './app-sessions.js';
import { decideScope, eventAllowed, SCOPE_RULES } from './scopes.js';

/** The WebSocket subprotocol that carries an app token (a browser cannot set headers there). */
export const TOKEN_PROTOCOL_PREFIX = 'posd-token.';
const APP_ORIGIN = /^http:\/\/([a-z0-9-]+)\.apps\.localhost:(\d+)$/;

export interface AppCaller {
  app: InstalledApp;
  session: AppSession;
}

export interface AppAccessOptions {
  registry: Pick<AppRegistry, 'list' | 'get' | 'appOfSale'>;
  sessions: AppSessions;
  /** The apps listener's port (its origins name it). */
  appsPort: () => number | undefined;
  /** paymentId → saleId, for the routes that name a payment. */
  saleOfPayment: (paymentId: string) => string | undefined;
  /** Records made while `run` runs are the app's (AppContext). */
  during: <T>(appId: string, run: () => T) => T;
  /** After an app's POST /api/v1/sales: the sale is the app's. */
  claimSale: (saleId: string, appId: string) => void;
}

function bearerOf(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

function protocolTokenOf(req: IncomingMessage): string | undefined {
  const header = req.headers['sec-websocket-protocol'];
  if (typeof header !== 'string') return undefined;
  for (const p of header.split(',')) {
    const t = p.trim();
    if (t.startsWith(TOKEN_PROTOCOL_PREFIX)) return t.slice(TOKEN_PROTOCOL_PREFIX.length);
  }
  return undefined;
}

/**
 * How an app reaches the local API (platform-v1 "What an app may do"): its origin and its token
 * together. A request from an app origin speaks with that app's token only (never the cashier's
 * cookie); an app token is checked against the scope table before any route runs; sales and
 * payments are the app's own or not found; the event stream carries only what the scopes grant.
 */
export class AppAccess {
  constructor(private readonly o: AppAccessOptions) {}

  originOf(app: InstalledApp): string {
    return `http://${app.label}.apps.localhost:${this.o.appsPort() ?? 0}`;
  }

  /** The origins of installed apps (the API's origin allow-list takes them). */
  origins(): string[] {
    return this.o.registry.list().map((a) => this.originOf(a));
  }

  private appOrigin(req: IncomingMessage): string | undefined {
    const origin = req.headers.origin?.toLowerCase();
    return origin !== undefined && APP_ORIGIN.test(origin) ? origin : undefined;
  }

  /** An origin only the apps listener serves (an installed app, or one removed while open). */
  private ourAppOrigin(req: IncomingMessage): string | undefined {
    const origin = this.appOrigin(req);
    const port = this.o.appsPort();
    return origin && port !== undefined && APP_ORIGIN.exec(origin)?.[2] === String(port) ? origin : undefined;
  }

  /**
   * The app calling, checked (token live, app installed, origin its own); undefined when the
   * request is not an app's. Throws UNAUTHORIZED or FORBIDDEN.
   */
  caller(req: IncomingMessage, token = bearerOf(req)): AppCaller | undefined {
    const fromApp = this.appOrigin(req);
    const isAppToken = token?.startsWith(APP_TOKEN_PREFIX) ?? false;
    if (!fromApp && !isAppToken) return undefined;
    if (!token || !isAppToken)
      throw new PosError('UNAUTHORIZED', 'an app origin calls with its app token only');
    const session = this.o.sessions.find(token);
    const app = session && this.o.registry.get(session.appId);
    if (!session || !app) throw new PosError('UNAUTHORIZED', 'the app session has ended');
    const origin = req.headers.origin?.toLowerCase();
    if (origin !== undefined && origin !== this.originOf(app)) {
      throw new PosError('FORBIDDEN', "an app token works only from its own app's origin");
    }
    return { app, session };
  }

  /** HttpServer guard: an app's request reaches only what its scopes grant. */
  guard(req: IncomingMessage): void {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (!path.startsWith('/api/') || req.method === 'OPTIONS') return;
    const c = this.caller(req);
    if (!c) return;
    const decision = decideScope(req.method ?? 'GET', path, c.session.scopes);
    if (!decision.allowed) {
      throw new PosError('SCOPE_DENIED', `the app's scopes do not reach ${req.method} ${path}`);
    }
    if (!decision.owned) return;
    const saleId =
      decision.owned.kind === 'sale' ? decision.owned.id : this.o.saleOfPayment(decision.owned.id);
    if (saleId === undefined || this.o.registry.appOfSale(saleId) !== c.app.appId) {
      const what = decision.owned.kind === 'sale' ? 'SALE_NOT_FOUND' : 'NOT_FOUND';
      throw new PosError(what, `no ${decision.owned.kind} ${decision.owned.id} of this app`);
    }
  }

  /** HttpServer authenticator: a live app token (the guard has checked its scope). */
  authenticates(req: IncomingMessage): boolean {
    const token = bearerOf(req) ?? protocolTokenOf(req);
    if (!token?.startsWith(APP_TOKEN_PREFIX)) return false;
    // The origin is the guard's and the stream audience's to check (403, not 401).
    const session = this.o.sessions.find(token);
    return session !== undefined && this.o.registry.get(session.appId) !== undefined;
  }

  /** The event stream's audience: an app sees the types its scopes grant, of its own sales. */
  audience(req: IncomingMessage): StreamAudience | undefined {
    const c = this.caller(req, bearerOf(req) ?? protocolTokenOf(req));
    if (!c) return undefined;
    const { app, session } = c;
    return {
      open: () => this.o.sessions.live(session) && this.o.registry.get(app.appId) !== undefined,
      allows: (frame) => {
        if (!eventAllowed(frame.type, session.scopes)) return false;
        if (frame.type !== 'sale.updated' && frame.type !== 'payment.updated') return true;
        const saleId = (frame.data as { saleId?: unknown } | null)?.saleId;
        return typeof saleId === 'string' && this.o.registry.appOfSale(saleId) === app.appId;
      },
    };
  }

  /** CORS for installed apps' origins, on the API only; never credentials. */
  hooks(): RequestHooks {
    return {
      corsHeaders: (req) => {
        if (req.method === 'OPTIONS') return undefined; // the preflight says it itself, when it may
        // Readable answers (403 SCOPE_DENIED, the 401 of a removed app) for pages of the apps listener.
        const origin = this.ourAppOrigin(req);
        if (!origin || !(req.url ?? '').startsWith('/api/')) return undefined;
        return { 'access-control-allow-origin': origin, vary: 'Origin' };
      },
      preflight: (req) => this.preflight(req),
      around: (req, ctx, run) => this.around(req, ctx, run),
    };
  }

  /**
   * A preflight is answered for a route the origin's app may call (per its scopes), else 403. An
   * app removed while its page is open may still ask: its request then gets a readable 401.
   */
  private preflight(req: IncomingMessage): Reply | undefined {
    const origin = this.appOrigin(req);
    if (!origin) return undefined;
    const app = this.o.registry.list().find((a) => this.originOf(a) === origin);
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const method = String(req.headers['access-control-request-method'] ?? '').toUpperCase();
    const removed = !app && this.ourAppOrigin(req) !== undefined && path.startsWith('/api/');
    const decision = app ? decideScope(method, path, app.scopes) : undefined;
    if (!removed && !decision?.allowed) {
      return {
        status: 403,
        body: { error: { code: 'SCOPE_DENIED', message: `no app at ${origin} may call ${method} ${path}` } },
      };
    }
    const methods = SCOPE_RULES.filter((r) => r.pattern.test(path)).map((r) => r.method);
    return {
      status: 204,
      headers: {
        'access-control-allow-origin': origin,
        vary: 'Origin',
        'access-control-allow-methods': [...new Set(methods)].join(', '),
        'access-control-allow-headers': 'authorization, content-type, idempotency-key',
        'access-control-max-age': '600',
      },
    };
  }

  private around(req: IncomingMessage, ctx: RequestContext, run: () => Promise<Reply> | Reply) {
    const token = bearerOf(req);
    if (!token?.startsWith(APP_TOKEN_PREFIX)) return run();
    const c = this.caller(req, token);
    if (!c) return run();
    const appId = c.app.appId;
    // An app's retry key never meets the cashier's or another app's.
    const key = ctx.headers['idempotency-key'];
    if (typeof key === 'string')
      ctx.headers = { ...ctx.headers, 'idempotency-key': appIdempotencyKey(appId, key) };
    const claim = (reply: Reply): Reply => {
      const saleId = (reply.body as { saleId?: unknown } | undefined)?.saleId;
      if (
        ctx.method === 'POST' &&
        ctx.path === '/api/v1/sales' &&
        reply.status === 201 &&
        typeof saleId === 'string'
      )
        this.o.claimSale(saleId, appId);
      return reply;
    };
    const out = this.o.during(appId, run);
    return out instanceof Promise ? out.then(claim) : claim(out);
  }
}
