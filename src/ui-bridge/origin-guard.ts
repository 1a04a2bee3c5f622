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
