import type { Db } from './db.js';
import type { Head, Row } from './ledger-rows.js';

/** The ledger's prepared statements, made once per connection. */
export function ledgerStatements(db: Db) {
  return {
    head: db.prepare<[], Head>(
      'SELECT acked_up_to, sent_up_to, pruned_up_to, pruned_chain FROM ledger_head WHERE one = 1',
    ),
    last: db.prepare<[], { seq: number; chain: string }>(
      'SELECT seq, chain FROM ledger ORDER BY seq DESC LIMIT 1',
    ),
    insert: db.prepare<[number, string, string, string, string, string]>(
      'INSERT INTO ledger (seq, id, type, at, body, chain) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    after: db.prepare<[number, number], Row>('SELECT * FROM ledger WHERE seq > ? ORDER BY seq LIMIT ?'),
    /**
     * Records after a row, up to a row, as uplink JSON built by SQLite (no row objects, no body
     * parse): [row seq, json]. Any valid JSON of the same values will do: the cloud checks the
     * chain over the parsed record's canonical form, not over these bytes.
     */
    afterJson: db
      .prepare<[number, number, number, number], [number, string]>(
        `SELECT seq, '{"seq":' || (seq - ?) || ',"id":' || json_quote(id) || ',"type":' || json_quote(type) ||
         ',"at":' || json_quote(at) || ',"body":' || body || ',"chain":' || json_quote(chain) || '}'
         FROM ledger WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
      )
      .raw(true),
    /** Facts once each: a record moved to a later epoch is read as its copy. */
    factsAfter: db.prepare<[number, number], Row>(
      'SELECT * FROM ledger WHERE seq > ? AND moved_to IS NULL ORDER BY seq LIMIT ?',
    ),
    markMoved: db.prepare<[number, number]>('UPDATE ledger SET moved_to = ? WHERE seq = ?'),
    resetAcked: db.prepare<[number, number]>(
      'UPDATE ledger_head SET acked_up_to = ?, sent_up_to = ? WHERE one = 1',
    ),
    bySeq: db.prepare<[number], Row>('SELECT * FROM ledger WHERE seq = ?'),
    // Watermarks: one row per ack or PUBACK mark, whatever the number of records.
    markSent: db.prepare<[number]>('UPDATE ledger_head SET sent_up_to = max(sent_up_to, ?) WHERE one = 1'),
    markRejected: db.prepare<[string, string, string, number]>(
      "UPDATE ledger SET sync = 'rejected', sync_code = ?, sync_message = ?, synced_at = ? WHERE seq = ?",
    ),
    setAcked: db.prepare<[number]>('UPDATE ledger_head SET acked_up_to = max(acked_up_to, ?) WHERE one = 1'),
    rejectedCount: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM ledger WHERE sync = 'rejected'"),
    rejected: db.prepare<[], Row>("SELECT * FROM ledger WHERE sync = 'rejected' ORDER BY seq"),
  };
}
