import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { App } from '../../../src/app.js';
import { EXISTING_ROUTE_DOCS } from '../../../src/ui-bridge/openapi-docs.js';
import { PIN, startApp } from './in-process-app.js';

interface Operation {
  requestBody?: { required: boolean; content: { 'application/json': { schema: unknown } } };
  responses: Record<string, unknown>;
}
type OpenApi = { openapi: string; paths: Record<string, Record<string, Operation>> };

let app: App;
let base: string;
let port: number;
let token: string;
let doc: OpenApi;

/** A request that passes each documented body schema; every body route must have one. */
const VALID: Record<string, unknown> = {
  'POST /api/v1/session': { pin: PIN },
  'PUT /api/v1/cart': { lines: [{ name: 'Tea', qty: 1, amount: 100 }], total: 100 },
  'POST /api/v1/sales': { lines: [{ name: 'Tea', qty: 1, unitPrice: 100 }] },
  'POST /api/v1/sales/{saleId}/payments': { method: 'cash', amount: 100 },
  'POST /api/v1/sales/{saleId}/void': { reason: 'test' },
  'PUT /api/v1/sales/{saleId}/lines': { lines: [{ name: 'Tea', qty: 2, unitPrice: 100 }] },
  'POST /api/v1/sales/{saleId}/refunds': { lines: [{ lineNo: 1, qty: 1 }] },
  'POST /api/v1/shifts': { openingCash: 0 },
  // A wrong PIN (401): the route must not restart anything here.
  'POST /api/v1/update/restart': { pin: '0000' },
  'POST /api/v1/shifts/current/close': { countedCash: 0 },
  'POST /api/v1/sales/{saleId}/coupon': { code: 'C1' },
  'POST /api/v1/members/lookup': { code: 'M1' },
  'POST /api/v1/members/lookup-by-phone': { phone: '13800138000' },
  'POST /api/v1/members/{memberId}/recharges': { amount: 100 },
  'POST /api/v1/sales/{saleId}/member': { memberId: 'M1' },
  'POST /api/v1/orders/{orderId}/reject': { reason: 'sold out' },
  'POST /api/v1/orders/{orderId}/cancel': { reason: 'not collected' },
  'POST /api/v1/devices/scanner/scans': { code: '6901234567892' },
  'POST /api/v1/coupons/issue': { ruleId: 'r1' },
  'POST /api/v1/apps/{appId}/sessions': { ttlSeconds: 600 },
  'POST /api/v1/print-jobs': { document: { lines: [{ text: 'A001' }] } },
  'POST /api/v1/display': { lines: ['A001'] },
};

beforeAll(async () => {
  const started = await startApp();
  app = started.app;
  base = started.base;
  port = started.port;
  token = readFileSync(join(started.stateDir, 'ui-token'), 'utf8').trim();
  const res = await fetch(`${base}/api/v1/openapi.json`, { headers: { authorization: `Bearer ${token}` } });
  doc = (await res.json()) as OpenApi;
});
afterAll(async () => {
  await app?.stop();
});

function operations(): Array<{ method: string; path: string; op: Operation; url: string }> {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      op,
      url: base + path.replace(/\{[A-Za-z]+\}/g, 'x'),
    })),
  );
}

async function call(
  method: string,
  url: string,
  init: { body?: string; headers?: Record<string, string> } = {},
): Promise<{
  status: number;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}> {
  const res = await fetch(url, { method, body: init.body, headers: init.headers });
  const text = await res.text();
  const json = text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : {};
  return { status: res.status, body: json };
}

