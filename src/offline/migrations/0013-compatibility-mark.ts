import type { Migration } from './migration.js';

/**
 * From here on the database says which code may still use it (decision 0007): `meta`
 * `compatible_down_to`, kept by `migrate`. Code before this version refuses any newer database,
 * so this one cannot be additive; later additive ones leave the mark at 13.
 */
export const compatibilityMarkMigration: Migration = {
  version: 13,
  name: 'compatibility-mark',
  up() {
    // The mark itself is written by migrate() after each migration.
  },
};
