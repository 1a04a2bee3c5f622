import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRootLogger } from '../../../src/log.js';
import { type HttpMethod, HttpServer, type Route } from '../../../src/ui-bridge/http-server.js';

const TOKEN = 'test-token-0123456789';
let http: HttpServer;
let port: number;

beforeEach(async () => {
  http = new HttpServer({ host: '127.0.0.1', port: 0, log: createRootLogger('silent'), token: () => TOKEN });
  await http.start();
  port = (http.address as AddressInfo).port;
});
afterEach(async () => {
  await http.stop();
});

/** Each route answers with its own name and the params it saw. */
function named(name: string, method: HttpMethod, path: string): Route {
  return {
    method,
    path,
    auth: true,
    handle: (ctx: { params: Record<string, string> }) => ({
      status: 200,
      body: { name, params: ctx.params },
    }),
  };
}

async function call(
  method: string,
  path: string,
): Promise<{ status: number; body: { name?: string; params?: object; error?: { code: string } } }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  return { status: res.status, body: (await res.json()) as never };
}

describe('routing', () => {
  it('a route added after its path was asked for is found (what is remembered per path is forgotten)', async () => {
    http.add(named('list', 'GET', '/api/v1/things'));
    expect((await call('GET', '/api/v1/things/7')).status).toBe(404);
    expect((await call('POST', '/api/v1/things')).body.error?.code).toBe('METHOD_NOT_ALLOWED');
    http.add(named('one', 'GET', '/api/v1/things/:id'), named('make', 'POST', '/api/v1/things'));
    expect(await call('GET', '/api/v1/things/7')).toEqual({
      status: 200,
      body: { name: 'one', params: { id: '7' } },
    });
    expect((await call('POST', '/api/v1/things')).body.name).toBe('make');
  });

  it('the first route added wins where several match, and params are each request’s own, asked again and again', async () => {
    http.add(
      named('summary', 'GET', '/api/v1/things/summary'),
      named('one', 'GET', '/api/v1/things/:id'),
      named('part', 'GET', '/api/v1/things/:id/parts/:part'),
    );
    const segment = fc.oneof(
      fc.stringMatching(/^[a-z0-9]{1,8}$/),
      fc.constantFrom('summary', '%E4%B8%AD', 'a%20b'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(segment, fc.option(segment, { nil: undefined })), { minLength: 1, maxLength: 12 }),
        async (asks) => {
          // Twice each: once while the path is new, once remembered.
          for (const [id, part] of [...asks, ...asks]) {
            const path = part === undefined ? `/api/v1/things/${id}` : `/api/v1/things/${id}/parts/${part}`;
            const got = await call('GET', path);
            if (part !== undefined)
              expect(got.body).toEqual({
                name: 'part',
                params: { id: decodeURIComponent(id), part: decodeURIComponent(part) },
              });
            else if (id === 'summary') expect(got.body).toEqual({ name: 'summary', params: {} });
            else expect(got.body).toEqual({ name: 'one', params: { id: decodeURIComponent(id) } });
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it('remembers only so many paths, and still answers every one after it forgets', async () => {
    http.add(named('one', 'GET', '/api/v1/things/:id'));
    for (let i = 0; i < 600; i++)
      expect((await call('GET', `/api/v1/things/${i}`)).body.params).toEqual({ id: String(i) });
    expect((await call('GET', `/api/v1/things/${'x'.repeat(300)}`)).body.name).toBe('one');
    expect((await call('GET', '/api/v1/things/0')).body.params).toEqual({ id: '0' });
  });
});
