import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';

// A CommonJS module whose typings declare an ES default export: at run time the import is the function.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

export const GENESIS_CHAIN = '0'.repeat(64);

export interface ChainedFields {
  seq: number;
  id: string;
  type: string;
  at: string;
  body: unknown;
}

/**
 * RFC 8785 canonical JSON. A value of JSON types only whose object keys are already in order (a
 * body parsed from canonical text, as the cloud receives it) is what `JSON.stringify` writes:
 * the library itself writes every string, number and key with `JSON.stringify`, and sorts keys
 * by UTF-16 code units, as `<` compares them. Other values go through the library.
 */
export function canonicalJson(value: unknown): string {
  if (stringifiesCanonically(value)) return JSON.stringify(value);
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no canonical JSON form');
  return text;
}

/** JSON types only (no undefined, toJSON, non-finite numbers), every object's keys in order. */
function stringifiesCanonically(value: unknown): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (Array.isArray(value)) {
        for (const item of value) if (!stringifiesCanonically(item)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      const keys = Object.keys(value);
      const fields = value as Record<string, unknown>;
      for (let i = 0; i < keys.length; i++) {
        if (i > 0 && !(keys[i - 1]! < keys[i]!)) return false;
        if (!stringifiesCanonically(fields[keys[i]!])) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/** chain = sha256_hex(prevChain + canonical({seq, id, type, at, body})) — mqtt-v1 "Ledger uplink". */
export function chainOf(prevChain: string, record: ChainedFields): string {
  const canonical = canonicalJson({
    seq: record.seq,
    id: record.id,
    type: record.type,
    at: record.at,
    body: record.body,
  });
  return createHash('sha256').update(prevChain, 'utf8').update(canonical, 'utf8').digest('hex');
}

/**
 * The same chain from a body already in canonical form: the record's keys sort as
 * at < body < id < seq < type, and strings serialise as JSON.stringify does (RFC 8785 §3.2.2.2).
 */
export function chainOfCanonicalBody(
  prevChain: string,
  seq: number,
  id: string,
  type: string,
  at: string,
  canonicalBody: string,
): string {
  const canonical = `{"at":${JSON.stringify(at)},"body":${canonicalBody},"id":${JSON.stringify(id)},"seq":${seq},"type":${JSON.stringify(type)}}`;
  return createHash('sha256').update(prevChain, 'utf8').update(canonical, 'utf8').digest('hex');
}

/** Checks a run of records that follows `prevChain`; returns the first bad seq or undefined. */
export function verifyChain(
  records: ReadonlyArray<ChainedFields & { chain: string }>,
  prevChain = GENESIS_CHAIN,
): number | undefined {
  let prev = prevChain;
  for (const r of records) {
    if (chainOf(prev, r) !== r.chain) return r.seq;
    prev = r.chain;
  }
  return undefined;
}
