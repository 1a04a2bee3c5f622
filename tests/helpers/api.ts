import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ApiReply<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** A small client for the local API with the daemon's bearer token. */
export function apiClient(port: number, stateDir: string) {
  const token = readFileSync(join(stateDir, 'ui-token'), 'utf8').trim();
  const base = `http://127.0.0.1:${port}`;
  return {
    token,
    base,
    async call<T = Record<string, unknown>>(
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ): Promise<ApiReply<T>> {
      const res = await fetch(base + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
    },
  };
}
