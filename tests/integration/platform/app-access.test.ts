import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PrinterSim } from '../../../src/drivers/sim/printer-sim.js';
import { APP_SCOPES } from '../../../src/platform/scopes.js';
import { appPackage } from '../../helpers/app-packages.js';
import { silentLogger } from '../../helpers/test-log.js';
import { waitFor } from '../../helpers/wait.js';
import { asApp, asTechnician, type PlatformApp, rawRequest, startPlatformApp } from './platform-fixture.js';

/*
 * Contract platform-v1 "What an app may do": every scope enforced on its routes (403 SCOPE_DENIED)
 * and its events; no app token reaches apps, session, shifts, config, the ledger or another app's
 * sales; an app token works only from its own origin; removal ends its sessions at once; records
 * made through an app carry its appId; app print documents obey the printer-injection rule.
 */

let p: PlatformApp;
let sim: PrinterSim;
let tech: ReturnType<typeof asTechnician>;

const idOf = (name: string) => `com.test.${name.replace(/[^a-z0-9]/g, '-')}`;
const labelOf = (id: string) => id.replaceAll('.', '-');

async function installApp(name: string, scopes: readonly string[]): Promise<string> {
  const id = idOf(name);
  if (p.app.platform.registry?.get(id)) return id;
  const r = await tech('POST', '/api/v1/apps', appPackage({ id, scopes: [...scopes] }), 'application/gzip');
  expect(r.status, r.text).toBe(201);
  return id;
}

interface Session {
  appId: string;
  token: string;
  origin: string;
  call: ReturnType<typeof asApp>;
}

async function session(appId: string): Promise<Session> {
  await p.app.platform.ensureServer();
  const r = await tech('POST', `/api/v1/apps/${appId}/sessions`);
  expect(r.status).toBe(201);
  const token = r.json.token as string;
  const origin = `http://${labelOf(appId)}.apps.localhost:${p.appsPort}`;
  return { appId, token, origin, call: asApp(p, token, origin) };
}

/** An app's event stream (token in the subprotocol, as the SDK sends it), with every frame kept. */
async function stream(s: Session): Promise<{
  frames: Array<{ type: string; data: Record<string, unknown> }>;
  ws: WebSocket;
  closed: Promise<number>;
}> {
  const ws = new WebSocket(`ws://127.0.0.1:${p.port}/api/v1/events`, ['posd-app', `posd-token.${s.token}`], {
    headers: { origin: s.origin },
  });
  const frames: Array<{ type: string; data: Record<string, unknown> }> = [];
  ws.on('message', (m) => frames.push(JSON.parse(String(m))));
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  await waitFor(() => (frames.some((f) => f.type === 'hello') ? true : undefined), 'hello');
  return { frames, ws, closed };
}

beforeAll(async () => {
  sim = new PrinterSim({ paperWidth: 80, log: silentLogger() });
  const simPort = await sim.listen();
  p = await startPlatformApp({
    printer: { uri: `tcp://127.0.0.1:${simPort}`, paperWidth: 80, autoPrint: false },
    scanner: { uri: 'sim:' },
  });
  tech = asTechnician(p);
  p.app.shifts.open(0);
}, 30_000);

afterAll(async () => {
  await p?.stop();
  await sim?.close();
});

const ROUTE_OF_SCOPE: Record<string, { method: string; path: (own: string) => string; body?: unknown }> = {
  print: { method: 'POST', path: () => '/api/v1/print-jobs', body: { document: { lines: [{ text: 'x' }] } } },
  display: { method: 'POST', path: () => '/api/v1/display', body: { lines: ['hi'] } },
  'sales:read': { method: 'GET', path: (own) => `/api/v1/sales/${own}` },
  'sales:write': {
    method: 'POST',
    path: () => '/api/v1/sales',
    body: { lines: [{ name: 'Bill', qty: 1, unitPrice: 100 }] },
  },
  'members:read': { method: 'POST', path: () => '/api/v1/members/lookup', body: { code: 'M1' } },
  'orders:read': { method: 'GET', path: () => '/api/v1/orders' },
};

