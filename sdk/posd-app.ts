/**
 * posd store app SDK (contract platform-v1): an ES module the daemon serves at /sdk/posd-app.js on
 * every app origin. `connect()` waits for the cashier UI to hand over a session by postMessage
 * (never in a URL), then calls the local API with the app's token.
 */

export type Scope =
  | 'print'
  | 'display'
  | 'scan'
  | 'sales:read'
  | 'sales:write'
  | 'members:read'
  | 'orders:read';

export interface PrintLine {
  text: string;
  align?: 'left' | 'center' | 'right';
  bold?: boolean;
  size?: 'normal' | 'wide' | 'tall' | 'double';
}

/** What an app prints: lines of text, a QR, a cut (default true). Never bytes, never the drawer. */
export interface PrintDocument {
  lines: PrintLine[];
  qr?: string;
  cut?: boolean;
}

export interface PosEvent<T = Record<string, unknown>> {
  seq: number;
  type: string;
  at: string;
  data: T;
}

export interface ScanEvent {
  code: string;
  kind: 'payment' | 'coupon' | 'member' | 'product' | 'order' | 'unknown';
  channel?: 'wechat' | 'alipay' | 'unionpay';
}

export interface PaymentUpdate {
  paymentId: string;
  saleId: string;
  method: string;
  channel: string;
  amount: number;
  status: string;
}

export interface SaleLine {
  sku?: string;
  name: string;
  qty: number;
  /** fen */
  unitPrice: number;
}

/** An error answer of the API: `code` is stable (SCOPE_DENIED, PAYMENT_UNRESOLVED…). */
export class PosdError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PosdError';
  }
}

interface SessionMessage {
  type: 'posd.session';
  token: string;
  expiresAt: string;
  scopes: Scope[];
}

function isSession(d: unknown): d is SessionMessage {
  const m = d as Partial<SessionMessage> | null;
  return !!m && m.type === 'posd.session' && typeof m.token === 'string' && Array.isArray(m.scopes);
}

export class PosdApp {
  private ws: WebSocket | undefined;
  private readonly listeners = new Map<string, Set<(e: PosEvent) => void>>();
  private closed = false;
  /** Called once the session has ended (the app was removed, or the session expired). */
  onEnded: (() => void) | undefined;

  constructor(
    /** The local API's origin (the cashier UI that framed this app). */
    readonly api: string,
    private readonly token: string,
    readonly scopes: readonly Scope[],
    readonly expiresAt: string,
  ) {}

