import type pg from 'pg';
import { canonicalJson, chainOfCanonicalBody, GENESIS_CHAIN } from '../../src/offline/chain.js';
import { INVALID_RECORD } from '../ledger-batch.js';
import type { IncomingRecord, IngestResult, RecordRow } from '../store.js';

export interface IngestBatch {
  tenant: string;
  device: string;
  epoch: string;
  records: readonly IncomingRecord[];
}

export type IngestOutcome = IngestResult;

interface Head {
  tenant: string;
  device: string;
  epoch: string;
  acked: number;
  chain: string;
  rejects: number;
}

interface Row extends RecordRow {
  tenant: string;
  device: string;
  code: string | null;
  message: string | null;
}

const keyOf = (t: string, d: string, e: string) => `${t}\u0000${d}\u0000${e}`;

/**
 * Stores ledger batches (several devices, several batches of one device) inside the caller's
 * transaction, with the rules of the SQLite `CloudStore.ingest`: contiguous order, chain verified,
 * `SEQ_CONFLICT` for a seq held with another record (a restored database), `duplicate` for a fact
 * held under another epoch. The heads of the batches' epochs are locked first (`FOR UPDATE`, in
 * key order), so instances never store one epoch's records side by side; the records go in with
 * one multi-row insert. Returns each batch's outcome, in the order given.
 */
export async function ingestGroup(
  c: pg.ClientBase,
  batches: readonly IngestBatch[],
): Promise<IngestOutcome[]> {
  const keys = [...new Set(batches.map((b) => keyOf(b.tenant, b.device, b.epoch)))].sort();
  const split = keys.map((key) => key.split('\u0000') as [string, string, string]);
  const cols = [split.map((s) => s[0]), split.map((s) => s[1]), split.map((s) => s[2])];
  // One device's epochs are ingested one transaction at a time (a fact a restored copy resends
  // under its new epoch must see the old epoch's rows): a lock per device, taken in one order.
  await c.query(
    `SELECT pg_advisory_xact_lock(k) FROM (
       SELECT DISTINCT hashtextextended(t || '/' || d, 2200) AS k FROM unnest($1::text[], $2::text[]) AS u(t, d)
       ORDER BY k) AS locks`,
    [cols[0], cols[1]],
  );
  await c.query(
    `INSERT INTO heads (tenant, device, epoch, acked_up_to, last_chain)
     SELECT t, d, e, 0, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS u(t, d, e)
     ON CONFLICT DO NOTHING`,
    [...cols, GENESIS_CHAIN],
  );
  const locked = await c.query<{
    tenant: string;
    device: string;
    epoch: string;
    acked_up_to: number;
    last_chain: string;
    rejects: number;
  }>(
    `SELECT tenant, device, epoch, acked_up_to, last_chain, rejects FROM heads
     WHERE (tenant, device, epoch) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))
     ORDER BY tenant, device, epoch FOR UPDATE`,
    cols,
  );
  const heads = new Map<string, Head>();
  for (const h of locked.rows)
    heads.set(keyOf(h.tenant, h.device, h.epoch), {
      tenant: h.tenant,
      device: h.device,
      epoch: h.epoch,
      acked: h.acked_up_to,
      chain: h.last_chain,
      rejects: h.rejects,
    });
  const held = await heldRecords(c, batches, heads);
  const elsewhere = await heldUnderOtherEpochs(c, batches, heads);
  const rows: Row[] = [];
  // Facts this group stores, by device and id → epoch: another epoch's batch later in the group
  // (a redelivered batch beside a restored copy's resend) holds it elsewhere, as on SQLite.
  const factsHere = new Map<string, string>();
  const partial = batches.map((b) => {
    const key = keyOf(b.tenant, b.device, b.epoch);
    const head = heads.get(key)!;
    const facts: IncomingRecord[] = [];
    const conflicts: IngestResult['rejected'] = [];
    let stored = 0;
    let duplicates = 0;
    for (const r of [...b.records].sort((x, y) => x.seq - y.seq)) {
      if (r.seq <= head.acked) {
        const h = held.get(`${key}\u0000${r.seq}`);
        if (h && h.id === r.id && h.chain === r.chain) {
          duplicates += 1;
          if (h.status === 'ok') facts.push(r);
          continue;
        }
        conflicts.push({
          seq: r.seq,
          code: 'SEQ_CONFLICT',
          message: `seq ${r.seq} of epoch ${b.epoch} is held with another record`,
        });
        break;
      }
      if (r.seq !== head.acked + 1) break; // a gap: the device sends again from the ack
      const row: Row = {
        tenant: b.tenant,
        device: b.device,
        epoch: b.epoch,
        seq: r.seq,
        id: r.id,
        type: r.type,
        at: r.at,
        // Stored as chained: the canonical text (jsonb would refuse a NUL a cashier typed).
        body: r.bodyText ?? canonicalJson(r.body),
        chain: r.chain,
        status: 'ok',
        code: null,
        message: null,
      };
      if (r.fault) {
        row.status = 'rejected';
        row.code = INVALID_RECORD;
        row.message = r.fault;
        head.rejects += 1;
      } else if (chainOfCanonicalBody(head.chain, r.seq, r.id, r.type, r.at, row.body) !== r.chain) {
        row.status = 'rejected';
        row.code = 'CHAIN_BROKEN';
        row.message = `chain of seq ${r.seq} does not follow seq ${r.seq - 1}`;
        head.rejects += 1;
      } else {
        const fact = `${b.tenant}\u0000${b.device}\u0000${r.id}`;
        const storedUnder = factsHere.get(fact);
        if (elsewhere.has(fact) || (storedUnder !== undefined && storedUnder !== b.epoch))
          row.status = 'duplicate';
        else factsHere.set(fact, b.epoch);
      }
      rows.push(row);
      // A later batch of this group may resend it: it is held from now on.
      held.set(`${key}\u0000${r.seq}`, { id: r.id, chain: r.chain, status: row.status });
      head.acked = r.seq;
      head.chain = r.chain;
      stored += 1;
      if (row.status === 'ok') facts.push(r);
    }
    return { key, head, facts, conflicts, stored, duplicates };
  });
  await insertRows(c, rows);
  const touched = [...heads.values()];
  await c.query(
    `UPDATE heads SET acked_up_to = u.a, last_chain = u.c, rejects = u.r
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::int[]) AS u(t, d, e, a, c, r)
     WHERE heads.tenant = u.t AND heads.device = u.d AND heads.epoch = u.e`,
    [
      touched.map((h) => h.tenant),
      touched.map((h) => h.device),
      touched.map((h) => h.epoch),
      touched.map((h) => h.acked),
      touched.map((h) => h.chain),
      touched.map((h) => h.rejects),
    ],
  );
  const rejected = await rejectedOf(
    c,
    touched.filter((h) => h.rejects > 0),
  );
  return partial.map((p) => ({
    ackedUpTo: p.head.acked,
    rejected: [...(rejected.get(p.key) ?? []), ...p.conflicts],
    stored: p.stored,
    duplicates: p.duplicates,
    facts: p.facts,
  }));
}

