import type { IncomingMessage } from 'node:http';
import { PosError } from '../errors.js';
import type { Db } from '../offline/db.js';

/** Requests that start money moving (a sale with tenders, a payment, a refund, a recharge, an order's checkout). */
const MONEY_ROUTES: readonly RegExp[] = [
  /^\/api\/v1\/sales$/,
  /^\/api\/v1\/sales\/[^/]+\/(payments|refunds)$/,
  /^\/api\/v1\/members\/[^/]+\/recharges$/,
  /^\/api\/v1\/orders\/[^/]+\/checkout$/,
];

/** What a restart into an update closes, so that no money starts moving between the check and the reboot. */
export interface MoneyHold {
  /** From now on new money is refused (`UPDATE_RESTARTING`). */
  close(version: string | undefined): void;
  /** The reboot did not happen: selling goes on. */
  open(): void;
  readonly closed: boolean;
  /** HttpServer guard: refuses the requests that start money while closed. */
  guard(req: IncomingMessage): void;
}

/**
 * Two locks: the HTTP guard gives the cashier and apps a clear `UPDATE_RESTARTING`; a TEMP trigger
 * on this connection (never on disk, gone with the process) refuses any payment or recharge row a
 * request already past the guard would still write. The paymentId is committed before any request
 * to the acquirer, so a refused insert means no money moved.
 */
export function moneyHold(db: Db): MoneyHold {
  let closed = false;
  let version: string | undefined;
  const drop = () => {
    db.exec(
      'DROP TRIGGER IF EXISTS temp.update_hold_payments; DROP TRIGGER IF EXISTS temp.update_hold_recharges',
    );
  };
  return {
    get closed() {
      return closed;
    },
    close(v) {
      closed = true;
      version = v;
      drop();
      db.exec(`
        CREATE TEMP TRIGGER update_hold_payments BEFORE INSERT ON main.payments
          BEGIN SELECT RAISE(ABORT, 'UPDATE_RESTARTING: the terminal is restarting into an update'); END;
        CREATE TEMP TRIGGER update_hold_recharges BEFORE INSERT ON main.recharges
          BEGIN SELECT RAISE(ABORT, 'UPDATE_RESTARTING: the terminal is restarting into an update'); END;`);
    },
    open() {
      closed = false;
      drop();
    },
    guard(req) {
      if (!closed || req.method !== 'POST') return;
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (!MONEY_ROUTES.some((r) => r.test(path))) return;
      throw new PosError(
        'UPDATE_RESTARTING',
        `the terminal is restarting into update${version ? ` ${version}` : ''}: take payments again in a minute`,
        { version },
      );
    },
  };
}