describe('scopes', () => {
  it('a token without a scope gets 403 SCOPE_DENIED on its routes; with it, the route answers', async () => {
    const full = await session(await installApp('full', APP_SCOPES));
    const own = await full.call('POST', '/api/v1/sales', {
      lines: [{ name: 'Bill', qty: 1, unitPrice: 100 }],
    });
    expect(own.status).toBe(201);
    const ownSale = own.json.saleId as string;
    for (const scope of Object.keys(ROUTE_OF_SCOPE)) {
      const route = ROUTE_OF_SCOPE[scope]!;
      const without = await session(
        await installApp(
          `no-${scope}`,
          APP_SCOPES.filter((s) => s !== scope),
        ),
      );
      // The app without the scope names its own sale where the route takes one.
      const mine = await without.call('POST', '/api/v1/sales', {
        lines: [{ name: 'B', qty: 1, unitPrice: 1 }],
      });
      const saleId = scope === 'sales:write' ? ownSale : (mine.json.saleId as string);
      const denied = await without.call(route.method, route.path(saleId), route.body);
      expect(denied.status, scope).toBe(403);
      expect((denied.json.error as { code: string }).code, scope).toBe('SCOPE_DENIED');
      const allowed = await full.call(route.method, route.path(ownSale), route.body);
      expect(allowed.json.error?.toString() ?? '', scope).not.toContain('SCOPE_DENIED');
      expect(allowed.status, `${scope}: ${allowed.text}`).not.toBe(403);
    }
  });

  it('no app token reaches apps, session, shifts, config, the ledger, the sale list or other routes', async () => {
    const full = await session(await installApp('full', APP_SCOPES));
    const closed: Array<[string, string]> = [
      ['GET', '/api/v1/apps'],
      ['POST', '/api/v1/apps'],
      ['DELETE', `/api/v1/apps/${idOf('full')}`],
      ['POST', `/api/v1/apps/${idOf('full')}/sessions`],
      ['GET', '/api/v1/launcher'],
      ['GET', '/api/v1/session'],
      ['POST', '/api/v1/session'],
      ['DELETE', '/api/v1/session'],
      ['GET', '/api/v1/shifts/current'],
      ['POST', '/api/v1/shifts'],
      ['POST', '/api/v1/shifts/current/close'],
      ['GET', '/api/v1/config'],
      ['GET', '/api/v1/ledger'],
      ['GET', '/api/v1/sales'],
      ['GET', '/api/v1/status'],
      ['GET', '/api/v1/devices'],
      ['GET', '/api/v1/print-jobs'],
      ['POST', '/api/v1/devices/scanner/scans'],
      ['GET', '/api/v1/openapi.json'],
      ['PUT', '/api/v1/cart'],
    ];
    for (const [method, path] of closed) {
      const r = await full.call(method, path, method === 'GET' || method === 'DELETE' ? undefined : {});
      expect(r.status, `${method} ${path}`).toBe(403);
      expect((r.json.error as { code: string }).code, `${method} ${path}`).toBe('SCOPE_DENIED');
    }
    expect(p.app.platform.registry?.get(idOf('full'))).toBeDefined();
  });

  it("an app sees only its own sales: another app's or the cashier's are not found", async () => {
    const a = await session(await installApp('full', APP_SCOPES));
    const b = await session(await installApp('other', APP_SCOPES));
    const sale = (await a.call('POST', '/api/v1/sales', { lines: [{ name: 'A', qty: 1, unitPrice: 500 }] }))
      .json.saleId as string;
    const cashier = (await tech('POST', '/api/v1/sales', { lines: [{ name: 'C', qty: 1, unitPrice: 500 }] }))
      .json.saleId as string;
    for (const id of [sale, cashier]) {
      expect((await b.call('GET', `/api/v1/sales/${id}`)).status).toBe(404);
      expect(
        (await b.call('POST', `/api/v1/sales/${id}/payments`, { method: 'cash', amount: 500 })).status,
      ).toBe(404);
      expect((await b.call('POST', `/api/v1/sales/${id}/void`, {})).status).toBe(404);
    }
    expect((await a.call('GET', `/api/v1/sales/${sale}`)).status).toBe(200);
    expect((await a.call('GET', `/api/v1/sales/${cashier}`)).status).toBe(404);
  });

  it("an app's Idempotency-Key is its own (another app's same key is another sale); 128 characters fit", async () => {
    const a = await session(await installApp('full', APP_SCOPES));
    const b = await session(await installApp('other', APP_SCOPES));
    const body = { lines: [{ name: 'K', qty: 1, unitPrice: 300 }] };
    for (const key of ['shared-key', 'k'.repeat(128)]) {
      const first = await a.call('POST', '/api/v1/sales', body, { 'idempotency-key': key });
      const again = await a.call('POST', '/api/v1/sales', body, { 'idempotency-key': key });
      const other = await b.call('POST', '/api/v1/sales', body, { 'idempotency-key': key });
      expect(first.status, first.text).toBe(201);
      expect(again.json.saleId).toBe(first.json.saleId);
      expect(other.status, other.text).toBe(201);
      expect(other.json.saleId).not.toBe(first.json.saleId);
    }
    const long = await a.call('POST', '/api/v1/sales', body, { 'idempotency-key': 'k'.repeat(129) });
    expect(long.status).toBe(400);
  });

  it('events: each scope gates its types; sale and payment updates go only to the app that made the sale', async () => {
    const full = await session(await installApp('full', APP_SCOPES));
    const noScan = await session(
      await installApp(
        'no-scan',
        APP_SCOPES.filter((s) => s !== 'scan'),
      ),
    );
    const noOrders = await session(
      await installApp(
        'no-orders:read',
        APP_SCOPES.filter((s) => s !== 'orders:read'),
      ),
    );
    const other = await session(await installApp('other', APP_SCOPES));
    const [fs, ns, no, os] = await Promise.all([
      stream(full),
      stream(noScan),
      stream(noOrders),
      stream(other),
    ]);
    expect((await tech('POST', '/api/v1/devices/scanner/scans', { code: '6901234567892' })).status).toBe(202);
    p.app.bus.emit('order.updated', { orderId: 'O-1', status: 'received' } as never);
    const sale = (
      await full.call('POST', '/api/v1/sales', { lines: [{ name: 'A', qty: 1, unitPrice: 300 }] })
    ).json.saleId as string;
    await waitFor(
      () => (fs.frames.some((f) => f.type === 'sale.updated' && f.data.saleId === sale) ? true : undefined),
      'full sees its sale',
    );
    expect(fs.frames.some((f) => f.type === 'scan')).toBe(true);
    expect(fs.frames.some((f) => f.type === 'order.updated')).toBe(true);
    // Markers each stream is granted, sent after the withheld events: frames to one client keep their order.
    const nsSale = (
      await noScan.call('POST', '/api/v1/sales', { lines: [{ name: 'N', qty: 1, unitPrice: 1 }] })
    ).json.saleId;
    await waitFor(
      () => (ns.frames.some((f) => f.data?.saleId === nsSale) ? true : undefined),
      'no-scan marker',
    );
    expect(ns.frames.map((f) => f.type)).not.toContain('scan');
    expect(ns.frames.some((f) => f.data?.saleId === sale)).toBe(false);
    expect((await tech('POST', '/api/v1/devices/scanner/scans', { code: '6901234567892' })).status).toBe(202);
    await waitFor(
      () => (no.frames.filter((f) => f.type === 'scan').length === 2 ? true : undefined),
      'no-orders marker',
    );
    expect(no.frames.map((f) => f.type)).not.toContain('order.updated');
    await waitFor(
      () => (os.frames.filter((f) => f.type === 'scan').length === 2 ? true : undefined),
      'other marker',
    );
    expect(os.frames.some((f) => f.data?.saleId === sale)).toBe(false);
    // Never the cashier's business: device status, shift, cart, print jobs.
    for (const s of [fs, ns, no, os]) {
      expect(
        s.frames
          .map((f) => f.type)
          .filter((t) => !['hello', 'scan', 'sale.updated', 'payment.updated', 'order.updated'].includes(t)),
      ).toEqual([]);
      s.ws.close();
    }
  });
});

