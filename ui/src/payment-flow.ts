import { ApiError, api, newIdempotencyKey } from './api.js';
import type { PaymentActions } from './cashier-actions.js';
import { type CashierContext, fetchSale } from './cashier-context.js';
import { hasPrinter, type SaleView, type Tender } from './cashier-state.js';
import { errorSentence, paymentReasonSentence } from './error-text.js';
import { formatMoney, parseYuan, toYuanText } from './money.js';
import { cashKept } from './recent-sales.js';
import { StartKeys } from './start-keys.js';
import type { TerminalStatus } from './terminal-status.js';

/** Whether money was taken (or may be under way) on the sale: then it cannot go back to the cart. */
export function moneyTaken(sale: SaleView): boolean {
  return sale.payments.some((p) => ['succeeded', 'pending', 'unknown'].includes(p.status));
}

/**
 * Paying the open sale. Cash and card are answered at once; code, QR and member payments start here
 * and end with a `payment.updated` event. The sale is settled when the daemon says it is.
 */
export class PaymentFlow implements PaymentActions {
  /** Payment outcomes that arrived before the reply that named the payment. */
  private readonly earlyOutcomes = new Map<string, Record<string, unknown>>();
  private readonly startKeys = new StartKeys();

  constructor(
    private readonly c: CashierContext,
    private readonly status: TerminalStatus,
  ) {}

  /** The sale just made from the cart (`s.sale`) goes to the pay screen, cash first. */
  begin(): void {
    const s = this.c.s;
    s.keypad = '';
    s.tender = 'cash';
    s.tenderNote = undefined;
    s.message = undefined;
    s.screen = 'pay';
    if (s.sale && s.sale.status !== 'open') this.settled();
  }

  /** The sale is paid (or voided): show the result and put it in the recent list. */
  settled(): void {
    const s = this.c.s;
    const sale = s.sale!;
    s.screen = sale.status === 'completed' ? 'done' : 'sell';
    if (sale.status !== 'completed') {
      s.sale = undefined;
      s.cart.clear();
    } else void this.status.loadPrintJobs();
  }

  /** The open sale as the daemon has it now; settled when it no longer is open. */
  async refreshSale(): Promise<void> {
    const s = this.c.s;
    if (!s.sale) return;
    try {
      s.sale = await fetchSale(s.sale.saleId);
      if (s.screen === 'pay' && s.sale.status !== 'open') this.settled();
      this.c.render();
    } catch (err) {
      this.c.fail(err);
    }
  }

  /** A `payment.updated` event for the open sale. */
  async onPayment(d: Record<string, unknown>): Promise<void> {
    const s = this.c.s;
    if (s.pending?.paymentId !== d.paymentId) {
      // The outcome can beat the reply to our own request (a code paid at once): keep it for then.
      if (d.status !== 'pending') this.earlyOutcomes.set(String(d.paymentId), d);
      if (!s.pending && d.status !== 'pending' && d.status !== 'unknown') this.startKeys.forget();
      return;
    }
    if (d.status === 'succeeded') {
      const byMember = s.pending?.method === 'member';
      s.pending = undefined;
      if (byMember) await this.refreshMemberBalance();
      await this.refreshSale();
    } else if (d.status !== 'pending') {
      // Reversed: the customer never confirmed on the phone and the daemon took it back.
      s.tenderNote =
        d.status === 'reversed' ? this.c.t.t('paymentReversed') : this.failureText(d.reason ?? d.status);
      s.pending = undefined;
      this.c.render();
    }
  }

  /** A payment code from the scanner: taken on the pay screen when no payment is under way. */
  async onCodeScanned(code: string): Promise<void> {
    const s = this.c.s;
    if (s.screen === 'pay' && !s.pending) {
      s.tender = 'code';
      await this.startCode(code);
    }
  }

  chooseTender(tender: Tender): void {
    const s = this.c.s;
    if (s.pending) return;
    s.tender = tender;
    s.keypad = '';
    s.tenderNote = undefined;
    this.c.render();
  }

  /** A quick amount only fills the tendered field: 确认收款 takes it, so a mis-tap moves no money. */
  fillCash(amount: number): void {
    this.c.s.keypad = toYuanText(amount);
    this.c.render();
  }

  /** Back to the cart to change it; the open sale is kept and re-priced at the next 收款. */
  backToCart(): void {
    const s = this.c.s;
    const sale = s.sale;
    if (!sale || s.pending) return;
    if (moneyTaken(sale)) {
      this.c.say(this.c.t.t('backAfterPayment', { a: formatMoney(sale.paid) }));
      return;
    }
    s.keypad = '';
    s.tenderNote = undefined;
    s.screen = 'sell';
    this.c.render();
  }

