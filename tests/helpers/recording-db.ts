import type { Db } from '../../src/offline/db.js';

/** What statements run through a db: their SQL, and the most rows one call returned. */
export interface DbRecord {
  ran: Set<string>;
  maxRows: Map<string, number>;
}

/** The db, with every statement run through it (run, get, all, iterate) recorded. */
export function recordingDb(db: Db): { db: Db; record: DbRecord } {
  const record: DbRecord = { ran: new Set(), maxRows: new Map() };
  const note = (sql: string, rows: number) => {
    record.ran.add(sql);
    record.maxRows.set(sql, Math.max(rows, record.maxRows.get(sql) ?? 0));
  };
  const prepare = (sql: string) => {
    const stmt = db.prepare(sql);
    return new Proxy(stmt, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function') return v;
        if (prop === 'run' || prop === 'get' || prop === 'all' || prop === 'iterate')
          return (...args: unknown[]) => {
            const out = v.apply(target, args);
            note(sql, Array.isArray(out) ? out.length : out === undefined ? 0 : 1);
            return out;
          };
        return v.bind(target);
      },
    });
  };
  return {
    db: new Proxy(db, { get: (t, p, r) => (p === 'prepare' ? prepare : Reflect.get(t, p, r)) }),
    record,
  };
}

/** SQLite's query plan of a statement, one line ('; ' between steps); parameters read as ''. */
export function queryPlan(db: Db, sql: string): string {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql.replaceAll('?', "''")}`).all() as { detail: string }[])
    .map((r) => r.detail)
    .join('; ');
}
