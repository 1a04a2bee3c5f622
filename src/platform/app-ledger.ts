import type { LedgerRecord } from '../core/ledger-record.js';
import { Ledger, type LedgerOptions } from '../offline/ledger.js';

/** Which app a record is made for: the app whose request is running, or the app that made its sale. */
export class AppContext {
  private current: string | undefined;
  appOfSale: (saleId: string) => string | undefined = () => undefined;

  /** Runs `work` (synchronously) as `appId`'s. */
  during<T>(appId: string, work: () => T): T {
    return this.as(appId, work);
  }

  /** Runs `work` as no app's (a write riding in an app's transaction is not that app's). */
  outside<T>(work: () => T): T {
    return this.as(undefined, work);
  }

  private as<T>(appId: string | undefined, work: () => T): T {
    const previous = this.current;
    this.current = appId;
    try {
      return work();
    } finally {
      this.current = previous;
    }
  }

  appIdFor(body: Record<string, unknown>): string | undefined {
    if (this.current !== undefined) return this.current;
    return typeof body.saleId === 'string' ? this.appOfSale(body.saleId) : undefined;
  }
}

/**
 * The ledger, with `appId` in the body of every record made through a store app (platform-v1):
 * records of the request an app made, and later ones about a sale it made (a code payment's
 * outcome, a refund), even after a restart.
 */
export class AppTaggingLedger extends Ledger {
  constructor(
    options: LedgerOptions,
    private readonly context: AppContext,
  ) {
    super(options);
  }

  override ride(write: () => void, committed?: () => void): void {
    super.ride(() => this.context.outside(write), committed && (() => this.context.outside(committed)));
  }

  override append(type: string, body: Record<string, unknown>): LedgerRecord {
    if (body.appId !== undefined || type === 'app.installed' || type === 'app.removed')
      return super.append(type, body);
    const appId = this.context.appIdFor(body);
    return super.append(type, appId === undefined ? body : { ...body, appId });
  }
}
