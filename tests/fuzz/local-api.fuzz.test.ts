import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { freePort, tempDir } from '../helpers/daemon.js';
import { fuzzParams } from './helpers/fuzz-env.js';
import { countingLog } from './helpers/log-counter.js';
import { documentsFor, hostileValue, prototypesClean } from './helpers/schema-arb.js';

/*
 * The local API's request bodies, generated from the server's own OpenAPI document (the very
 * schemas the routes validate with): valid, mutated and hostile bodies, hostile path parameters,
 * query strings and raw bodies, against the real HTTP server of the in-process daemon, with its
 * bearer token. Never a 5xx; every refusal is {error:{code,message}}.
 *
 * The daemon's state carries over between runs (sales made by valid bodies stay), so a failing
 * seed replays the same requests but not always the same state: the failure prints the request.
 */

interface Operation {
  parameters?: Array<{ name: string; in: 'path' | 'query'; schema: { type: string } }>;
  requestBody?: { required: boolean; content: { 'application/json': { schema: unknown } } };
}
type OpenApi = { paths: Record<string, Record<string, Operation>> };

let app: App;
let base: string;
let token: string;
let doc: OpenApi;
const log = countingLog(20);
const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => unhandled.push(err);
/** Ids the API handed out (sales, payments, shifts…), for path parameters that exist. */
const ids: string[] = [];

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  const dir = tempDir('posd-fuzz-api-');
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(
    join(stateDir, 'cashiers.json'),
    JSON.stringify({ cashiers: [{ id: 'c1', name: 'Fuzz', pin: '2468' }] }),
  );
  const port = await freePort();
  const { config } = loadConfig({
    base: { device: { tenant: 't1', id: 'D1' }, stateDir, ui: { port } },
    env: {},
  });
  app = new App({ config, log: log.log, mode: 'run' });
  await app.start();
  base = `http://127.0.0.1:${port}`;
  token = readFileSync(join(stateDir, 'ui-token'), 'utf8').trim();
  const res = await fetch(`${base}/api/v1/openapi.json`, { headers: { authorization: `Bearer ${token}` } });
  doc = (await res.json()) as OpenApi;
  // A shift open and a few sales (open, paid, part-paid), so the fuzzed ids reach real records.
  const post = async (url: string, body: unknown) => {
    const res = await fetch(base + url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json().catch(() => undefined)) as unknown;
    remember(json);
    return json as Record<string, string> | undefined;
  };
  await post('/api/v1/shifts', { openingCash: 0 });
  for (const paid of [0, 100, 300]) {
    const sale = await post('/api/v1/sales', { lines: [{ name: 'Tea', qty: 3, unitPrice: 100 }] });
    if (paid && sale?.saleId)
      await post(`/api/v1/sales/${sale.saleId}/payments`, { method: 'cash', amount: paid });
  }
  expect(ids.length).toBeGreaterThanOrEqual(4);
});

