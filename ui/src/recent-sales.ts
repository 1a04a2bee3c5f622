import { api } from './api.js';
import type { RecentActions } from './cashier-actions.js';
import { type CashierContext, fetchSale, requestPrint } from './cashier-context.js';
import { hasPrinter, type SaleView } from './cashier-state.js';
import { formatMoney } from './money.js';

const PAGE = 20;
const RECEIPT_TEXT = /^[A-Za-z0-9-]{1,40}$/;

/** Cash the customer gets back when a sale is voided: what its cash payments kept. */
export function cashKept(sale: SaleView): number {
  return sale.payments
    .filter((p) => p.method === 'cash' && p.status === 'succeeded')
    .reduce((sum, p) => sum + p.amount - p.change, 0);
}

/** Whether the daemon would void it: completed or open, paid in cash only, nothing refunded. */
export function voidable(sale: SaleView): boolean {
  const live = ['succeeded', 'pending', 'unknown'];
  return (
    sale.status !== 'voided' &&
    sale.refunds.length === 0 &&
    !sale.payments.some((p) => p.method !== 'cash' && live.includes(p.status))
  );
}

/**
 * The recent sales, read from the daemon's ledger (`GET /api/v1/sales`), so they survive a reload:
 * search by receipt number, reprint, void (after a question naming the money), refund (`RefundFlow`).
 */
export class RecentSales implements RecentActions {
  constructor(private readonly c: CashierContext) {}

  /** The first page again (or the search's result), as the daemon has it now. */
  async reload(): Promise<void> {
    const s = this.c.s;
    if (s.screen !== 'recent') return;
    const q = s.recentSearch;
    // A receipt number is letters, digits and '-': anything else matches nothing.
    if (q && !RECEIPT_TEXT.test(q)) {
      s.recent = [];
      s.recentNext = undefined;
      return;
    }
    const page = await api<{ sales: SaleView[]; next?: string }>(
      'GET',
      `/api/v1/sales?limit=${PAGE}${q ? `&q=${encodeURIComponent(q)}` : ''}`,
    );
    s.recent = page.sales;
    s.recentNext = page.next;
  }

  async more(): Promise<void> {
    const s = this.c.s;
    if (!s.recentNext) return;
    const q = s.recentSearch;
    try {
      const page = await api<{ sales: SaleView[]; next?: string }>(
        'GET',
        `/api/v1/sales?limit=${PAGE}&before=${encodeURIComponent(s.recentNext)}${q ? `&q=${encodeURIComponent(q)}` : ''}`,
      );
      s.recent = [...s.recent, ...page.sales];
      s.recentNext = page.next;
    } catch (err) {
      this.c.fail(err);
      return;
    }
    this.c.render();
  }

  setQuery(text: string): void {
    this.c.s.recentQuery = text;
  }

  async search(): Promise<void> {
    this.c.s.recentSearch = this.c.s.recentQuery.trim();
    await this.reloadAndRender();
  }

  /** The list read again from the daemon, then drawn; a failure is shown instead. */
  private async reloadAndRender(): Promise<void> {
    try {
      await this.reload();
    } catch (err) {
      this.c.fail(err);
      return;
    }
    this.c.render();
  }

  async clearSearch(): Promise<void> {
    this.c.s.recentQuery = '';
    await this.search();
  }

  /** One sale of the list as it is now (after a refund, a void, an event). */
  async refresh(saleId: string): Promise<void> {
    const s = this.c.s;
    const i = s.recent.findIndex((r) => r.saleId === saleId);
    if (i < 0) return;
    s.recent[i] = await fetchSale(saleId);
  }

  /** A `sale.updated` event: a listed sale changes in place; a new one shows at the top. */
  onSaleUpdated(d: Record<string, unknown>): void {
    const s = this.c.s;
    if (s.screen !== 'recent') return;
    const id = String(d.kind === 'refund' ? '' : d.saleId);
    const work = s.recent.some((r) => r.saleId === id) ? this.refresh(id) : this.reload();
    void work.then(
      () => this.c.render(),
      (err: unknown) => this.c.fail(err),
    );
  }

  async showRecent(): Promise<void> {
    const s = this.c.s;
    if (s.screen === 'pay') return;
    s.screen = 'recent';
    s.receiptImage = undefined;
    await this.reloadAndRender();
  }

  closeRecent(): void {
    this.c.s.receiptImage = undefined;
    this.c.s.screen = this.c.s.sale?.status === 'completed' ? 'done' : 'sell';
    this.c.render();
  }

  /** Shows the image of the sale's latest print job: what the paper shows (or would). */
  viewReceipt(saleId: string): void {
    const job = this.c.s.prints.get(saleId);
    this.c.s.receiptImage = job ? { saleId, jobId: job.jobId } : undefined;
    this.c.render();
  }

  closeReceipt(): void {
    this.c.s.receiptImage = undefined;
    this.c.render();
  }

  /** A completed sale's (or refund's) receipt again, marked as a reprint by the daemon. */
  async reprintSale(saleId: string): Promise<void> {
    await requestPrint(this.c, `/api/v1/sales/${encodeURIComponent(saleId)}/reprint`);
  }

  /** 作废 asks first, naming the sale, its amount and the cash to hand back. */
  voidSale(saleId: string): void {
    const { s, t } = this.c;
    const sale = s.recent.find((r) => r.saleId === saleId);
    if (!sale) return;
    const cash = cashKept(sale);
    s.dialog = {
      testId: 'void-confirm',
      title: t.t('voidAsk', { r: sale.receiptNo ?? '' }),
      lines: [
        t.t('voidWhat', { a: formatMoney(sale.total) }),
        cash > 0 ? t.t('voidCashBack', { a: formatMoney(cash) }) : t.t('voidNoCash'),
      ],
      yes: t.t('voidYes'),
      no: t.t('voidNo'),
      danger: true,
      onYes: () => this.confirmVoid(saleId),
    };
    this.c.render();
  }

  private async confirmVoid(saleId: string): Promise<void> {
    const { s, t } = this.c;
    try {
      const voided = await api<SaleView>('POST', `/api/v1/sales/${encodeURIComponent(saleId)}/void`, {
        reason: t.t('voidReasonVoid'),
      });
      await this.refresh(saleId);
      const cash = cashKept(voided);
      s.dialog = {
        testId: 'void-done',
        title: t.t('voidDone', { r: voided.receiptNo ?? '' }),
        lines: cash === 0 ? [t.t('voidNoCash')] : hasPrinter(s) ? [t.t('voidSlip')] : [],
        ...(cash > 0 ? { emphasis: t.t('returnCash', { a: formatMoney(cash) }) } : {}),
        yes: t.t('ok'),
      };
    } catch (err) {
      this.c.fail(err);
      return;
    }
    this.c.render();
  }
}
