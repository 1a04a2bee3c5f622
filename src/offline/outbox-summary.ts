import type { Db } from './db.js';

/** Records above the ack that are not rejected: how many, how many sales, and their total. */
export interface Unsynced {
  records: number;
  sales: number;
  salesTotal: number;
}

interface Counted extends Unsynced {
  /** The ack (row seq) and the last row these counts cover, and the rejected rows above that ack then. */
  ack: number;
  to: number;
  rejected: number;
}

/**
 * The outbox's figures without a scan of the whole outbox: an offline terminal asks them on every
 * sale (the offline limit) and for every status update, and its outbox grows all day. Counted once,
 * then only rows appended since and rows the ack has passed are read. Counts start over when a
 * row in range may have changed (a record rejected, a rollback, a new epoch).
 */
export class OutboxSummary {
  private counted: Counted | undefined;
  private readonly stmt;

  constructor(db: Db) {
    this.stmt = {
      range: db.prepare<[number, number], { records: number; sales: number; salesTotal: number }>(
        `SELECT count(*) AS records,
                count(CASE WHEN type = 'sale.completed' THEN 1 END) AS sales,
                coalesce(sum(CASE WHEN type = 'sale.completed' THEN json_extract(body, '$.total') END), 0) AS salesTotal
           FROM ledger WHERE seq > ? AND seq <= ? AND sync <> 'rejected'`,
      ),
      rejectedAbove: db.prepare<[number], { n: number }>(
        "SELECT count(*) AS n FROM ledger WHERE sync = 'rejected' AND seq > ?",
      ),
      oldest: db.prepare<[number], { at: string }>(
        "SELECT at FROM ledger WHERE seq > ? AND sync <> 'rejected' ORDER BY seq LIMIT 1",
      ),
    };
  }

  /** Unsynced records above `ack` up to the row `tip` (both row seqs). */
  read(ack: number, tip: number): Unsynced {
    let c = this.counted;
    // A row in the counted range rejected since (or its reject rolled back) voids the counts: rows
    // are only ever rejected, never un-rejected, except by a rollback.
    if (!c || ack < c.ack || tip < c.to || this.rejectedAbove(c.ack) !== c.rejected) {
      c = { ack, to: ack, rejected: this.rejectedAbove(ack), records: 0, sales: 0, salesTotal: 0 };
    }
    if (ack > c.ack) {
      const passed = Math.min(ack, c.to);
      if (passed > c.ack) this.add(c, this.stmt.range.get(c.ack, passed)!, -1);
      c.ack = ack;
      c.to = Math.max(c.to, ack);
      c.rejected = this.rejectedAbove(ack);
    }
    if (tip > c.to) {
      this.add(c, this.stmt.range.get(c.to, tip)!, 1);
      c.to = tip;
    }
    this.counted = c;
    return { records: c.records, sales: c.sales, salesTotal: c.salesTotal };
  }

  /** The time of the first unsynced record, in ledger order (not the earliest clock reading). */
  oldestAt(ack: number): string | undefined {
    return this.stmt.oldest.get(ack)?.at;
  }

  /** Rows above `tip` were rolled back: counts that took them in start over. */
  rolledBackTo(tip: number): void {
    if (this.counted && this.counted.to > tip) this.counted = undefined;
  }

  /** Rows in range changed other than by appends and acks (a new epoch). */
  forget(): void {
    this.counted = undefined;
  }

  private rejectedAbove(seq: number): number {
    return this.stmt.rejectedAbove.get(seq)!.n;
  }

  private add(c: Counted, r: Unsynced, sign: 1 | -1): void {
    c.records += sign * r.records;
    c.sales += sign * r.sales;
    c.salesTotal += sign * r.salesTotal;
  }
}
