import { api } from './api.js';
import type { CashierState, SaleView } from './cashier-state.js';
import type { I18n } from './i18n.js';

/** What every part of the cashier screen shares: the one state object, the strings, the toast. */
export interface CashierContext {
  readonly s: CashierState;
  readonly t: I18n;
  /** Draws the whole screen again from the state. */
  render(): void;
  /** A note in the toast; it goes by itself after a while. */
  say(message: string | undefined, code?: string): void;
  /** An error in the toast, in words (the code small); a lost session (401) goes back to sign-in. */
  fail(err: unknown, sentence?: string): void;
}

/** Asks the daemon to print (a receipt again, a shift report); the toast says it is queued. */
export async function requestPrint(c: CashierContext, path: string): Promise<void> {
  try {
    await api<{ jobId: string }>('POST', path);
    c.say(c.t.t('printQueued'));
  } catch (err) {
    c.fail(err);
  }
}

/** A sale (or refund) as the daemon has it now. */
export function fetchSale(saleId: string): Promise<SaleView> {
  return api<SaleView>('GET', `/api/v1/sales/${encodeURIComponent(saleId)}`);
}