  has(scope: Scope): boolean {
    return this.scopes.includes(scope);
  }

  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    idempotencyKey?: string,
  ): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    const res = await fetch(this.api + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!res.ok) {
      if (res.status === 401) this.end();
      const err = (json.error ?? {}) as { code?: string; message?: string };
      throw new PosdError(res.status, err.code ?? `HTTP_${res.status}`, err.message ?? res.statusText);
    }
    return json as T;
  }

  /** `print`: through the terminal's print queue. */
  print(document: PrintDocument): Promise<{ jobId: string }> {
    return this.call('POST', '/api/v1/print-jobs', { document });
  }

  /** `display`: two lines on the customer display. */
  display(line1: string, line2?: string): Promise<unknown> {
    return this.call('POST', '/api/v1/display', { lines: line2 === undefined ? [line1] : [line1, line2] });
  }

  /** `sales:write`: an open sale (pay it with `pay`). */
  createSale(
    lines: SaleLine[],
    idempotencyKey?: string,
  ): Promise<{ saleId: string; status: string; total: number }> {
    return this.call('POST', '/api/v1/sales', { lines }, idempotencyKey);
  }

  /** `sales:write`: a payment; code and QR answer `pending` at once, the outcome comes as `payment.updated`. */
  pay(
    saleId: string,
    payment: { method: 'code'; authCode: string } | { method: 'cash'; amount: number },
    idempotencyKey?: string,
  ): Promise<{ paymentId?: string; status: string }> {
    return this.call('POST', `/api/v1/sales/${encodeURIComponent(saleId)}/payments`, payment, idempotencyKey);
  }

  /** `sales:read`: a sale this app made. */
  sale(saleId: string): Promise<Record<string, unknown>> {
    return this.call('GET', `/api/v1/sales/${encodeURIComponent(saleId)}`);
  }

  /** `sales:read` or `sales:write`: a payment of a sale this app made. */
  payment(paymentId: string): Promise<Record<string, unknown>> {
    return this.call('GET', `/api/v1/payments/${encodeURIComponent(paymentId)}`);
  }

  /** `members:read`. */
  lookupMember(code: string): Promise<Record<string, unknown>> {
    return this.call('POST', '/api/v1/members/lookup', { code });
  }

  /** `orders:read`. */
  orders(): Promise<Record<string, unknown>> {
    return this.call('GET', '/api/v1/orders');
  }

  /** Events the app's scopes grant (`scan`, its own `sale.updated`/`payment.updated`, `order.updated`). */
  on<T = Record<string, unknown>>(type: string, listener: (e: PosEvent<T>) => void): () => void {
    const set = this.listeners.get(type) ?? new Set();
    set.add(listener as (e: PosEvent) => void);
    this.listeners.set(type, set);
    this.openStream();
    return () => set.delete(listener as (e: PosEvent) => void);
  }

  /** Resolves with the payment once it is settled (succeeded, failed, reversed, closed). */
  settled(paymentId: string): Promise<PaymentUpdate> {
    return new Promise((resolve) => {
      const off = this.on<PaymentUpdate>('payment.updated', (e) => {
        if (e.data.paymentId !== paymentId || e.data.status === 'pending') return;
        off();
        resolve(e.data);
      });
    });
  }

  close(): void {
    this.closed = true;
    this.ws?.close();
  }

  private end(): void {
    if (this.closed) return;
    this.close();
    this.onEnded?.();
  }

  private openStream(): void {
    if (this.ws || this.closed) return;
    // The token travels in the subprotocol header, never in the URL.
    const ws = new WebSocket(`${this.api.replace(/^http/, 'ws')}/api/v1/events`, [
      'posd-app',
      `posd-token.${this.token}`,
    ]);
    this.ws = ws;
    ws.onmessage = (m) => {
      const e = JSON.parse(String(m.data)) as PosEvent;
      for (const l of this.listeners.get(e.type) ?? []) l(e);
    };
    ws.onclose = (c) => {
      this.ws = undefined;
      if (c.code === 4401) return this.end();
      if (!this.closed) setTimeout(() => this.openStream(), 1_000);
    };
  }
}

/**
 * Waits for the session the cashier UI hands over (postMessage from the parent frame), asking for
 * it until it comes.
 */
export function connect(options: { timeoutMs?: number } = {}): Promise<PosdApp> {
  return new Promise((resolve, reject) => {
    if (window.parent === window) {
      reject(new PosdError(0, 'NOT_FRAMED', 'open this app from the terminal’s apps screen'));
      return;
    }
    const ask = () => window.parent.postMessage({ type: 'posd.ready' }, '*');
    const timer = setInterval(ask, 1_000);
    const giveUp = setTimeout(() => {
      cleanup();
      reject(new PosdError(0, 'NO_SESSION', 'the terminal did not hand over a session'));
    }, options.timeoutMs ?? 15_000);
    const onMessage = (e: MessageEvent) => {
      // Only the frame that opened us speaks for the terminal.
      if (e.source !== window.parent || !isSession(e.data)) return;
      cleanup();
      resolve(new PosdApp(e.origin, e.data.token, e.data.scopes, e.data.expiresAt));
    };
    const cleanup = () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      window.removeEventListener('message', onMessage);
    };
    window.addEventListener('message', onMessage);
    ask();
  });
}
