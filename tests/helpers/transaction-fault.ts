import type { Db } from '../../src/offline/db.js';

/**
 * What an I/O error or a full disk does to SQLite: the whole transaction ends, not only the
 * statement. Every insert into `table` (where `when` holds, a condition on NEW) does that from now
 * on, until the returned function lifts it.
 */
export function endTransactionOnInsert(db: Db, table: string, when?: string): () => void {
  const name = `fault_${table}`;
  db.exec(
    `CREATE TEMP TRIGGER ${name} BEFORE INSERT ON ${table} ${when ? `WHEN ${when} ` : ''}BEGIN SELECT RAISE(ROLLBACK, 'disk I/O error'); END`,
  );
  return () => db.exec(`DROP TRIGGER ${name}`);
}

/** A table of its own whose every insert ends the transaction; returns that insert. */
export function poisonedInsert(db: Db): () => void {
  db.exec('CREATE TABLE poison (x)');
  endTransactionOnInsert(db, 'poison');
  const insert = db.prepare('INSERT INTO poison VALUES (1)');
  return () => void insert.run();
}
