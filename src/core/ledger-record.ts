/** A ledger record as uplinked (mqtt-v1 "Ledger uplink"). */
export interface LedgerRecord {
  seq: number;
  id: string;
  type: string;
  at: string;
  body: Record<string, unknown>;
  chain: string;
}

export interface RecordReject {
  seq: number;
  code: string;
  message: string;
}

/** What the uplink needs from the ledger (a port: implemented by src/offline/ledger.ts). */
export interface OutboxSource {
  readonly epoch: string;
  /** Records with seq > afterSeq, in seq order, at most `limit`. */
  recordsAfter(afterSeq: number, limit: number): LedgerRecord[];
  /** The same as JSON texts, when the source can give them without parsing (the uplink's fast path). */
  recordsJsonAfter?(afterSeq: number, limit: number): Array<{ seq: number; json: string }>;
  /** The highest seq written so far (0 when empty). */
  lastSeq(): number;
  /** The highest seq the cloud has acknowledged (0 when none). */
  ackedUpTo(): number;
  /**
   * Applies a cloud ack: everything ≤ upTo becomes synced, rejects are stored with their code.
   * `sentUpTo`, when given, is the highest seq this process has had PUBACKed: records never put
   * on the wire by this database are not synced by it (a restored copy's own records).
   */
  applyAck(upTo: number, rejected: readonly RecordReject[], sentUpTo?: number): void;
  /**
   * mqtt-v1 "Restored database": starts a new epoch at once and appends there again every
   * record after `storedUpTo` (same ids, seq from 1). Sources that cannot move lack it.
   */
  moveToNewEpoch?(storedUpTo: number, reason: string): { epoch: string; resent: number };
  /** Called after each commit that appended records. */
  onAppend(listener: (lastSeq: number) => void): () => void;
}
