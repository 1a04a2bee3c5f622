import { canonicalJson } from '../src/offline/chain.js';
import type { IncomingRecord } from './store.js';

/** A `P/up/ledger` payload as both stores take it. */
export interface LedgerBatch {
  epoch: string;
  records: IncomingRecord[];
}

/** Stored as rejected with this code: a record whose fields no store can hold or check. */
export const INVALID_RECORD = 'INVALID_RECORD';

/** Ids are indexed (PostgreSQL's B-tree takes ~2.7 KB a row, 512 characters at most ~2 KB); a device's are UUIDs. */
const MAX_ID_LENGTH = 512;
/** With the `u` flag a pair is one code point: this finds only a lone surrogate. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Text every store keeps as sent (PostgreSQL refuses NUL; a lone surrogate comes back changed). */
function storableText(value: unknown): value is string {
  return typeof value === 'string' && !value.includes('\u0000') && !LONE_SURROGATE.test(value);
}

const storableId = (value: unknown): value is string =>
  storableText(value) && value !== '' && value.length <= MAX_ID_LENGTH;

/** The body's canonical text (what the chain covers and the stores keep), or undefined when it has none. */
function canonicalBody(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  try {
    return canonicalJson(body);
  } catch {
    return undefined; // a number JSON.parse made Infinity, nesting deeper than the stack
  }
}

/**
 * One uplinked record, its fields copied (nothing else the sender put in rides along), its body's
 * canonical text computed once for the chain and the store. A field that cannot be stored or
 * checked is left empty and `fault` says why: stored as rejected with `INVALID_RECORD` (mqtt-v1: a
 * rejected record does not block later records); a resend of it compares equal to what was stored,
 * so it is a duplicate, never a `SEQ_CONFLICT`. A chain that is text but not a chain is kept as
 * sent: it fails the chain check (`CHAIN_BROKEN`), as it always did.
 */
function recordOf(raw: Record<string, unknown> & { seq: number }): IncomingRecord {
  // Each field checked once: '' where it cannot be kept as sent.
  const id = storableId(raw.id) ? raw.id : '';
  const type = storableText(raw.type) ? raw.type : '';
  const at = storableText(raw.at) ? raw.at : undefined;
  const chain = storableText(raw.chain) ? raw.chain : undefined;
  const bodyText = canonicalBody(raw.body);
  const fault =
    id === ''
      ? `id is not a text of 1 to ${MAX_ID_LENGTH} characters`
      : type === ''
        ? 'type is not a text'
        : at === undefined
          ? 'at is not a text'
          : chain === undefined
            ? 'chain is not a text'
            : bodyText === undefined
              ? 'body is not a JSON object'
              : undefined;
  return {
    seq: raw.seq,
    id,
    type,
    at: at ?? '',
    chain: chain ?? '',
    body: bodyText === undefined ? {} : (raw.body as Record<string, unknown>),
    bodyText: bodyText ?? '{}',
    ...(fault ? { fault: `seq ${raw.seq}: ${fault}` } : {}),
  };
}

/**
 * A `P/up/ledger` payload (bytes, text, or the object a simulation hands over): its epoch and each
 * record that has a seq, the one thing an ack can name. Undefined when it is not a batch.
 */
export function parseLedgerBatch(
  payload: Buffer | string | Record<string, unknown>,
): LedgerBatch | undefined {
  let batch: { epoch?: unknown; records?: unknown };
  try {
    batch =
      typeof payload === 'string' || Buffer.isBuffer(payload)
        ? (JSON.parse(payload.toString('utf8')) as typeof batch)
        : payload;
  } catch {
    return undefined;
  }
  if (typeof batch !== 'object' || batch === null) return undefined;
  if (!storableText(batch.epoch) || !Array.isArray(batch.records)) return undefined;
  const records: IncomingRecord[] = [];
  for (const r of batch.records as unknown[]) {
    if (typeof r !== 'object' || r === null) continue;
    const raw = r as Record<string, unknown>;
    if (Number.isSafeInteger(raw.seq) && (raw.seq as number) > 0)
      records.push(recordOf(raw as Record<string, unknown> & { seq: number }));
  }
  return { epoch: batch.epoch, records };
}
