import * as crypto from 'node:crypto';
import canonicalizeModule from 'canonicalize';

// A CommonJS module whose typings declare an ES default export: at run time the import is the function.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

export const GENESIS_CHAIN = '0'.repeat(64);

/** sha256 hex of `prev + text`, streamed: what Node before 20.12 has. */
export function sha256HexStreamed(prev: string, text: string): string {
  return crypto.createHash('sha256').update(prev, 'utf8').update(text, 'utf8').digest('hex');
}

/** The same, one-shot where Node has it: half the cost per record (a drain hashes every one). */
export const sha256Hex: (prev: string, text: string) => string =
  typeof crypto.hash === 'function'
    ? (prev, text) => crypto.hash('sha256', prev + text, 'hex')
    : sha256HexStreamed;

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
 * by UTF-16 code units, as `<` compares them. Such a value with keys out of order is written the
 * same way from a copy with its keys sorted (`sortedCopy`); anything else goes through the library.
 */
export function canonicalJson(value: unknown): string {
  // Nesting some thousands deep overflows the stack (RangeError) here a little before it would in
  // the library; a record's body is a few levels deep (its schema's).
  if (stringifiesCanonically(value)) return JSON.stringify(value);
  const sorted = sortedCopy(value);
  const text = sorted === undefined ? canonicalize(value) : JSON.stringify(sorted);
  if (text === undefined) throw new TypeError('value has no canonical JSON form');
  return text;
}

/** An array of Array's own prototype without a toJSON of its own (the library would call it). */
function plainArray(value: object): value is unknown[] {
  return (
    Array.isArray(value) &&
    Object.getPrototypeOf(value) === Array.prototype &&
    !Object.hasOwn(value, 'toJSON')
  );
}

/** JSON types only (no undefined, toJSON, non-finite numbers), every object's keys in order. */
function stringifiesCanonically(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) {
        if (!plainArray(value)) return false;
        for (let i = 0; i < value.length; i++) if (!stringifiesCanonically(value[i])) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      // for-in, not Object.keys: no array per object (the prototype is Object's or none, so the
      // keys are the object's own).
      const fields = value as Record<string, unknown>;
      let prev: string | undefined;
      for (const key in fields) {
        if (prev !== undefined && !(prev < key)) return false;
        prev = key;
        if (!stringifiesCanonically(fields[key])) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * A copy of a value of JSON types only (plain objects, arrays, strings, finite numbers, booleans,
 * null) whose objects list their keys sorted as the library sorts them, for `JSON.stringify` to
 * write; undefined for anything else (the library decides). Keys V8 would order as indexes and
 * `__proto__` are left to the library too. A body whose keys are not in order cost the library's
 * walk ~11 µs per record, this ~6 (issue 18).
 */
function sortedCopy(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : undefined;
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) {
        if (!plainArray(value)) return undefined;
        const out: unknown[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) {
          const item = sortedCopy(value[i]);
          if (item === undefined) return undefined;
          out[i] = item;
        }
        return out;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return undefined;
      const fields = value as Record<string, unknown>;
      const keys = Object.keys(fields).sort();
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        if (key === '__proto__' || INDEX_LIKE.test(key)) return undefined;
        const item = sortedCopy(fields[key]);
        if (item === undefined) return undefined;
        out[key] = item;
      }
      return out;
    }
    default:
      return undefined;
  }
}

/** A key V8 lists before all others whatever the insertion order (an array index). */
const INDEX_LIKE = /^(?:0|[1-9][0-9]*)$/;

/** chain = sha256_hex(prevChain + canonical({seq, id, type, at, body})) — mqtt-v1 "Ledger uplink". */
export function chainOf(prevChain: string, record: ChainedFields): string {
  const { seq, id, type, at } = record;
  // The record's own keys written in canonical order; only the body needs sorting.
  if (
    Number.isSafeInteger(seq) &&
    record.body !== undefined &&
    typeof id === 'string' &&
    typeof type === 'string' &&
    typeof at === 'string'
  )
    return chainOfCanonicalBody(prevChain, seq, id, type, at, canonicalJson(record.body));
  const canonical = canonicalJson({
    seq: record.seq,
    id: record.id,
    type: record.type,
    at: record.at,
    body: record.body,
  });
  return sha256Hex(prevChain, canonical);
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
  return sha256Hex(prevChain, canonical);
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
