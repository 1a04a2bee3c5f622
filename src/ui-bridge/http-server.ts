import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { codePointName, findForbiddenText } from '../core/safe-text.js';
import { type ErrorCode, isPosError, PosError } from '../errors.js';
import type { Logger } from '../log.js';
import { closeServer, listen } from './listen.js';
import type { RouteDoc } from './route-doc.js';
import { tokensEqual } from './token.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestContext {
  method: HttpMethod;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: HttpMethod;
  /** `/api/v1/sales/:saleId` */
  path: string;
  /** Needs the bearer token (everything under /api/ does). */
  auth: boolean;
  handle(ctx: RequestContext): Promise<Reply> | Reply;
  /** Request and response shapes for the OpenAPI document. */
  doc?: RouteDoc;
  /** The body as bytes (a store app package), not JSON. */
  raw?: { maxBytes: number; contentType: RegExp };
}

/** Per-request hooks of the store app platform (CORS for app origins, whose request it is). */
export interface RequestHooks {
  /** Headers for every answer to this request (CORS), or undefined. */
  corsHeaders?(req: IncomingMessage): Record<string, string> | undefined;
  /** Answers an OPTIONS preflight; undefined leaves it to the router. */
  preflight?(req: IncomingMessage): Reply | undefined;
  /** Runs the matched route's handler; may wrap it. */
  around?(
    req: IncomingMessage,
    ctx: RequestContext,
    run: () => Promise<Reply> | Reply,
  ): Promise<Reply> | Reply;
}

/** Accepts a request under /api/ by other means than the bearer token (the session cookie). */
export type Authenticator = (req: IncomingMessage) => boolean;
/** Runs before auth and routing; throws a PosError to refuse (the origin allow-list). */
export type RequestGuard = (req: IncomingMessage) => void;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

const MAX_BODY_BYTES = 256 * 1024;

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 422,
  AMOUNT_INVALID: 422,
  DISCOUNT_INVALID: 422,
  SALE_EMPTY: 422,
  TENDER_INSUFFICIENT: 422,
  TENDER_NOT_SUPPORTED: 422,
  CHANGE_NOT_ALLOWED: 422,
  REFUND_EXCEEDS_REMAINING: 422,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  SALE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  SALE_NOT_OPEN: 409,
  VOID_NOT_ALLOWED: 409,
  REFUND_NOT_ALLOWED: 409,
  PAYMENT_UNRESOLVED: 409,
  SHIFT_ALREADY_OPEN: 409,
  OFFLINE_LIMIT: 409,
  COUPON_INVALID: 422,
  COUPON_RESERVED: 409,
  COUPON_OFFLINE: 409,
  COUPON_UNCONFIRMED: 503,
  NOTHING_TO_PAY: 409,
  RECHARGE_OFFLINE: 409,
  RECHARGE_REFUSED: 422,
  NO_OPEN_SHIFT: 409,
  ORDER_PREPAID: 409,
  ORDER_ALREADY_PAID: 409,
  ORDER_CANCELLED: 409,
  ORDER_IN_PAYMENT: 409,
  ORDER_PRICED: 409,
  DEVICE_UNAVAILABLE: 409,
  IDEMPOTENCY_MISMATCH: 409,
  PAYLOAD_TOO_LARGE: 413,
  PIN_WRONG: 401,
  PIN_LOCKED: 429,
  UPGRADE_REQUIRED: 426,
  MISDIRECTED_REQUEST: 421,
  UNSUPPORTED_MEDIA_TYPE: 415,
  STORAGE_FULL: 507,
  STORAGE_READ_ONLY: 503,
  STORAGE_FAILED: 503,
  APP_PACKAGE_INVALID: 422,
  APP_NOT_FOUND: 404,
  APP_DOWNLOAD_FAILED: 502,
  SCOPE_DENIED: 403,
  UPDATE_SAME_VERSION: 409,
  UPDATE_IN_PROGRESS: 409,
  UPDATE_NO_SPACE: 507,
  UPDATE_NOT_READY: 409,
  UPDATE_RESTARTING: 503,
};

export function statusForError(err: PosError): number {
  return STATUS_BY_CODE[err.code] ?? 500;
}

interface CompiledRoute extends Route {
  pattern: RegExp;
  names: string[];
}

