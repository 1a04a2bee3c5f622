import { api, newIdempotencyKey } from './api.js';
import type { RefundActions } from './cashier-actions.js';
import { type CashierContext, fetchSale } from './cashier-context.js';
import type { Payment, SaleView } from './cashier-state.js';
import type { StringKey } from './i18n.js';
import { formatMoney } from './money.js';
import type { RecentSales } from './recent-sales.js';
import { channelName } from './recent-view.js';

export const REFUND_REASONS: readonly StringKey[] = [
  'reasonReturn',
  'reasonQuality',
  'reasonMistake',
  'reasonOther',
];

/**
 * Refunding lines of a completed sale from the recent list: quantities with their amounts, the
 * total, a reason, one request; then where the money goes, per channel.
 */
export class RefundFlow implements RefundActions {
  /** The refund whose result is on screen while part of it still waits for the acquirer. */
  private waiting: { refundId: string; total: number } | undefined;

  constructor(
    private readonly c: CashierContext,
    private readonly recent: RecentSales,
  ) {}

  async startRefund(saleId: string): Promise<void> {
    const s = this.c.s;
    try {
      const sale = await fetchSale(saleId);
      const done = new Map<number, { qty: number; amount: number }>();
      for (const r of sale.refunds) {
        const refund = await fetchSale(r.saleId);
        if (refund.status === 'voided') continue; // nothing went back
        for (const l of refund.lines) {
          const d = done.get(l.lineNo) ?? { qty: 0, amount: 0 };
          done.set(l.lineNo, { qty: d.qty + l.qty, amount: d.amount + l.net });
        }
      }
      s.refundSale = sale;
      s.refundDone = done;
      s.refundQty = new Map();
      s.refundReason = undefined;
      s.screen = 'refund';
    } catch (err) {
      this.c.fail(err);
      return;
    }
    this.c.render();
  }

  refundQty(lineNo: number, delta: number): void {
    const s = this.c.s;
    const line = s.refundSale?.lines.find((l) => l.lineNo === lineNo);
    if (!line) return;
    const left = line.qty - (s.refundDone.get(lineNo)?.qty ?? 0);
    const next = Math.max(0, Math.min(left, (s.refundQty.get(lineNo) ?? 0) + delta));
    s.refundQty.set(lineNo, next);
    this.c.render();
  }

  setReason(reason: StringKey): void {
    this.c.s.refundReason = this.c.t.t(reason);
    this.c.render();
  }

  async confirmRefund(): Promise<void> {
    const s = this.c.s;
    const sale = s.refundSale;
    const lines = [...s.refundQty].filter(([, q]) => q > 0).map(([lineNo, qty]) => ({ lineNo, qty }));
    if (!sale || lines.length === 0) return;
    if (!s.refundReason) {
      this.c.say(this.c.t.t('reasonNeeded'));
      return;
    }
    try {
      const r = await api<{ refundId: string; total: number }>(
        'POST',
        `/api/v1/sales/${sale.saleId}/refunds`,
        { lines, reason: s.refundReason },
        { idempotencyKey: newIdempotencyKey() },
      );
      const refund = await fetchSale(r.refundId);
      await this.recent.showRecent();
      this.showResult(refund, r.total);
    } catch (err) {
      this.c.fail(err);
      return;
    }
    this.c.render();
  }

  /** A `sale.updated` of the refund on screen: its channels' outcome replaces "waiting". */
  onSaleUpdated(d: Record<string, unknown>): void {
    const waiting = this.waiting;
    if (!waiting || d.saleId !== waiting.refundId) return;
    if (this.c.s.dialog?.testId !== 'refund-done') {
      this.waiting = undefined;
      return;
    }
    void fetchSale(waiting.refundId).then(
      (refund) => {
        if (this.c.s.dialog?.testId !== 'refund-done') return;
        this.showResult(refund, waiting.total);
        this.c.render();
      },
      () => undefined,
    );
  }

  /** Where the money goes, channel by channel: cash to hand back, or back to the customer's wallet. */
  private showResult(refund: SaleView, total: number): void {
    const { s, t } = this.c;
    const pending = refund.payments.some((p) => p.status !== 'refunded' && p.status !== 'failed');
    this.waiting = pending ? { refundId: refund.saleId, total } : undefined;
    const cash = refund.payments.filter((p) => p.method === 'cash').reduce((sum, p) => sum + p.amount, 0);
    const lines = refund.payments.filter((p) => p.method !== 'cash').map((p) => this.channelLine(p));
    s.dialog = {
      testId: 'refund-done',
      title: t.t('refundDone', { a: formatMoney(total) }),
      lines,
      ...(cash > 0 ? { emphasis: t.t('returnCash', { a: formatMoney(cash) }) } : {}),
      yes: t.t('ok'),
    };
  }

  private channelLine(p: Payment): string {
    const t = this.c.t;
    const vars = { c: channelName(p.channel, t), a: formatMoney(p.amount) };
    if (p.method === 'card') return t.t('refundCard', vars);
    if (p.status === 'refunded') return t.t(p.method === 'member' ? 'refundMember' : 'refundBack', vars);
    if (p.status === 'failed') return t.t('refundRefused', vars);
    return t.t('refundPending', vars);
  }
}
