import type { IncomingRecord } from './store.js';

/** A `P/up/ledger` payload as both stores take it. */
export interface LedgerBatch {
  epoch: string;
  records: IncomingRecord[];
}

/** Stored as rejected with this code: a record whose fields no store can hold or check. */
export const INVALID_RECORD = 'INVALID_RECORD';

const CHAIN = /^[0-9a-f]{64}$/;
/** Ids are indexed (PostgreSQL's B-tree takes ~2.7 KB a row); a device's are UUIDs. */
const MAX_ID_LENGTH = 128;
/** With the `u` flag a pair is one code point: this finds only a lone surrogate. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Text every store keeps as sent (PostgreSQL refuses NUL; a lone surrogate comes back changed). */
function storableText(value: unknown): value is string {
  return typeof value === 'string' && !value.includes('\u0000') && !LONE_SURROGATE.test(value);
}

/** A JSON object (from JSON.parse, so it has a canonical form; an array or a scalar is not a body). */
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What is wrong with a record's fields, or undefined when it can be stored as it came. */
function faultOf(r: Record<string, unknown>): string | undefined {
  if (!storableText(r.id) || r.id === '' || r.id.length > MAX_ID_LENGTH)
    return `id is not a text of 1 to ${MAX_ID_LENGTH} characters`;
  if (!storableText(r.type) || r.type === '') return 'type is not a text';
  if (!storableText(r.at)) return 'at is not a text';
  if (typeof r.chain !== 'string' || !CHAIN.test(r.chain)) return 'chain is not 64 hex digits';
  if (!isObject(r.body)) return 'body is not a JSON object';
  return undefined;
}

/**
 * One uplinked record: as sent, or, when a field cannot be stored or checked, a stand-in with that
 * field empty and `fault` saying why. The stand-in is stored as rejected with `INVALID_RECORD`
 * (mqtt-v1: a rejected record does not block later records), and a resend of it compares equal to
 * what was stored, so it is a duplicate, never a `SEQ_CONFLICT`.
 */
function recordOf(raw: Record<string, unknown> & { seq: number }): IncomingRecord {
  const fault = faultOf(raw);
  if (!fault) return raw as unknown as IncomingRecord;
  const text = (v: unknown) => (storableText(v) ? v : '');
  return {
    seq: raw.seq,
    id: storableText(raw.id) && raw.id.length <= MAX_ID_LENGTH ? raw.id : '',
    type: text(raw.type),
    at: text(raw.at),
    chain: typeof raw.chain === 'string' && CHAIN.test(raw.chain) ? raw.chain : '',
    body: isObject(raw.body) ? raw.body : {},
    fault: `seq ${raw.seq}: ${fault}`,
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
