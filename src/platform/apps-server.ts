import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import type { Logger } from '../log.js';
import { closeServer, listen } from '../ui-bridge/listen.js';
import type { AppRegistry, InstalledApp } from './app-registry.js';
import { packagePath } from './package-check.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export interface AppsServerOptions {
  host: string;
  port: number;
  registry: AppRegistry;
  log: Logger;
  /** The local API's origins (the only ones an app may connect to, and that may frame it). */
  apiOrigins: () => readonly string[];
  /** The SDK, served at /sdk/posd-app.js on every app origin. */
  sdk: () => Promise<{ js: Buffer; dts: Buffer } | undefined>;
}

const HOST = /^([a-z0-9-]+)\.apps\.localhost:(\d+)$/;

/** The strict CSP of every app page: its own files, and network requests to the local API alone. */
export function appCsp(apiOrigins: readonly string[]): string {
  const ws = apiOrigins.map((o) => o.replace(/^http:/, 'ws:'));
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "media-src 'self'",
    `connect-src ${[...apiOrigins, ...ws].join(' ')}`,
    `frame-ancestors ${apiOrigins.join(' ')}`,
    "base-uri 'none'",
    "form-action 'none'",
    "object-src 'none'",
    "worker-src 'none'",
  ].join('; ');
}

/**
 * The apps listener (`ui.appsPort`): each app at `http://{label}.apps.localhost:{port}/`, only its
 * own files, under a CSP that lets it talk to the local API and nothing else. GET and HEAD only.
 */
export class AppsServer {
  private server: Server | undefined;

  constructor(private readonly o: AppsServerOptions) {}

  get port(): number | undefined {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a?.port;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.serve(req, res).catch((err: unknown) => {
        this.o.log.warn({ err: String(err) }, 'app file not served');
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    server.keepAliveTimeout = 5_000;
    await listen(server, this.o.port, this.o.host);
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeServer(server);
  }

  private headers(type: string): Record<string, string> {
    return {
      'content-type': type,
      'content-security-policy': appCsp(this.o.apiOrigins()),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-resource-policy': 'same-origin',
      'cache-control': 'no-cache',
    };
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = (req.headers.host ?? '').toLowerCase();
    const m = HOST.exec(host);
    // Another name (DNS rebinding, a typo): not an app origin.
    if (!m || Number(m[2]) !== this.port) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end('not an app origin');
      return;
    }
    const app = this.o.registry.byLabel(m[1]!);
    if (!app) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such app');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (pathname === '/sdk/posd-app.js' || pathname === '/sdk/posd-app.d.ts') {
      const sdk = await this.o.sdk();
      if (!sdk) return this.notFound(res);
      const js = pathname.endsWith('.js');
      res.writeHead(200, this.headers(js ? TYPES['.js']! : 'text/plain; charset=utf-8'));
      res.end(req.method === 'HEAD' ? undefined : js ? sdk.js : sdk.dts);
      return;
    }
    const file = this.resolve(app, pathname);
    if (!file) return this.notFound(res);
    let body: Buffer;
    try {
      body = await readFile(join(app.dir, file));
    } catch {
      return this.notFound(res);
    }
    res.writeHead(200, this.headers(TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream'));
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** A path of the package, or undefined (the package check's rules: no `..`, nothing absolute). */
  private resolve(app: InstalledApp, pathname: string): string | undefined {
    try {
      const decoded = decodeURIComponent(pathname).replace(/^\/+/, '');
      const path = packagePath(decoded === '' ? app.entry : decoded);
      return path === '' || path === 'manifest.json' ? app.entry : path;
    } catch {
      return undefined;
    }
  }

  private notFound(res: ServerResponse): void {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
}