  async payCash(): Promise<void> {
    const s = this.c.s;
    const sale = s.sale;
    const value = parseYuan(s.keypad);
    if (!sale || value === undefined || value <= 0) return;
    try {
      await this.payAtOnce(sale, 'cash', value);
      s.keypad = '';
      s.sale = await fetchSale(sale.saleId);
      if (s.sale.status !== 'open') this.settled();
    } catch (err) {
      this.c.fail(err);
      return;
    }
    this.c.render();
  }

  async payCard(): Promise<void> {
    const sale = this.c.s.sale;
    if (!sale) return;
    try {
      await this.payAtOnce(sale, 'card', sale.due);
      await this.refreshSale();
    } catch (err) {
      if (!this.markUnavailable('card', err)) this.c.fail(err);
    }
  }

  /** A payment code typed by hand: 10 to 30 digits, else the cashier is told what is wrong. */
  async payCode(): Promise<void> {
    const s = this.c.s;
    const code = s.keypad;
    if (!/^\d{10,30}$/.test(code)) {
      s.tenderNote = this.c.t.t('codeTooShort', { n: code.length });
      this.c.render();
      return;
    }
    s.keypad = '';
    await this.startCode(code);
  }

  async payQr(channel: 'wechat' | 'alipay'): Promise<void> {
    await this.startPending('qr', { channel }, 'showQr');
  }

  /** Stored value of the member scanned for this sale: charged like a payment code. */
  async payMember(): Promise<void> {
    const s = this.c.s;
    const member = s.member;
    if (!member || s.pending) return;
    await this.startPending('member', { memberCode: member.code }, 'waitingPayment');
  }

  async cancelQr(): Promise<void> {
    const s = this.c.s;
    const pending = s.pending;
    if (!pending) return;
    try {
      const r = await api<{ status?: string }>('POST', `/api/v1/payments/${pending.paymentId}/cancel`);
      // 202 closing: the daemon retries the close; the QR stays pending until its outcome arrives.
      if (r.status === 'closing') return this.c.say(this.c.t.t('qrClosing'));
      s.pending = undefined;
      await this.refreshSale();
    } catch (err) {
      this.c.fail(err);
    }
  }

  /**
   * 取消交易: with nothing paid it voids at once; after a cash part it asks first, naming the cash
   * to hand back, and says it again once voided (the daemon records the void with `cashReturned`).
   */
  async cancelSale(): Promise<void> {
    const { s, t } = this.c;
    const sale = s.sale;
    if (!sale) return;
    const cash = cashKept(sale);
    if (cash === 0) return this.voidOpenSale(0);
    s.dialog = {
      testId: 'cancel-confirm',
      title: t.t('cancelAsk'),
      lines: [t.t('cancelPaid', { a: formatMoney(cash) })],
      emphasis: t.t('returnCash', { a: formatMoney(cash) }),
      yes: t.t('cancelYes'),
      no: t.t('cancelNo'),
      danger: true,
      onYes: () => this.voidOpenSale(cash),
    };
    this.c.render();
  }

  private async voidOpenSale(cash: number): Promise<void> {
    const { s, t } = this.c;
    const sale = s.sale;
    if (!sale) return;
    try {
      s.sale = await api<SaleView>('POST', `/api/v1/sales/${sale.saleId}/void`, {
        reason: t.t('voidReasonCancel'),
      });
      this.settled();
      s.screen = 'sell';
      if (cash > 0) {
        s.dialog = {
          testId: 'cancel-done',
          title: t.t('cancelDone'),
          lines: hasPrinter(s) ? [t.t('voidSlip')] : [],
          emphasis: t.t('returnCash', { a: formatMoney(cash) }),
          yes: t.t('cashReturned'),
        };
      }
    } catch (err) {
      await this.voidRefused(sale.saleId, err);
      return;
    }
    this.c.render();
  }

  /**
   * A cancel the daemon refused: a code, QR or member payment still being confirmed is said as
   * such (not "captured"); one that went through needs a refund.
   */
  private async voidRefused(saleId: string, err: unknown): Promise<void> {
    if (!(err instanceof ApiError && err.code === 'VOID_NOT_ALLOWED')) return this.c.fail(err);
    const sale = await fetchSale(saleId).catch(() => undefined);
    if (sale) this.c.s.sale = sale;
    const nonCash = (sale?.payments ?? []).filter((p) => p.method !== 'cash');
    const t = this.c.t;
    if (this.c.s.pending || nonCash.some((p) => p.status === 'pending' || p.status === 'unknown'))
      this.c.fail(err, t.t('voidWhilePending'));
    else if (nonCash.some((p) => p.status === 'succeeded')) this.c.fail(err, t.t('voidCaptured'));
    else this.c.fail(err);
  }