interface Candidate {
  r: CompiledRoute;
  m: RegExpExecArray;
}

const MAX_REMEMBERED_PATHS = 256;
const MAX_REMEMBERED_PATH = 200;

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { ...route, pattern: new RegExp(`^${source}$`), names };
}

async function readRaw(req: IncomingMessage, raw: NonNullable<Route['raw']>): Promise<Buffer> {
  if (!raw.contentType.test(req.headers['content-type'] ?? '')) {
    throw new PosError('UNSUPPORTED_MEDIA_TYPE', `send the body as ${raw.contentType.source}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > raw.maxBytes) throw new PosError('PAYLOAD_TOO_LARGE', `body over ${raw.maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new PosError('PAYLOAD_TOO_LARGE', `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new PosError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new PosError('BAD_REQUEST', 'the body is not valid JSON');
  }
  refuseControlCharacters(body);
  return body;
}

/** The client aborted its request (closed the connection before the body was complete). */
function clientWentAway(req: IncomingMessage, err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return (
    (req.destroyed && !req.complete) ||
    code === 'ECONNRESET' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    (err instanceof Error && err.message === 'aborted')
  );
}

/**
 * Text a person types ends up on paper and screens: a control character in any string of a body
 * (ESC p opens the drawer, GS V cuts) is refused before any route sees it.
 */
function refuseControlCharacters(body: unknown): void {
  const bad = findForbiddenText(body);
  if (!bad) return;
  const problem = `${bad.path}: control character ${codePointName(bad.char)} is not allowed`;
  throw new PosError('VALIDATION_FAILED', problem, { problems: [problem] });
}

export interface HttpServerOptions {
  host: string;
  port: number;
  log: Logger;
  /** The bearer token for /api/; a function so it can be read late. */
  token: () => string;
  /**
   * Resolves once every commit so far is on disk (the ledger's group commit): no answer speaks
   * of a sale, a payment or any other fact before it would survive a power cut.
   */
  durable?: () => Promise<void>;
}

/** The ui-bridge HTTP server: JSON in and out, coded errors, bearer auth under /api/. */
export class HttpServer {
  private readonly routes: CompiledRoute[] = [];
  private readonly candidatesByPath = new Map<string, Candidate[]>();
  private server: Server | undefined;
  private bound: AddressInfo | undefined;
  private readonly authenticators: Authenticator[] = [];
  private readonly guards: RequestGuard[] = [];
  private upgradeHandler: UpgradeHandler | undefined;
  private hooks: RequestHooks = {};

  constructor(private readonly options: HttpServerOptions) {}

  add(...routes: Route[]): void {
    for (const route of routes) this.routes.push(compile(route));
    this.candidatesByPath.clear();
  }

  /** Every route added so far, in order (for the OpenAPI document). */
  registeredRoutes(): readonly Route[] {
    return this.routes;
  }

  acceptAuth(authenticator: Authenticator): void {
    this.authenticators.push(authenticator);
  }

  useGuard(guard: RequestGuard): void {
    this.guards.push(guard);
  }

  useHooks(hooks: RequestHooks): void {
    this.hooks = hooks;
  }

  /** Takes WebSocket upgrades; without a handler they are refused. */
  onUpgrade(handler: UpgradeHandler): void {
    this.upgradeHandler = handler;
  }

  /** Where the server listens; read once at listen (every request's Host check asks for it). */
  get address(): AddressInfo | undefined {
    return this.server ? this.bound : undefined;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      void this.dispatch(req, res);
    });
    server.keepAliveTimeout = 5_000;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.upgradeHandler) this.upgradeHandler(req, socket, head);
      else socket.destroy();
    });
    await listen(server, this.options.port, this.options.host);
    const addr = server.address();
    this.bound = addr && typeof addr === 'object' ? addr : undefined;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeServer(server);
  }

  private authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (m !== null && tokensEqual(m[1]!, this.options.token())) return true;
    return this.authenticators.some((accepts) => accepts(req));
  }

  /** The same check the router makes, for the WebSocket upgrade. */
  isAuthorized(req: IncomingMessage): boolean {
    return this.authorized(req);
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    let reply: Reply;
    let cors: Record<string, string> | undefined;
    try {
      cors = this.hooks.corsHeaders?.(req);
      const preflight = req.method === 'OPTIONS' ? this.hooks.preflight?.(req) : undefined;
      reply = preflight ?? (await this.route(req));
    } catch (err) {
      if (!isPosError(err) && clientWentAway(req, err)) {
        // Not a daemon error: nobody is left to answer.
        this.options.log.debug(
          { method: req.method, url: req.url?.split('?')[0] },
          'client went away mid-request',
        );
        res.destroy();
        return;
      }
      reply = this.errorReply(err, req);
    }
    try {
      await this.options.durable?.();
    } catch (err) {
      reply = this.errorReply(err, req);
    }
    this.send(res, cors ? { ...reply, headers: { ...reply.headers, ...cors } } : reply);
    if (this.options.log.isLevelEnabled('debug'))
      this.options.log.debug(
        {
          method: req.method,
          url: req.url?.split('?')[0],
          status: reply.status,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'http',
      );
  }

  private async route(req: IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const candidates = this.candidatesFor(url.pathname);
    for (const guard of this.guards) guard(req);
    // Only a route that says so (the PIN sign-in) is open under /api/.
    const open = candidates.some((x) => x.r.method === req.method && !x.r.auth);
    if (url.pathname.startsWith('/api/') && !open && !this.authorized(req)) {
      throw new PosError('UNAUTHORIZED', 'missing or wrong bearer token');
    }
    if (candidates.length === 0) throw new PosError('NOT_FOUND', `no such resource: ${url.pathname}`);
    const match = candidates.find((x) => x.r.method === req.method);
    if (!match) throw new PosError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}`);
    const params: Record<string, string> = {};
    match.r.names.forEach((name, i) => {
      params[name] = decodeURIComponent(match.m[i + 1]!);
    });
    const raw = match.r.raw;
    const body =
      req.method === 'GET' || req.method === 'DELETE'
        ? undefined
        : raw
          ? await readRaw(req, raw)
          : await readBody(req);
    const ctx: RequestContext = {
      method: match.r.method,
      path: url.pathname,
      params,
      query: url.searchParams,
      headers: req.headers,
      body,
    };
    const around = this.hooks.around;
    return around ? around(req, ctx, () => match.r.handle(ctx)) : match.r.handle(ctx);
  }

  /** The routes whose path matches, in the order added; remembered per path (every route's pattern cost each sale ~10 µs). */
  private candidatesFor(pathname: string): Candidate[] {
    const known = this.candidatesByPath.get(pathname);
    if (known) return known;
    const found: Candidate[] = [];
    for (const r of this.routes) {
      const m = r.pattern.exec(pathname);
      if (m !== null) found.push({ r, m });
    }
    // Bounded: paths carry ids, and anyone on localhost may send any path.
    if (pathname.length <= MAX_REMEMBERED_PATH) {
      if (this.candidatesByPath.size >= MAX_REMEMBERED_PATHS) this.candidatesByPath.clear();
      this.candidatesByPath.set(pathname, found);
    }
    return found;
  }

  private errorReply(err: unknown, req: IncomingMessage): Reply {
    if (isPosError(err)) {
      const status = statusForError(err);
      if (status >= 500) this.options.log.error({ code: err.code, err: err.message }, 'request failed');
      return { status, body: { error: err.toJSON() } };
    }
    if (err instanceof URIError) {
      return { status: 400, body: { error: { code: 'BAD_REQUEST', message: 'malformed URL encoding' } } };
    }
    this.options.log.error({ err, method: req.method, url: req.url?.split('?')[0] }, 'request crashed');
    return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } };
  }

  private send(res: ServerResponse, reply: Reply): void {
    if (res.headersSent) return;
    const headers: Record<string, string> = { 'cache-control': 'no-store', ...reply.headers };
    if (reply.body === undefined) {
      res.writeHead(reply.status, headers).end();
      return;
    }
    if (Buffer.isBuffer(reply.body) || typeof reply.body === 'string') {
      res.writeHead(reply.status, headers).end(reply.body);
      return;
    }
    headers['content-type'] = 'application/json; charset=utf-8';
    res.writeHead(reply.status, headers).end(JSON.stringify(reply.body));
  }
}