/** `FUZZ_VERBOSE=1`: a count of replies per route, status and code at the end (what the run reached). */
const reached = new Map<string, number>();
afterAll(() => {
  if (!process.env.FUZZ_VERBOSE) return;
  const lines = [...reached]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${String(n).padStart(5)} ${k}`);
  console.log(lines.join('\n'));
});

afterAll(async () => {
  await app?.stop();
  process.off('unhandledRejection', onUnhandled);
});

interface Request {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** The documented path, for the FUZZ_VERBOSE tally. */
  route?: string;
  [fc.toStringMethod]?: () => string;
}

async function send(r: Request): Promise<{ status: number; text: string; json: unknown }> {
  const res = await fetch(base + r.url, {
    method: r.method,
    headers: r.headers,
    ...(r.body !== undefined ? { body: r.body } : {}),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  let json: unknown;
  if (res.headers.get('content-type')?.includes('json')) json = JSON.parse(text);
  return { status: res.status, text, json };
}

/** The invariants of every reply. */
function checkReply(r: Request, reply: { status: number; json: unknown }, logLines: number): void {
  const what = `${r.method} ${r.url} → ${reply.status}`;
  expect(reply.status, what).toBeLessThan(500);
  if (reply.status >= 400) {
    const err = (reply.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    expect(typeof err?.code, what).toBe('string');
    expect(err?.code, what).toMatch(/^[A-Z_]+$/);
    expect(typeof err?.message, what).toBe('string');
  }
  // The request line at debug, and a warning or two at most: hostile input cannot flood the log.
  expect(logLines, what).toBeLessThanOrEqual(4);
  expect(prototypesClean()).toBe(true);
  expect(unhandled).toEqual([]);
}

function remember(json: unknown): void {
  if (json === null || typeof json !== 'object') return;
  for (const k of ['saleId', 'paymentId', 'shiftId', 'orderId', 'memberId', 'jobId']) {
    const v = (json as Record<string, unknown>)[k];
    if (typeof v === 'string' && !ids.includes(v)) ids.push(v);
  }
  if (ids.length > 50) ids.splice(0, ids.length - 50);
}

const pathParam = fc.oneof(
  { weight: 3, arbitrary: fc.nat().map((n) => ({ pick: n })) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.string({ maxLength: 40 }),
        fc.constantFrom(
          '__proto__',
          'constructor',
          '..',
          '%',
          '%zz',
          '%00',
          'a%2Fb',
          'x'.repeat(5_000),
          'current',
        ),
      )
      .map((s) => ({ raw: s })),
  },
);

function fill(path: string, params: Array<{ pick: number } | { raw: string }>): string {
  let i = 0;
  return path.replace(/\{[A-Za-z]+\}/g, () => {
    const p = params[i++] ?? { raw: 'x' };
    if ('pick' in p) return encodeURIComponent(ids.length ? ids[p.pick % ids.length]! : 'none');
    // Raw strings go in as typed where they are URL-safe, else encoded (a `%zz` stays malformed).
    return /^[%A-Za-z0-9._~-]*$/.test(p.raw) ? p.raw : encodeURIComponent(p.raw);
  });
}

function requests(): fc.Arbitrary<Request> {
  const ops = Object.entries(doc.paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  );
  const perOp = ops.map(({ path, method, op }) => {
    const schema = op.requestBody?.content['application/json'].schema;
    const body = schema
      ? documentsFor(schema).map((d) => d.doc)
      : fc.oneof(fc.constant(undefined), hostileValue);
    const query = (op.parameters ?? []).filter((p) => p.in === 'query');
    const queryArb = fc.array(
      fc.tuple(
        fc.constantFrom(...query.map((q) => q.name), 'x'),
        fc.oneof(
          fc.nat({ max: 1_000 }).map(String),
          fc.string({ maxLength: 12 }),
          fc.constantFrom('-1', '1e9', ''),
        ),
      ),
      { maxLength: query.length ? 3 : 0 },
    );
    return fc
      .record({
        params: fc.array(pathParam, { minLength: 3, maxLength: 3 }),
        body,
        query: queryArb,
        auth: fc.oneof(
          { weight: 9, arbitrary: fc.constant('good') },
          { weight: 1, arbitrary: fc.constantFrom('none', 'bad') },
        ),
        encoding: fc.oneof(
          { weight: 8, arbitrary: fc.constant('json' as const) },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              'text/plain',
              'application/json; charset=latin1',
              'multipart/form-data',
            ),
          },
          { weight: 1, arbitrary: fc.constant('broken' as const) },
        ),
      })
      .map(({ params, body, query, auth, encoding }) => {
        const qs = query.length ? `?${new URLSearchParams(query).toString()}` : '';
        const url = fill(path, params) + qs;
        const headers: Record<string, string> = {};
        if (auth === 'good') headers.authorization = `Bearer ${token}`;
        if (auth === 'bad') headers.authorization = 'Bearer nope';
        let text: string | undefined;
        if (method !== 'GET' && method !== 'DELETE' && body !== undefined) {
          text = JSON.stringify(body);
          if (encoding === 'broken') text = text?.slice(0, Math.max(1, text.length - 1));
          headers['content-type'] =
            encoding === 'json' || encoding === 'broken' ? 'application/json' : encoding;
        }
        const r: Request = {
          method,
          url,
          route: path,
          headers,
          ...(text !== undefined ? { body: text } : {}),
        };
        r[fc.toStringMethod] = () => `${method} ${url} ${text === undefined ? '' : text.slice(0, 300)}`;
        return r;
      });
  });
  return fc.oneof(...perOp);
}

/** A big body that prints as its label in a counterexample. */
function labelled(label: string, text: string): Buffer {
  return Object.assign(Buffer.from(text), { [fc.toStringMethod]: () => label });
}

describe('local API bodies from its own OpenAPI schemas, against the running server', () => {
  it('valid, mutated and hostile requests on every route: never a 5xx, every refusal coded', async () => {
    await fc.assert(
      fc.asyncProperty(requests(), async (r) => {
        const before = log.count();
        const reply = await send(r);
        const route = `${r.method} ${r.route ?? r.url}`;
        const key = `${route} ${reply.status} ${(reply.json as { error?: { code?: string } })?.error?.code ?? ''}`;
        reached.set(key, (reached.get(key) ?? 0) + 1);
        checkReply(r, reply, log.count() - before);
        if (reply.status < 300) remember(reply.json);
      }),
      fuzzParams(120),
    );
  });

  it('raw hostile bodies: bytes, truncated JSON, deep nesting, over the size cap', async () => {
    const posts = Object.entries(doc.paths)
      .filter(([, m]) => m.post?.requestBody)
      .map(([p]) => p);
    const raw = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      fc.constantFrom('{', '[', 'null', '"x"', '1', '{"__proto__":{"polluted":true}}', '\ufeff{}'),
      fc
        .constantFrom('[', '{"a":')
        .map((o) => labelled(`${o}×20000`, `${o.repeat(20_000)}1${(o === '[' ? ']' : '}').repeat(20_000)}`)),
      fc.constant(labelled('300 KiB of spaces', ' '.repeat(300 * 1024))),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...posts),
        fc.array(pathParam, { minLength: 3, maxLength: 3 }),
        raw,
        async (path, params, body) => {
          const r: Request = {
            method: 'POST',
            url: fill(path, params),
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body,
          };
          r[fc.toStringMethod] = () => `POST ${r.url} (${body.length} bytes)`;
          const before = log.count();
          const reply = await send(r);
          checkReply(r, reply, log.count() - before);
        },
      ),
      fuzzParams(30),
    );
  });

  // Found by this fuzzer once the control-character check of request bodies landed: it walked the
  // parsed body recursively, so 20 000 nested arrays (40 KB) overflowed the stack and answered 500.
  it('regression: a body nested 20 000 levels deep is refused with a 4xx, not a 500', async () => {
    for (const open of ['[', '{"a":']) {
      const r: Request = {
        method: 'POST',
        url: '/api/v1/session',
        headers: { 'content-type': 'application/json' },
        body: `${open.repeat(20_000)}1${(open === '[' ? ']' : '}').repeat(20_000)}`,
      };
      const before = log.count();
      checkReply(r, await send(r), log.count() - before);
    }
  });

  it('after all that, the daemon still sells: a valid cash sale completes', async () => {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const sale = await send({
      method: 'POST',
      url: '/api/v1/sales',
      headers,
      body: JSON.stringify({ lines: [{ name: 'Tea', qty: 1, unitPrice: 100 }] }),
    });
    expect(sale.status).toBe(201);
    const saleId = (sale.json as { saleId: string }).saleId;
    const paid = await send({
      method: 'POST',
      url: `/api/v1/sales/${saleId}/payments`,
      headers,
      body: JSON.stringify({ method: 'cash', amount: 100 }),
    });
    expect(paid.status, paid.text).toBeLessThan(300);
  });
});
