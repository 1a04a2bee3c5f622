import type { LedgerRecord, OutboxSource, RecordReject } from '../core/ledger-record.js';
import { chainOf, GENESIS_CHAIN } from './chain.js';
import type { Db } from './db.js';
import { allEpochs, epochOfRow } from './ledger-epochs.js';

export type SyncState = 'pending' | 'sent' | 'synced' | 'rejected';

export interface LocalLedgerRecord extends LedgerRecord {
  sync: SyncState;
  syncError?: { code: string; message: string };
}

export interface Row {
  seq: number;
  id: string;
  type: string;
  at: string;
  body: string;
  chain: string;
  sync: SyncState;
  sync_code: string | null;
  sync_message: string | null;
  moved_to: number | null;
}

/** The uplink's view of the ledger (wire seqs of the current epoch). */
export type WireOutbox = OutboxSource & {
  markSent(fromSeq: number, toSeq: number): void;
  moveToNewEpoch(storedUpTo: number, reason: string): { epoch: string; resent: number };
};

export interface Head {
  /** Row seq: every record up to it is synced (or rejected, by its own column). */
  acked_up_to: number;
  /** Row seq: every record up to it was PUBACKed (informational). */
  sent_up_to: number;
  pruned_up_to: number;
  pruned_chain: string;
}

/** A row as a record (seq = its row). */
export function toRecord(row: Row): LedgerRecord {
  return toEpochRecord(row, 0);
}

/** A row as a record of its epoch: `base` turns its row seq into the epoch's (wire) seq. */
export function toEpochRecord(row: Row, base: number): LedgerRecord {
  return {
    seq: row.seq - base,
    id: row.id,
    type: row.type,
    at: row.at,
    body: JSON.parse(row.body) as Record<string, unknown>,
    chain: row.chain,
  };
}

/**
 * A row's sync state: its own column says only `rejected`; synced and sent come from the
 * watermarks (a row at or below the ack is synced, at or below the PUBACKed mark is sent).
 */
export function syncOf(
  row: Pick<Row, 'seq' | 'sync'>,
  head: Pick<Head, 'acked_up_to' | 'sent_up_to'>,
): SyncState {
  if (row.sync === 'rejected') return 'rejected';
  if (row.seq <= head.acked_up_to) return 'synced';
  if (row.seq <= head.sent_up_to) return 'sent';
  return 'pending';
}

export function toLocalRecord(row: Row, head: Pick<Head, 'acked_up_to' | 'sent_up_to'>): LocalLedgerRecord {
  const sync = syncOf(row, head);
  const record: LocalLedgerRecord = { ...toRecord(row), sync };
  if (sync === 'rejected')
    record.syncError = { code: row.sync_code ?? 'REJECTED', message: row.sync_message ?? '' };
  return record;
}

/** What the wire view needs of the ledger. */
interface WireSource {
  readonly epoch: string;
  recordsJsonAfter(afterSeq: number, limit: number): Array<{ seq: number; json: string }>;
  lastSeq(): number;
  ackedUpTo(): number;
  applyAck(upTo: number, rejected: readonly RecordReject[], sentUpTo?: number): void;
  onAppend(listener: (lastSeq: number) => void): () => void;
  markSent(fromSeq: number, toSeq: number): void;
  moveToNewEpoch(storedUpTo: number, reason: string): { epoch: string; resent: number };
}

/** The uplink's view of a ledger: wire seqs of its current epoch. */
export function wireOutbox(ledger: WireSource): WireOutbox {
  return {
    get epoch() {
      return ledger.epoch;
    },
    recordsAfter: (afterSeq, limit) =>
      ledger.recordsJsonAfter(afterSeq, limit).map((r) => JSON.parse(r.json) as LedgerRecord),
    recordsJsonAfter: (afterSeq, limit) => ledger.recordsJsonAfter(afterSeq, limit),
    lastSeq: () => ledger.lastSeq(),
    ackedUpTo: () => ledger.ackedUpTo(),
    applyAck: (upTo, rejected, sentUpTo) => ledger.applyAck(upTo, rejected, sentUpTo),
    onAppend: (listener) => ledger.onAppend(listener),
    markSent: (from, to) => ledger.markSent(from, to),
    moveToNewEpoch: (storedUpTo, reason) => ledger.moveToNewEpoch(storedUpTo, reason),
  };
}

/** Records of `type` whose body has `field` = `value` (a scan): the newest one, or all, oldest first. */
export function findByBodyField(
  db: Db,
  type: string,
  field: string,
  value: string,
  which: 'latest' | 'all',
): LedgerRecord[] {
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(field)) throw new Error(`bad body field ${field}`);
  const order = which === 'latest' ? 'ORDER BY seq DESC LIMIT 1' : 'ORDER BY seq LIMIT 1000';
  return db
    .prepare<[string, string], Row>(
      `SELECT * FROM ledger WHERE type = ? AND json_extract(body, '$.${field}') = ? AND moved_to IS NULL ${order}`,
    )
    .all(type, value)
    .map(toRecord);
}

/**
 * Inside a transaction: deletes the records at or below the last one that is synced (at or below
 * `acked`, not rejected, or moved to a later epoch) and older than `cutoff`, as a prefix; the head
 * keeps the chain of the last deleted. Returns how many went.
 */
export function pruneRows(db: Db, acked: number, cutoff: string, tipSeq: number): number {
  const firstKept = db
    .prepare<[number, string], { seq: number | null }>(
      "SELECT min(seq) AS seq FROM ledger WHERE ((seq > ? OR sync = 'rejected') AND moved_to IS NULL) OR at >= ?",
    )
    .get(acked, cutoff)!.seq;
  const limit = firstKept === null ? tipSeq : firstKept - 1;
  const lastPruned = db
    .prepare<[number], { chain: string }>('SELECT chain FROM ledger WHERE seq = ?')
    .get(limit);
  const { changes } = db.prepare('DELETE FROM ledger WHERE seq <= ?').run(limit);
  if (changes > 0 && lastPruned) {
    db.prepare('UPDATE ledger_head SET pruned_up_to = ?, pruned_chain = ? WHERE one = 1').run(
      limit,
      lastPruned.chain,
    );
  }
  return changes;
}

/**
 * The chain as stored, from the first kept row, each row under its epoch's seq (an epoch starts
 * again at genesis); returns the first bad row seq, or undefined.
 */
export function verifyRows(db: Db, head: Head): number | undefined {
  const epochs = allEpochs(db);
  let prev = head.pruned_chain;
  let expectSeq = head.pruned_up_to + 1;
  for (const row of db.prepare<[], Row>('SELECT * FROM ledger ORDER BY seq').iterate()) {
    if (row.seq !== expectSeq) return expectSeq;
    const { base } = epochOfRow(epochs, row.seq);
    if (row.seq === base + 1) prev = GENESIS_CHAIN;
    if (chainOf(prev, toEpochRecord(row, base)) !== row.chain) return row.seq;
    prev = row.chain;
    expectSeq += 1;
  }
  return undefined;
}
