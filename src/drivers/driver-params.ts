import { PosError } from '../errors.js';

/**
 * Splits our driver options out of a device address, leaving the address the transport parser
 * knows: `hid://0c2e:0b61?suffix=tab&serial=X` → `hid://0c2e:0b61?serial=X` and `{suffix: 'tab'}`.
 */
export function splitDriverParams(
  uri: string,
  keys: readonly string[],
): { base: string; params: Map<string, string> } {
  const q = uri.indexOf('?');
  if (q < 0) return { base: uri, params: new Map() };
  const search = new URLSearchParams(uri.slice(q + 1));
  const params = new Map<string, string>();
  for (const key of keys) {
    const v = search.get(key);
    if (v !== null) params.set(key, v);
    search.delete(key);
  }
  const rest = search.toString();
  return { base: rest === '' ? uri.slice(0, q) : `${uri.slice(0, q)}?${rest}`, params };
}

export function oneOf<T extends string>(
  uri: string,
  key: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new PosError('DEVICE_URI_INVALID', `${key} must be one of ${allowed.join(', ')} (in "${uri}")`, {
    uri,
  });
}

export function milliseconds(uri: string, key: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) {
    throw new PosError('DEVICE_URI_INVALID', `${key} must be 1 to 10000 ms (in "${uri}")`, { uri });
  }
  return n;
}
