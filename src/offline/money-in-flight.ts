import type { Db } from './db.js';

export interface InFlight {
  /** Open sales (or refunds) holding a payment that took (or may have taken) money. */
  openSalesWithPayments: number;
  /** Print jobs the printer is printing now. */
  printing: number;
  /** Stored-value recharges taken (cash in the drawer) that the cloud has not answered yet. */
  rechargesPending: number;
}

/** What would be cut short by a reboot now, read straight from the ledger database. */
export class MoneyInFlightStore {
  private readonly stmt;

  constructor(db: Db) {
    this.stmt = {
      openWithPayments: db.prepare<[], { n: number }>(
        `SELECT count(*) AS n FROM sales s
          WHERE s.status = 'open' AND EXISTS (SELECT 1 FROM payments p WHERE p.sale_id = s.id
            AND p.status NOT IN ('failed', 'closed', 'reversed'))`,
      ),
      printing: db.prepare<[], { n: number }>(
        "SELECT count(*) AS n FROM print_jobs WHERE status = 'printing'",
      ),
      rechargesPending: db.prepare<[], { n: number }>(
        "SELECT count(*) AS n FROM recharges WHERE status = 'pending'",
      ),
    };
  }

  figures(): InFlight {
    return {
      openSalesWithPayments: this.stmt.openWithPayments.get()?.n ?? 0,
      printing: this.stmt.printing.get()?.n ?? 0,
      rechargesPending: this.stmt.rechargesPending.get()?.n ?? 0,
    };
  }
}
