import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  /**
   * Code of the previous schema reads and writes the database as well after this migration
   * (decision 0007: new tables, nullable or defaulted columns, new indexes; nothing renamed,
   * dropped or tightened). Absent: older code must refuse the database.
   */
  additive?: boolean;
  up(db: Database.Database): void;
}
