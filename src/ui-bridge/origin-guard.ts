import type { IncomingMessage } from 'node:http';
import { PosError } from '../errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

/** The loopback origins of the served UI on this port (and the listen host when it is another). */
export function defaultOrigins(listenHost: string, port: number): string[] {
  const hosts = new Set(LOOPBACK_HOSTS);
  if (!['0.0.0.0', '::', '127.0.0.1', 'localhost', '::1'].includes(listenHost)) {
    hosts.add(listenHost.includes(':') ? `[${listenHost}]` : listenHost);
  }
  return [...hosts].map((h) => `http://${h}:${port}`);
}

/**
 * Refuses a state-changing request or a WebSocket upgrade from a page of another origin. A request
 * without `Origin` is a script or curl (no ambient cookie to abuse), which still needs the token.
 */
export function checkOrigin(req: IncomingMessage, allowed: () => readonly string[], upgrade = false): void {
  if (!upgrade && SAFE_METHODS.has(req.method ?? 'GET')) return;
  const origin = req.headers.origin;
  if (origin === undefined) {
    // A browser that sends no Origin still says where the request came from.
    if (req.headers['sec-fetch-site'] === 'cross-site') {
      throw new PosError('FORBIDDEN', 'cross-site request refused');
    }
    return;
  }
  if (!allowed().includes(origin.toLowerCase())) {
    throw new PosError('FORBIDDEN', `origin ${origin} is not allowed`);
  }
}

/** `[::1]:8080`, `127.0.0.1:8080`: an address and port as a Host header names them. */
function hostPort(address: string, port: number): string {
  const a = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  return `${a.includes(':') ? `[${a}]` : a}:${port}`.toLowerCase();
}

/**
 * DNS rebinding defence: a page on `evil.example` that re-points its name at this terminal sends
 * `Host: evil.example`. Accepted: loopback names and the listen address, with the port, the address
 * the connection actually came in on (a terminal listening on all interfaces, reached by IP), and
 * the hosts of extra allowed origins. Anything else is 421.
 */
export function checkHost(
  req: IncomingMessage,
  listenHost: string,
  port: number | undefined,
  allowedOrigins: readonly string[] = [],
): void {
  const host = req.headers.host?.toLowerCase();
  if (port === undefined) return;
  const allowed = new Set(defaultOrigins(listenHost, port).map((o) => o.slice('http://'.length)));
  const local = req.socket.localAddress;
  if (local) allowed.add(hostPort(local, req.socket.localPort ?? port));
  for (const o of allowedOrigins) allowed.add(o.replace(/^https?:\/\//, '').toLowerCase());
  if (host === undefined || !allowed.has(host)) {
    throw new PosError('MISDIRECTED_REQUEST', `this terminal does not answer to host ${host ?? '(none)'}`);
  }
}
