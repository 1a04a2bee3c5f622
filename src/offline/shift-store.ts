import type { Db } from './db.js';

export interface ShiftRecord {
  id: string;
  status: 'open' | 'closed';
  openedAt: string;
  closedAt: string | null;
  openingCash: number;
  /** Ledger seq of its shift.opened record, and of shift.closed once closed. */
  openedSeq: number;
  closedSeq: number | null;
  auto: boolean;
  /** The Z figures as recorded at close (the ledger they came from may be pruned later). */
  closing?: { countedCash: number; difference: number; totals: unknown };
}

interface Row {
  id: string;
  status: 'open' | 'closed';
  opened_at: string;
  closed_at: string | null;
  opening_cash: number;
  doc: string;
}

export class ShiftStore {
  private readonly stmt;

  constructor(db: Db) {
    this.stmt = {
      open: db.prepare<[], Row>("SELECT * FROM shifts WHERE status = 'open'"),
      byId: db.prepare<[string], Row>('SELECT * FROM shifts WHERE id = ?'),
      insert: db.prepare<[string, string, number, string]>(
        "INSERT INTO shifts (id, status, opened_at, opening_cash, doc) VALUES (?, 'open', ?, ?, ?)",
      ),
      close: db.prepare<[string, string, string]>(
        "UPDATE shifts SET status = 'closed', closed_at = ?, doc = ? WHERE id = ? AND status = 'open'",
      ),
      unresolved: db.prepare<[], { n: number }>(
        "SELECT count(*) AS n FROM payments WHERE status IN ('pending', 'unknown')",
      ),
    };
  }

  current(): ShiftRecord | undefined {
    const row = this.stmt.open.get();
    return row ? toShift(row) : undefined;
  }

  get(id: string): ShiftRecord | undefined {
    const row = this.stmt.byId.get(id);
    return row ? toShift(row) : undefined;
  }

  insert(id: string, at: string, openingCash: number, openedSeq: number, auto: boolean): void {
    this.stmt.insert.run(id, at, openingCash, JSON.stringify({ openedSeq, auto }));
  }

  close(
    shift: ShiftRecord,
    at: string,
    closedSeq: number,
    closing: NonNullable<ShiftRecord['closing']>,
  ): void {
    const doc = { openedSeq: shift.openedSeq, closedSeq, auto: shift.auto, closing };
    this.stmt.close.run(at, JSON.stringify(doc), shift.id);
  }

  unresolvedPayments(): number {
    return this.stmt.unresolved.get()!.n;
  }
}

function toShift(row: Row): ShiftRecord {
  const doc = JSON.parse(row.doc) as {
    openedSeq?: number;
    closedSeq?: number;
    auto?: boolean;
    closing?: ShiftRecord['closing'];
  };
  const shift: ShiftRecord = {
    id: row.id,
    status: row.status,
    openedAt: row.opened_at,
    closedAt: row.closed_at,
    openingCash: row.opening_cash,
    openedSeq: doc.openedSeq ?? 0,
    closedSeq: doc.closedSeq ?? null,
    auto: doc.auto ?? false,
  };
  if (doc.closing) shift.closing = doc.closing;
  return shift;
}
