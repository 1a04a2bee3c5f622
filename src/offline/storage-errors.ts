import { accessSync, constants } from 'node:fs';
import { describeError, isPosError, PosError } from '../errors.js';

/**
 * Turns SQLite's I/O failures into coded errors the cashier can act on. A failed write leaves the
 * transaction rolled back: what was committed before is untouched.
 */
export function storageError(err: unknown, dir: string): unknown {
  if (isPosError(err)) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return err;
  if (code === 'SQLITE_FULL') {
    return new PosError(
      'STORAGE_FULL',
      'storage is full: the sale was not recorded; free space and retry',
      {},
      err,
    );
  }
  if (code.startsWith('SQLITE_READONLY') || !dirWritable(dir)) {
    return new PosError('STORAGE_READ_ONLY', 'storage is read-only: the sale was not recorded', {}, err);
  }
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_CORRUPT') {
    return new PosError('STORAGE_FAILED', `storage failed (${code}): nothing was recorded`, {}, err);
  }
  if (code === 'SQLITE_BUSY') {
    return new PosError('STORAGE_FAILED', `storage busy: ${describeError(err)}`, {}, err);
  }
  return err;
}

function dirWritable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'EROFS';
  }
}

/**
 * Inside a transaction: work nobody is refused for (a receipt's print job, a gift coupon). What it
 * throws goes to `failed`, except a fault that ended the transaction (a storage fault ends SQLite's
 * whole transaction, not the statement): swallowed, the rest would run on in autocommit, so it fails
 * the host.
 */
export function tolerateInTransaction(
  ledger: { readonly inTransaction: boolean },
  work: () => void,
  failed: (err: unknown) => void,
): void {
  try {
    work();
  } catch (err) {
    if (!ledger.inTransaction) throw err;
    failed(err);
  }
}