const auth = () => ({ authorization: `Bearer ${token}` });
const json = { 'content-type': 'application/json' };

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 and lists every registered route with its shapes and the error format', () => {
    expect(doc.openapi).toBe('3.1.0');
    const routes = app.http.registeredRoutes();
    expect(routes.length).toBeGreaterThan(20);
    for (const route of routes) {
      const path = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
      const op = doc.paths[path]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${route.path}`).toBeDefined();
      expect((op as unknown as { summary: string }).summary).not.toBe('undocumented route');
      expect(Object.keys(op!.responses).some((s) => /^[12]/.test(s))).toBe(true);
      if (route.auth) expect(op!.responses['401']).toBeDefined();
    }
    expect(JSON.stringify(doc)).toContain('#/components/schemas/Error');
  });

  it('documents the very schemas the routes validate with, and the server enforces them', async () => {
    const bodyRoutes = operations().filter((o) => o.op.requestBody);
    expect(bodyRoutes.map((o) => `${o.method} ${o.path}`).sort()).toEqual(Object.keys(VALID).sort());
    for (const { method, path, op, url } of bodyRoutes) {
      const key = `${method} ${path}`;
      const documented = op.requestBody!.content['application/json'].schema;
      // The document's schema and the route's own TypeBox schema are one and the same.
      const route = app.http
        .registeredRoutes()
        .find((r) => `${r.method} ${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}` === key)!;
      const own = (route.doc ?? EXISTING_ROUTE_DOCS[`${route.method} ${route.path}`])!.body as TSchema;
      expect(JSON.parse(JSON.stringify(own)), key).toEqual(documented);
      expect(Value.Check(own, VALID[key]), key).toBe(true);
      expect(Value.Check(own, { unexpected: true }), key).toBe(false);

      const bad = await call(method, url, { body: '{"unexpected":true}', headers: { ...auth(), ...json } });
      expect([400, 422], `${key} with a body off the schema`).toContain(bad.status);
      expect(bad.body.error?.code, key).toMatch(/^(VALIDATION_FAILED|BAD_REQUEST)$/);

      const good = await call(method, url, {
        body: JSON.stringify(VALID[key]),
        headers: { ...auth(), ...json },
      });
      expect(good.status, key).toBeLessThan(500);
      expect(good.body.error?.code ?? 'none', `${key} with a body on the schema`).not.toMatch(
        /^(VALIDATION_FAILED|BAD_REQUEST)$/,
      );
    }
  });
});

describe('local API security', () => {
  it('answers 401 on every /api/ route without the token or a session cookie', async () => {
    for (const { method, path, url } of operations()) {
      if (!path.startsWith('/api/') || (method === 'POST' && path === '/api/v1/session')) continue;
      const none = await call(method, url);
      expect(none.status, `${method} ${path}`).toBe(401);
      expect(none.body.error?.code).toBe('UNAUTHORIZED');
      const forged = await call(method, url, {
        headers: { cookie: 'posd_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      });
      expect(forged.status, `${method} ${path} with a forged cookie`).toBe(401);
    }
  });

  it('answers a malformed body on each route with a 4xx and a code, never a 500', async () => {
    for (const { method, path, url } of operations()) {
      if (method === 'GET' || method === 'DELETE') continue; // bodies of GET and DELETE are not read
      const garbage = await call(method, url, { body: '{"lines":[', headers: { ...auth(), ...json } });
      expect(garbage.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(garbage.status, `${method} ${path}`).toBeLessThan(500);
      expect(garbage.body.error?.code, `${method} ${path}`).toMatch(/^[A-Z_]+$/);
      const form = await call(method, url, {
        body: 'a=1',
        headers: { ...auth(), 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(form.status, `${method} ${path} as a form`).toBeGreaterThanOrEqual(400);
      expect(form.status).toBeLessThan(500);
    }
    for (const q of ['afterSeq=-1', 'limit=abc', 'limit=100000']) {
      const r = await call('GET', `${base}/api/v1/ledger?${q}`, { headers: auth() });
      expect(r.status, q).toBe(400);
      expect(r.body.error?.code).toBe('BAD_REQUEST');
    }
  });

  it('refuses a state-changing request from another origin with 403, even with the token', async () => {
    for (const { method, path, url } of operations()) {
      if (method === 'GET') continue;
      const r = await call(method, url, {
        body: '{}',
        headers: { ...auth(), ...json, origin: 'http://evil.example' },
      });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.error?.code).toBe('FORBIDDEN');
    }
    const site = await call('POST', `${base}/api/v1/sales`, {
      body: '{}',
      headers: { ...auth(), ...json, 'sec-fetch-site': 'cross-site' },
    });
    expect(site.status).toBe(403);
    const same = await call('POST', `${base}/api/v1/sales`, {
      body: JSON.stringify(VALID['POST /api/v1/sales']),
      headers: { ...auth(), ...json, origin: `http://127.0.0.1:${port}` },
    });
    expect(same.status).toBe(201);
  });

  it('refuses the event stream to another origin and without credentials', async () => {
    const outcome = (headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/events`, { headers });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('error', () => {});
      });
    expect(await outcome({})).toBe(401);
    expect(await outcome({ ...auth(), origin: 'http://evil.example' })).toBe(403);
    expect(await outcome({ ...auth(), origin: `http://localhost:${port}` })).toBe(101);
  });

  it('refuses the drawer-kick sale line with 422 VALIDATION_FAILED, and records nothing', async () => {
    const before = app.ledger.figures().lastSeq;
    const r = await call('POST', `${base}/api/v1/sales`, {
      body: JSON.stringify({
        lines: [{ name: 'Tea\u001bp\u0000\u0019\u00fa', qty: 1, unitPrice: 300 }],
        tenders: [{ method: 'cash', amount: 300 }],
      }),
      headers: { ...auth(), ...json },
    });
    expect(r.status).toBe(422);
    expect(r.body.error).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'lines.0.name: control character U+001B is not allowed',
    });
    expect(app.ledger.figures().lastSeq).toBe(before);
  });

  it('refuses a control, separator or bidi character in any string of any body with 422', async () => {
    const poison = (value: unknown, bad: string): unknown => {
      if (typeof value === 'string') return `${value}${bad}`;
      if (Array.isArray(value)) return value.map((v) => poison(v, bad));
      if (value && typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, poison(v, bad)]));
      }
      return value;
    };
    let checked = 0;
    for (const [key, body] of Object.entries(VALID)) {
      const [method, path] = key.split(' ') as [string, string];
      for (const bad of ['\u001dVB\u0003', '\n', '\u0085', '\u2028', '\u202e']) {
        // A body without strings gets one in an extra key: refused before the schema is looked at.
        const poisoned = JSON.stringify(body).includes('"')
          ? poison(body, bad)
          : { ...(body as object), note: `x${bad}` };
        if (JSON.stringify(poisoned) === JSON.stringify(body)) continue;
        const url = base + path.replace(/\{[A-Za-z]+\}/g, 'x');
        const r = await call(method, url, {
          body: JSON.stringify(poisoned),
          headers: { ...auth(), ...json },
        });
        expect(r.status, `${key} with ${JSON.stringify(bad)}`).toBe(422);
        expect(r.body.error?.code).toBe('VALIDATION_FAILED');
        expect(r.body.error?.message).toMatch(/control character U\+[0-9A-F]{4} is not allowed/);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(50);
    // Characters a name legitimately has still pass: CJK, emoji, accents.
    const ok = await call('POST', `${base}/api/v1/sales`, {
      body: JSON.stringify({ lines: [{ name: '铁观音 Café 🍵', qty: 1, unitPrice: 100 }] }),
      headers: { ...auth(), ...json },
    });
    expect(ok.status).toBe(201);
  });

  it('answers 421 to a Host that is not this terminal (DNS rebinding), even with the token', async () => {
    const { request } = await import('node:http');
    const get = (path: string, host: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, path, headers: { ...auth(), ...headers, host } },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => {
              body += c.toString();
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    for (const host of ['evil.example', `evil.example:${port}`, '127.0.0.1:1', `127.0.0.2:${port}`]) {
      for (const path of ['/api/v1/status', '/', '/healthz']) {
        const r = await get(path, host);
        expect(r.status, `${path} with Host ${host}`).toBe(421);
        expect(JSON.parse(r.body).error.code).toBe('MISDIRECTED_REQUEST');
      }
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      expect((await get('/api/v1/status', host)).status, host).toBe(200);
      expect((await get('/', host)).status, host).toBe(200);
    }
    const ws = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/api/v1/events`, {
        headers: { ...auth(), host: 'evil.example' },
      });
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('open', () => {
        socket.close();
        resolve(101);
      });
      socket.on('error', () => {});
    });
    expect(ws).toBe(421);
    // HTTP/1.0 without a Host header names no host at all.
    const { connect } = await import('node:net');
    const raw = await new Promise<string>((resolve) => {
      let text = '';
      const socket = connect(port, '127.0.0.1', () => socket.write('GET /healthz HTTP/1.0\r\n\r\n'));
      socket.on('data', (c) => {
        text += c.toString();
      });
      socket.on('close', () => resolve(text));
    });
    expect(raw).toMatch(/^HTTP\/1\.[01] 421 /);
  });

  it('never serves a token in a URL: a token in the query string is not accepted', async () => {
    const r = await call('GET', `${base}/api/v1/status?token=${token}&access_token=${token}`);
    expect(r.status).toBe(401);
  });
});

describe('cashier sessions', () => {
  const signIn = (pin: string) =>
    call('POST', `${base}/api/v1/session`, { body: JSON.stringify({ pin }), headers: json });

  it('signs in with a PIN: an HttpOnly SameSite=Strict cookie that opens /api/ until sign-out', async () => {
    const res = await fetch(`${base}/api/v1/session`, {
      method: 'POST',
      body: JSON.stringify({ pin: PIN }),
      headers: json,
    });
    expect(res.status).toBe(201);
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^posd_session=[A-Za-z0-9_-]{43}; /);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    const cookie = setCookie.split(';')[0]!;
    const me = await call('GET', `${base}/api/v1/session`, { headers: { cookie } });
    expect(me.body).toEqual({ cashier: { id: 'c1', name: 'Test' } });
    const status = await call('GET', `${base}/api/v1/status`, { headers: { cookie } });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ cloud: 'none', ledger: { outboxDepth: expect.any(Number) } });
    const out = await fetch(`${base}/api/v1/session`, { method: 'DELETE', headers: { cookie } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await call('GET', `${base}/api/v1/status`, { headers: { cookie } })).status).toBe(401);
  });

  it('throttles wrong PINs: five tries, then locked even for the right PIN until the delay passes', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await signIn('0000');
      expect(r.status).toBe(401);
      expect(r.body.error?.code).toBe('PIN_WRONG');
    }
    const locked = await signIn(PIN);
    expect(locked.status).toBe(429);
    expect(locked.body.error?.code).toBe('PIN_LOCKED');
    // The first lock is 1 s; the right PIN works once it has passed, and resets the count.
    const { waitFor } = await import('../../helpers/wait.js');
    await waitFor(
      async () => ((await signIn(PIN)).status === 201 ? true : undefined),
      'the lock to pass',
      5_000,
      100,
    );
    expect((await signIn('0000')).status).toBe(401);
  });

  it('refuses a malformed PIN without counting it as a try', async () => {
    const r = await signIn('12ab');
    expect(r.status).toBe(422);
    expect(r.body.error?.code).toBe('VALIDATION_FAILED');
  });
});