describe('origins', () => {
  it("an app token from another app's origin, or a foreign one, is refused; an app origin without its token is 401", async () => {
    const a = await session(await installApp('full', APP_SCOPES));
    const b = await session(await installApp('other', APP_SCOPES));
    const fromB = asApp(p, a.token, b.origin);
    expect((await fromB('POST', '/api/v1/display', { lines: ['x'] })).status).toBe(403);
    expect((await fromB('GET', '/api/v1/orders')).status).toBe(403);
    const fromEvil = asApp(p, a.token, 'http://evil.example');
    expect((await fromEvil('POST', '/api/v1/display', { lines: ['x'] })).status).toBe(403);
    // The technician's token from an app origin is not the app's: refused.
    const techFromApp = await rawRequest(p.port, 'GET', '/api/v1/orders', {
      host: `127.0.0.1:${p.port}`,
      origin: a.origin,
      authorization: `Bearer ${p.uiToken}`,
    });
    expect(techFromApp.status).toBe(401);
    // The stream from another app's origin with this token is refused too.
    const ws = new WebSocket(
      `ws://127.0.0.1:${p.port}/api/v1/events`,
      ['posd-app', `posd-token.${a.token}`],
      {
        headers: { origin: b.origin },
      },
    );
    const status = await new Promise<number>((r) =>
      ws.on('unexpected-response', (_req, res) => r(res.statusCode ?? 0)),
    );
    expect(status).toBe(403);
  });

  it('answers CORS for app origins only, per scope; never with credentials', async () => {
    const a = await session(await installApp('full', APP_SCOPES));
    const noPrint = await session(
      await installApp(
        'no-print',
        APP_SCOPES.filter((s) => s !== 'print'),
      ),
    );
    const preflight = (origin: string, path: string, method: string) =>
      rawRequest(p.port, 'OPTIONS', path, {
        host: `127.0.0.1:${p.port}`,
        origin,
        'access-control-request-method': method,
        'access-control-request-headers': 'authorization, content-type',
      });
    const ok = await preflight(a.origin, '/api/v1/print-jobs', 'POST');
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe(a.origin);
    expect(ok.headers['access-control-allow-credentials']).toBeUndefined();
    expect(String(ok.headers['access-control-allow-headers'])).toContain('authorization');
    const denied = await preflight(noPrint.origin, '/api/v1/print-jobs', 'POST');
    expect(denied.status).toBe(403);
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
    expect(
      (await preflight(a.origin, '/api/v1/ledger', 'GET')).headers['access-control-allow-origin'],
    ).toBeUndefined();
    expect(
      (await preflight('http://evil.example', '/api/v1/print-jobs', 'POST')).headers[
        'access-control-allow-origin'
      ],
    ).toBeUndefined();
    const real = await a.call('GET', '/api/v1/orders');
    expect(real.headers['access-control-allow-origin']).toBe(a.origin);
    const cashierUi = await tech('GET', '/api/v1/orders');
    expect(cashierUi.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('records and print', () => {
  it("records made through an app carry its appId; the cashier's do not", async () => {
    const a = await session(await installApp('full', APP_SCOPES));
    const made = await a.call('POST', '/api/v1/sales', {
      lines: [{ name: 'Water bill', qty: 1, unitPrice: 1_000 }],
      tenders: [{ method: 'cash', amount: 1_000 }],
    });
    expect(made.status).toBe(201);
    const open = (
      await a.call('POST', '/api/v1/sales', { lines: [{ name: 'Gas bill', qty: 1, unitPrice: 700 }] })
    ).json.saleId as string;
    expect(
      (await a.call('POST', `/api/v1/sales/${open}/payments`, { method: 'cash', amount: 700 })).status,
    ).toBe(201);
    const cashier = await tech('POST', '/api/v1/sales', {
      lines: [{ name: 'Tea', qty: 1, unitPrice: 100 }],
      tenders: [{ method: 'cash', amount: 100 }],
    });
    const records = (await tech('GET', '/api/v1/ledger?afterSeq=0&limit=1000')).json.records as Array<{
      type: string;
      body: Record<string, unknown>;
    }>;
    const about = (saleId: unknown) => records.filter((r) => r.body.saleId === saleId);
    for (const saleId of [made.json.saleId, open]) {
      const rs = about(saleId);
      expect(rs.map((r) => r.type)).toEqual(expect.arrayContaining(['sale.completed', 'payment.succeeded']));
      for (const r of rs) expect(r.body.appId, r.type).toBe(idOf('full'));
    }
    for (const r of about(cashier.json.saleId)) expect(r.body.appId).toBeUndefined();
  });

  it('an app print document prints through the queue as text; control bytes are refused, never printed; no drawer', async () => {
    const a = await session(await installApp('full', APP_SCOPES));
    const kick = '\u001bp\u0000\u0019\u00fa';
    const hostile = await a.call('POST', '/api/v1/print-jobs', {
      document: { lines: [{ text: `A001${kick}` }] },
    });
    expect(hostile.status).toBe(422);
    expect((hostile.json.error as { code: string }).code).toBe('VALIDATION_FAILED');
    const raw = await a.call('POST', '/api/v1/print-jobs', {
      document: { lines: [{ text: 'x' }], bytes: 'G3A=' },
    });
    expect(raw.status).toBe(422);
    const idle = () =>
      p.app.printing.service.recent(500).every((j) => j.status === 'printed' || j.status === 'cancelled')
        ? true
        : undefined;
    await waitFor(idle, 'earlier jobs printed', 20_000);
    const before = sim.receipts.length;
    const kicks = sim.executed.filter((c) => c.op === 'drawer').length;
    const ops = sim.executed.length;
    const ok = await a.call('POST', '/api/v1/print-jobs', {
      document: {
        lines: [{ text: '排队取号', align: 'center', bold: true, size: 'double' }, { text: 'A001' }],
        qr: 'Q:A001',
      },
    });
    expect(ok.status).toBe(202);
    expect(ok.json.jobId).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor(() => (sim.receipts.length > before ? true : undefined), 'printed', 20_000);
    await waitFor(idle, 'all printed', 20_000);
    const text = sim.receipts[before]!.lines.join('\n');
    expect(text).toContain('排队取号');
    expect(text).toContain('A001');
    // The cash sales above opened the drawer (their own jobs); the app's document never does.
    expect(sim.executed.filter((c) => c.op === 'drawer')).toHaveLength(kicks);
    expect(sim.executed.slice(ops).filter((c) => c.op === 'junk' || c.op === 'other')).toEqual([]);
    expect(sim.executed.slice(ops).filter((c) => c.op === 'cut')).toHaveLength(1);
  });
});

describe('removal', () => {
  it("revokes at once: an open app's next call gets 401 and its event stream closes", async () => {
    const id = await installApp('doomed', ['display', 'scan']);
    const s = await session(id);
    const st = await stream(s);
    expect((await s.call('POST', '/api/v1/display', { lines: ['hi'] })).status).toBe(200);
    expect((await tech('DELETE', `/api/v1/apps/${id}`)).status).toBe(204);
    expect((await s.call('POST', '/api/v1/display', { lines: ['hi'] })).status).toBe(401);
    expect(await st.closed).toBe(4401);
    // Reinstalled, the old token stays dead.
    await installApp('doomed', ['display', 'scan']);
    expect((await s.call('POST', '/api/v1/display', { lines: ['hi'] })).status).toBe(401);
  });
});
