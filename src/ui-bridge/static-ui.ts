import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PosError } from '../errors.js';
import type { Route } from './http-server.js';

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml',
  map: 'application/json; charset=utf-8',
};

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-src http://*.apps.localhost:*; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** The checkout: the directory that holds `ui/index.html`, found upwards from this module. */
export function findUiRoot(from: string = import.meta.dirname): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'ui', 'index.html'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * `GET /` (cashier), `GET /customer` (also `/customer.html`) and `GET /ui/{file}`: static HTML/CSS from `ui/`, compiled
 * modules from `dist/ui/`. No credentials: the pages sign in through the API.
 */
export function staticUiRoutes(root: string | undefined): Route[] {
  const serve = (dir: string, file: string) => {
    const ext = file.slice(file.lastIndexOf('.') + 1);
    const path = root ? join(root, dir, file) : undefined;
    if (!path || !existsSync(path)) throw new PosError('NOT_FOUND', `no such file: ${file}`);
    return {
      status: 200,
      body: readFileSync(path),
      headers: { 'content-type': TYPES[ext] ?? 'application/octet-stream', ...SECURITY_HEADERS },
    };
  };
  return [
    {
      method: 'GET',
      path: '/',
      auth: false,
      doc: { summary: 'The cashier UI (HTML)', tag: 'pages', responses: { 200: { description: 'HTML' } } },
      handle: () => serve('ui', 'index.html'),
    },
    {
      method: 'GET',
      path: '/customer',
      auth: false,
      doc: {
        summary: 'The customer screen (HTML)',
        tag: 'pages',
        responses: { 200: { description: 'HTML' } },
      },
      handle: () => serve('ui', 'customer.html'),
    },
    {
      // The file's own name, which people guess from ui/customer.html: the same page.
      method: 'GET',
      path: '/customer.html',
      auth: false,
      doc: {
        summary: 'The customer screen (HTML), as /customer',
        tag: 'pages',
        responses: { 200: { description: 'HTML' } },
      },
      handle: () => serve('ui', 'customer.html'),
    },
    {
      method: 'GET',
      path: '/ui/:file',
      auth: false,
      doc: {
        summary: 'UI scripts and styles',
        tag: 'pages',
        responses: { 200: { description: 'JS, CSS or SVG' } },
        errors: ['NOT_FOUND'],
      },
      handle: (ctx) => {
        const file = ctx.params.file ?? '';
        if (!/^[a-z0-9-]+\.(js|css|svg|js\.map)$/.test(file)) {
          throw new PosError('NOT_FOUND', `no such file: ${file}`);
        }
        return serve(file.endsWith('.css') || file.endsWith('.svg') ? 'ui' : join('dist', 'ui'), file);
      },
    },
  ];
}
