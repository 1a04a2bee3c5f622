/** The local API from the page: same origin, the session cookie rides along, never a token. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** The route or the tender is not there yet: the screen shows it as not available. */
  get notAvailable(): boolean {
    return this.status === 404 || this.code === 'TENDER_NOT_SUPPORTED' || this.status === 405;
  }
}

export interface ApiOptions {
  idempotencyKey?: string;
  /** Give up after this long (a status code 0 `NETWORK` error); without it, wait as long as the browser does. */
  timeoutMs?: number;
}

export async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
  options: ApiOptions = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal: options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs),
    });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', err instanceof Error ? err.message : String(err));
  }
  const text = await res.text();
  let json: unknown = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = {};
  }
  if (!res.ok) {
    const error = (json as { error?: { code?: string; message?: string } }).error;
    throw new ApiError(res.status, error?.code ?? `HTTP_${res.status}`, error?.message ?? res.statusText);
  }
  return json as T;
}

/** One key per cashier action, so a retried request after a lost reply never sells twice. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
