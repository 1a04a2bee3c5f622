import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { OutboxSummary } from '../../../src/offline/outbox-summary.js';
import { tempDir } from '../../helpers/daemon.js';
import { silentLogger } from '../../helpers/test-log.js';

// The outbox figures (offline limit, status badge, P/up/state) are kept by counting only what
// changed; they must always equal a count of the whole outbox.

/** The figures as a scan of every row above the ack computes them. */
function scanned(db: Db) {
  const ack = db.prepare<[], { a: number }>('SELECT acked_up_to AS a FROM ledger_head').get()!.a;
  const row = db
    .prepare<[number], { records: number; sales: number; total: number }>(
      `SELECT count(*) AS records, count(CASE WHEN type = 'sale.completed' THEN 1 END) AS sales,
              coalesce(sum(CASE WHEN type = 'sale.completed' THEN json_extract(body, '$.total') END), 0) AS total
         FROM ledger WHERE seq > ? AND sync <> 'rejected'`,
    )
    .get(ack)!;
  const first = db
    .prepare<[number], { at: string }>(
      "SELECT at FROM ledger WHERE seq > ? AND sync <> 'rejected' ORDER BY seq LIMIT 1",
    )
    .get(ack);
  return { ...row, oldest: first?.at };
}

type Op =
  | { kind: 'sales'; totals: number[]; other: boolean }
  | { kind: 'rollback'; totals: number[]; again: number[] }
  | { kind: 'ack'; ahead: number; rejects: number[]; rolledBack: boolean }
  | { kind: 'restore'; storedUpTo: number }
  | { kind: 'prune' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('sales' as const),
    totals: fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 4 }),
    other: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('rollback' as const),
    totals: fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 3 }),
    again: fc.array(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 3 }),
  }),
  fc.record({
    kind: fc.constant('ack' as const),
    ahead: fc.integer({ min: 0, max: 8 }),
    rejects: fc.array(fc.integer({ min: 1, max: 8 }), { maxLength: 2 }),
    rolledBack: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('restore' as const), storedUpTo: fc.integer({ min: 0, max: 10 }) }),
  fc.constant({ kind: 'prune' as const }),
);

function apply(ledger: Ledger, o: Op, clock: { t: number }): void {
  const tick = () => {
    clock.t += 1000;
  };
  switch (o.kind) {
    case 'sales':
      ledger.transact(() => {
        for (const total of o.totals) ledger.append('sale.completed', { total });
        if (o.other) ledger.append('shift.opened', { total: 999 });
      });
      tick();
      return;
    case 'rollback':
      expect(() =>
        ledger.transact(() => {
          for (const total of o.totals) ledger.append('sale.completed', { total });
          ledger.figures(); // counted inside the transaction that is then rolled back
          throw new Error('refused');
        }),
      ).toThrow();
      // The same seqs again, other sales, before anyone reads the figures.
      if (o.again.length > 0)
        ledger.transact(() => {
          for (const total of o.again) ledger.append('sale.completed', { total });
        });
      return;
    case 'ack': {
      const upTo = ledger.ackedUpTo() + o.ahead;
      ledger.markSent(1, upTo);
      const rejected = o.rejects.map((d) => ({ seq: ledger.ackedUpTo() + d, code: 'X', message: 'no' }));
      if (!o.rolledBack) {
        ledger.applyAck(upTo, rejected);
        return;
      }
      // Read inside a transaction that then rolls the ack and its rejects back.
      expect(() =>
        ledger.transact(() => {
          ledger.applyAck(upTo, rejected);
          ledger.figures();
          throw new Error('refused');
        }),
      ).toThrow();
      return;
    }
    case 'restore':
      ledger.moveToNewEpoch(Math.min(o.storedUpTo, ledger.ackedUpTo()), 'restored');
      return;
    case 'prune':
      ledger.prune(new Date(clock.t));
      return;
  }
}

describe('outbox figures', () => {
  it('equal a scan of the whole outbox after any appends, rollbacks, acks with rejects, restores and prunes', () => {
    fc.assert(
      // Figures read after some steps only: what changed between two reads must be seen too.
      fc.property(fc.array(fc.tuple(op, fc.boolean()), { minLength: 1, maxLength: 30 }), (steps) => {
        const dir = tempDir();
        const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
        const clock = { t: Date.parse('2026-12-06T08:00:00Z') };
        const ledger = new Ledger({ db, dir, now: () => new Date(clock.t) });
        try {
          for (const [i, [o, read]] of steps.entries()) {
            apply(ledger, o, clock);
            if (!read && i < steps.length - 1) continue;
            const want = scanned(db);
            const f = ledger.figures();
            expect(f.outboxDepth).toBe(want.records);
            expect(f.oldestUnsyncedAt).toBe(want.oldest);
            expect(ledger.unsyncedSales()).toEqual({ amount: want.total, count: want.sales });
          }
        } finally {
          db.close();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('an ack read inside a transaction that rolled back, then another reject at a higher ack: the counts start over', () => {
    const dir = tempDir();
    const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
    const ledger = new Ledger({ db, dir });
    ledger.transact(() => {
      for (let i = 0; i < 5; i++) ledger.append('sale.completed', { total: 100 });
    });
    expect(ledger.unsyncedSales()).toEqual({ amount: 500, count: 5 });
    expect(() =>
      ledger.transact(() => {
        ledger.applyAck(3, [{ seq: 3, code: 'X', message: 'no' }]);
        ledger.unsyncedSales(); // counted at ack 3 with one reject, then rolled back
        throw new Error('refused');
      }),
    ).toThrow();
    // As many rejected rows as then, the ack past the rolled-back one, no read between.
    ledger.applyAck(4, [{ seq: 4, code: 'X', message: 'no' }]);
    expect(ledger.unsyncedSales()).toEqual({ amount: 100, count: 1 });
    expect(ledger.figures().outboxDepth).toBe(scanned(db).records);
    db.close();
  });

  it('an offline day of sales is counted from the rows appended or acked since, not the whole outbox', () => {
    const dir = tempDir();
    const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
    const ledger = new Ledger({ db, dir });
    ledger.transact(() => {
      for (let i = 0; i < 2000; i++) ledger.append('sale.completed', { total: 100 });
    });
    // The summary's own statements, each run's seq range logged.
    const ranges: Array<[number, number]> = [];
    const watched = new Proxy(db, {
      get(target, key, receiver) {
        if (key !== 'prepare') return Reflect.get(target, key, receiver);
        return (sql: string) => {
          const stmt = target.prepare(sql);
          if (!sql.includes('seq <= ?')) return stmt;
          return {
            get: (from: number, to: number) => {
              ranges.push([from, to]);
              return stmt.get(from, to);
            },
          };
        };
      },
    });
    const summary = new OutboxSummary(watched);
    expect(summary.read(0, 2000)).toEqual({ records: 2000, sales: 2000, salesTotal: 200_000 });
    ledger.transact(() => ledger.append('sale.completed', { total: 50 }));
    expect(summary.read(0, 2001)).toEqual({ records: 2001, sales: 2001, salesTotal: 200_050 });
    ledger.applyAck(1990, []);
    expect(summary.read(1990, 2001)).toEqual({ records: 11, sales: 11, salesTotal: 1_050 });
    expect(summary.read(1990, 2001).records).toBe(ledger.figures().outboxDepth);
    expect(ranges).toEqual([
      [0, 2000],
      [2000, 2001],
      [0, 1990],
    ]);
    db.close();
  });
});