/** The records held at the seqs the batches resend (at or below their head). */
async function heldRecords(
  c: pg.ClientBase,
  batches: readonly IngestBatch[],
  heads: Map<string, Head>,
): Promise<Map<string, { id: string; chain: string; status: string }>> {
  const want: Array<[string, string, string, number]> = [];
  for (const b of batches) {
    const head = heads.get(keyOf(b.tenant, b.device, b.epoch))!;
    for (const r of b.records) if (r.seq <= head.acked) want.push([b.tenant, b.device, b.epoch, r.seq]);
  }
  const out = new Map<string, { id: string; chain: string; status: string }>();
  if (want.length === 0) return out;
  const res = await c.query<{
    tenant: string;
    device: string;
    epoch: string;
    seq: number;
    id: string;
    chain: string;
    status: string;
  }>(
    `SELECT tenant, device, epoch, seq, id, chain, status FROM records
     WHERE (tenant, device, epoch, seq) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]))`,
    [want.map((w) => w[0]), want.map((w) => w[1]), want.map((w) => w[2]), want.map((w) => w[3])],
  );
  for (const r of res.rows) out.set(`${keyOf(r.tenant, r.device, r.epoch)}\u0000${r.seq}`, r);
  return out;
}

/** Ids of the new records that the device's other epochs already hold as facts (a restore's resend). */
async function heldUnderOtherEpochs(
  c: pg.ClientBase,
  batches: readonly IngestBatch[],
  heads: Map<string, Head>,
): Promise<Set<string>> {
  const want: Array<[string, string, string, string]> = [];
  for (const b of batches) {
    const head = heads.get(keyOf(b.tenant, b.device, b.epoch))!;
    for (const r of b.records) if (r.seq > head.acked) want.push([b.tenant, b.device, r.id, b.epoch]);
  }
  const out = new Set<string>();
  if (want.length === 0) return out;
  const res = await c.query<{ tenant: string; device: string; id: string }>(
    `SELECT DISTINCT r.tenant, r.device, r.id FROM records r
     JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(t, d, i, e)
       ON r.tenant = u.t AND r.device = u.d AND r.id = u.i AND r.epoch <> u.e
     WHERE r.status = 'ok'`,
    [want.map((w) => w[0]), want.map((w) => w[1]), want.map((w) => w[2]), want.map((w) => w[3])],
  );
  for (const r of res.rows) out.add(`${r.tenant}\u0000${r.device}\u0000${r.id}`);
  return out;
}

/** One multi-row insert (arrays, so the statement has 12 parameters however many rows). */
async function insertRows(c: pg.ClientBase, rows: Row[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <K extends keyof Row>(name: K) => rows.map((r) => r[name]);
  await c.query(
    `INSERT INTO records (tenant, device, epoch, seq, id, type, at, body, chain, status, reject_code, reject_message)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[],
       $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
     ON CONFLICT DO NOTHING`,
    [
      col('tenant'),
      col('device'),
      col('epoch'),
      col('seq'),
      col('id'),
      col('type'),
      col('at'),
      col('body'),
      col('chain'),
      col('status'),
      col('code'),
      col('message'),
    ],
  );
}

/** The rejected records of these epochs, as the ack lists them (the last 1000, in seq order). */
async function rejectedOf(c: pg.ClientBase, heads: Head[]): Promise<Map<string, IngestResult['rejected']>> {
  const out = new Map<string, IngestResult['rejected']>();
  for (const h of heads) {
    const res = await c.query<{ seq: number; reject_code: string; reject_message: string }>(
      `SELECT seq, reject_code, reject_message FROM records
       WHERE tenant = $1 AND device = $2 AND epoch = $3 AND status = 'rejected' ORDER BY seq DESC LIMIT 1000`,
      [h.tenant, h.device, h.epoch],
    );
    out.set(
      keyOf(h.tenant, h.device, h.epoch),
      res.rows.reverse().map((x) => ({ seq: x.seq, code: x.reject_code, message: x.reject_message })),
    );
  }
  return out;
}
