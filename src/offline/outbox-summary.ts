import type { Db } from './db.js';

/** Records above the ack that are not rejected: how many, how many sales, and their total. */
export interface Unsynced {
  records: number;
  sales: number;
  salesTotal: number;
}

interface Counted extends Unsynced {
  /** The ack (row seq) and the last row these counts cover, and the rejected rows then. */
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
      rejected: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM ledger WHERE sync = 'rejected'"),
      oldest: db.prepare<[number], { at: string }>(
        "SELECT at FROM ledger WHERE seq > ? AND sync <> 'rejected' ORDER BY seq LIMIT 1",
      ),
    };
  }

  /** Unsynced records above `ack` up to the row `tip` (both row seqs). */
  read(ack: number, tip: number): Unsynced {
    const rejected = this.stmt.rejected.get()!.n;
    let c = this.counted;
    if (!c || c.rejected !== rejected || ack < c.ack || tip < c.to) {
      c = { ack, to: ack, rejected, records: 0, sales: 0, salesTotal: 0 };
    }
    if (ack > c.ack) {
      const passed = Math.min(ack, c.to);
      if (passed > c.ack) this.add(c, this.stmt.range.get(c.ack, passed)!, -1);
      c.ack = ack;
      c.to = Math.max(c.to, ack);
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

  private add(c: Counted, r: Unsynced, sign: 1 | -1): void {
    c.records += sign * r.records;
    c.sales += sign * r.sales;
    c.salesTotal += sign * r.salesTotal;
  }
}
