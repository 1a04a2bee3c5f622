import type { IncomingMessage } from 'node:http';
import type { EventBus } from '../bus.js';
import type { Lifecycle } from '../lifecycle/lifecycle.js';
import { type Logger, moduleLogger } from '../log.js';
import type { Ledger } from '../offline/ledger.js';
import { fileCashiers, type PinVerifier } from './cashiers.js';
import { type CatalogPort, DEMO_CATALOG } from './catalog.js';
import { EventStream, type StreamAudience } from './event-stream.js';
import type { HttpServer } from './http-server.js';
import { buildOpenApi } from './openapi.js';
import { EXISTING_ROUTE_DOCS } from './openapi-docs.js';
import { checkHost, checkOrigin, defaultOrigins } from './origin-guard.js';
import { type PaymentLookup, paymentQrRoutes, pendingCodeUrl } from './payment-qr.js';
import { fileThrottleStore, PinThrottle } from './pin-throttle.js';
import { SessionStore } from './sessions.js';
import { findUiRoot, staticUiRoutes } from './static-ui.js';
import { uiRoutes } from './ui-routes.js';

/**
 * Events for the screens wait for the flush that puts what they tell of on disk; one that no reply
 * starts (a receipt marked printed) comes at the latest this long after, not in an fsync of its own.
 */
const EVENTS_FLUSH_WITHIN_MS = 50;

export interface UiBridgeDeps {
  http: HttpServer;
  bus: EventBus;
  lifecycle: Lifecycle;
  log: Logger;
  stateDir: string;
  listenHost: string;
  mode: 'run' | 'demo';
  /** Read late: the ledger exists once the `ledger` component has started. */
  ledger: () => Ledger;
  /** undefined when no cloud link is configured. */
  cloudOnline: () => boolean | undefined;
  /** Calls `listener` when the cloud link goes up or down (read once the components started). */
  onCloudChange?: (listener: () => void) => void;
  /** The business config's merchant name, for the customer screen's idle. */
  merchantName?: () => string | undefined;
  /** Read late, like the ledger; serves the QR of a pending QR payment as SVG. */
  payments?: () => PaymentLookup;
  /** Defaults: `{stateDir}/cashiers.json` (demo: PIN 1234), the demo catalog. */
  cashiers?: PinVerifier;
  catalog?: CatalogPort;
  /** Extra allowed origins (`http://host:port`, lower case); loopback on the bound port always is. */
  allowedOrigins?: readonly string[];
  /** Store apps (platform-v1): their origins may call the API, with an app token only. */
  apps?: {
    origins: () => readonly string[];
    audience: (req: IncomingMessage) => StreamAudience | undefined;
  };
}

export interface UiBridge {
  events: EventStream;
  sessions: () => SessionStore;
}

/**
 * Everything the served UI needs on top of the sales API: PIN sessions (cookie auth next to the
 * token), the origin allow-list, the event stream, status, catalog, OpenAPI and the static pages.
 * Call after the `ui-bridge` lifecycle component is added so the stream closes before the server.
 */
export function installUiBridge(d: UiBridgeDeps): UiBridge {
  const log = moduleLogger(d.log, 'ui');
  const origins = (): string[] => {
    const port = d.http.address?.port;
    return [
      ...(port === undefined ? [] : defaultOrigins(d.listenHost, port)),
      ...(d.allowedOrigins ?? []),
      ...(d.apps?.origins() ?? []),
    ];
  };
  let sessions: SessionStore | undefined;
  const sessionStore = (): SessionStore => {
    // The state dir exists (and is locked) once the `state` component has started.
    sessions ??= new SessionStore(d.stateDir);
    return sessions;
  };
  const hostOk = (req: IncomingMessage) =>
    checkHost(req, d.listenHost, d.http.address?.port, d.allowedOrigins ?? []);
  d.http.useGuard(hostOk);
  d.http.useGuard((req) => checkOrigin(req, origins));
  d.http.acceptAuth((req) => sessionStore().cashierOf(req.headers) !== undefined);

  const events = new EventStream({
    bus: d.bus,
    log,
    authorized: (req) => d.http.isAuthorized(req),
    checkOrigin: (req) => checkOrigin(req, origins, true),
    durable: () => d.ledger()?.durableSoon(EVENTS_FLUSH_WITHIN_MS) ?? Promise.resolve(),
    ...(d.apps ? { audience: d.apps.audience } : {}),
  });
  d.http.onUpgrade((req, socket, head) => {
    try {
      hostOk(req);
    } catch {
      socket.end('HTTP/1.1 421 Misdirected Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    events.handleUpgrade(req, socket, head);
  });
  d.lifecycle.add({ name: 'event-stream', start: () => {}, stop: () => events.close() });

  const cloudState = (): 'online' | 'offline' | 'none' => {
    const online = d.cloudOnline();
    return online === undefined ? 'none' : online ? 'online' : 'offline';
  };
  const status = (): Record<string, unknown> => {
    const merchantName = d.merchantName?.();
    return {
      bootId: events.bootId,
      epoch: d.ledger().epoch,
      mode: d.mode,
      cloud: cloudState(),
      ledger: d.ledger().figures(),
      ...(merchantName ? { merchantName } : {}),
    };
  };
  const routes = uiRoutes({
    get sessions() {
      return sessionStore();
    },
    cashiers: d.cashiers ?? fileCashiers(d.stateDir, d.mode === 'demo', log),
    // The state dir exists once the `state` component has started: the store is read on first use.
    throttle: new PinThrottle(Date.now, fileThrottleStore(d.stateDir)),
    catalog: d.catalog ?? DEMO_CATALOG,
    bus: d.bus,
    log,
    status,
  });
  feedStatus(d, status);
  const payments = d.payments;
  if (payments) d.http.add(...paymentQrRoutes((id) => pendingCodeUrl(payments(), id)));
  d.http.add(...routes, ...staticUiRoutes(findUiRoot()), {
    method: 'GET',
    path: '/api/v1/openapi.json',
    auth: true,
    doc: { summary: 'This document', tag: 'system', responses: { 200: { description: 'OpenAPI 3.1' } } },
    handle: () => ({ status: 200, body: buildOpenApi(d.http.registeredRoutes(), EXISTING_ROUTE_DOCS) }),
  });
  return { events, sessions: sessionStore };
}

/** How long changes are gathered into one `status.updated` (a sale appends several records). */
const STATUS_COALESCE_MS = 100;

/**
 * `status.updated` (the body of `GET /api/v1/status`) whenever what the badge shows changes: a
 * record appended, an ack that synced records, the cloud link going up or down. The UI's badge
 * follows these events instead of polling.
 */
function feedStatus(d: UiBridgeDeps, status: () => Record<string, unknown>): void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const changed = (): void => {
    if (timer || stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (!stopped) d.bus.emit('status.updated', status());
    }, STATUS_COALESCE_MS);
  };
  const offs: Array<() => void> = [];
  d.lifecycle.add({
    name: 'status-feed',
    start: () => {
      stopped = false;
      offs.push(d.ledger().onAppend(changed), d.ledger().onSynced(changed));
      d.onCloudChange?.(changed);
    },
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      for (const off of offs.splice(0)) off();
    },
  });
}

declare module '../bus.js' {
  interface PosEvents {
    /** What `GET /api/v1/status` answers, after a change of the ledger's sync or the cloud link. */
    'status.updated': Record<string, unknown>;
  }
}