  /** The member's stored value after a payment from it: the done screen shows what is left. */
  private async refreshMemberBalance(): Promise<void> {
    const m = this.c.s.member;
    if (!m?.code) return;
    try {
      const found = await api<{ balance?: number }>('POST', '/api/v1/members/lookup', { code: m.code });
      if (found.balance !== undefined) m.balance = found.balance;
    } catch {
      if (m.balance !== undefined && this.c.s.sale) m.balance -= this.c.s.sale.due; // the cloud is gone: computed
    }
  }

  /** Why a payment failed, in words: the acquirer's reason, or the member's balance too low. */
  private failureText(reason: unknown): string {
    const s = this.c.s;
    const lang = this.c.t.lang;
    const r = String(reason ?? 'FAILED');
    const member = s.member;
    if (
      s.pending?.method === 'member' &&
      member?.balance !== undefined &&
      s.sale &&
      member.balance < s.sale.due
    )
      return this.c.t.t('paymentFailed', {
        r: paymentReasonSentence('MEMBER_BALANCE', lang, { balance: formatMoney(member.balance) }),
      });
    return this.c.t.t('paymentFailed', { r: paymentReasonSentence(r, lang) });
  }

  /** Cash or card: recorded at once, under a key of its own so a retry never pays twice. */
  private payAtOnce(sale: SaleView, method: 'cash' | 'card', amount: number): Promise<unknown> {
    return api(
      'POST',
      `/api/v1/sales/${sale.saleId}/payments`,
      { method, amount },
      { idempotencyKey: newIdempotencyKey() },
    );
  }

  private startCode(authCode: string): Promise<void> {
    return this.startPending('code', { authCode }, 'waitingPayment');
  }

  /** Asks the daemon for a code, QR or member payment; its outcome arrives as events. */
  private async startPending(
    tender: 'code' | 'qr' | 'member',
    body: Record<string, unknown>,
    note: 'waitingPayment' | 'showQr',
  ): Promise<void> {
    const s = this.c.s;
    const sale = s.sale;
    if (!sale) return;
    const start = JSON.stringify([sale.saleId, tender, body]);
    const key = this.startKeys.keyFor(start);
    try {
      const r = await api<{ paymentId: string }>(
        'POST',
        `/api/v1/sales/${sale.saleId}/payments`,
        { method: tender, ...body },
        { idempotencyKey: key },
      );
      this.startKeys.forget();
      s.pending = { paymentId: r.paymentId, method: tender };
      s.tenderNote = this.c.t.t(note);
      await this.replayEarlyOutcome(r.paymentId);
      // A replayed answer is the first one (`pending`): what became of the payment since is asked.
      await this.catchUp(r.paymentId);
    } catch (err) {
      this.startKeys.failed(start, key, err);
      if (!this.markUnavailable(tender, err)) this.c.fail(err);
    }
    this.c.render();
  }

  /** The payment as the daemon has it now, when its outcome event may have gone before the page knew it. */
  private async catchUp(paymentId: string): Promise<void> {
    if (this.c.s.pending?.paymentId !== paymentId) return;
    try {
      const p = await api<Record<string, unknown>>(
        'GET',
        `/api/v1/payments/${encodeURIComponent(paymentId)}`,
      );
      const codeUrl = (p.doc as Record<string, unknown> | undefined)?.codeUrl;
      if (p.status !== 'pending')
        await this.onPayment({ ...p, ...(typeof codeUrl === 'string' ? { codeUrl } : {}) });
    } catch {
      // Its events still tell.
    }
  }

  private async replayEarlyOutcome(paymentId: string): Promise<void> {
    const early = this.earlyOutcomes.get(paymentId);
    this.earlyOutcomes.clear();
    if (early) await this.onPayment(early);
  }

  private markUnavailable(tender: 'code' | 'qr' | 'card' | 'member', err: unknown): boolean {
    if (err instanceof ApiError && (err.notAvailable || err.code === 'OFFLINE_LIMIT')) {
      const s = this.c.s;
      s.tenders[tender] = 'no';
      s.tender = 'cash';
      s.tenderNote = this.c.t.t('tenderOff', {
        t: this.c.t.t(tender),
        r: errorSentence(err.code, this.c.t.lang) ?? this.c.t.t('notAvailable'),
      });
      this.c.render();
      return true;
    }
    return false;
  }
}
