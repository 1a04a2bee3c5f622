import { channelOfAuthCode } from '../core/payment-code.js';
import { dueForPayment } from '../core/sale.js';
import { PosError } from '../errors.js';
import { maskCode } from '../log.js';
import type { PaymentReversal } from '../offline/reversal-store.js';
import type { StoredPayment } from '../offline/sales-store.js';
import { runCode, runRule } from './code-payment.js';
import { PaymentCore, type PaymentServiceOptions } from './payment-core.js';
import { recordLateSuccess, startReversal } from './payment-reversal.js';
import { cancelQr, closeQr, runQr } from './qr-payment.js';
import { isClosedQr, watchQr } from './qr-watch.js';
import { runRefund } from './refund-sender.js';

export type { PaymentServiceOptions } from './payment-core.js';

/** The answer to a code, QR or member payment started: its outcome comes as events. */
export interface PendingReply {
  paymentId: string;
  status: 'pending';
}

/** Money the terminal still owes or has not settled, for the technician (doctor, health, diagnostics). */
export interface MoneyPending {
  /** Payments whose outcome is not known yet (they block their sale and the shift close). */
  unresolvedPayments: number;
  /** Reversals of QR payments paid after they were closed, not yet confirmed by the acquirer. */
  pendingReversals: Array<
    Pick<PaymentReversal, 'paymentId' | 'amount' | 'attempts' | 'lastError' | 'createdAt'>
  >;
}

/** What the unauthenticated /healthz may show: counts and the amount owed, no payment ids. */
export function moneySummary(m: MoneyPending): Record<string, unknown> {
  return {
    unresolvedPayments: m.unresolvedPayments,
    reversalsOwed: m.pendingReversals.length,
    reversalsOwedAmount: m.pendingReversals.reduce((s, r) => s + r.amount, 0),
  };
}

/**
 * Payments by the customer's code and by dynamic QR (mqtt-v1 "Code-payment rule"), the electronic
 * parts of refunds, and reversals of QR payments paid after they were closed. The paymentId is
 * committed before any request; a payment is shown paid only after SUCCESS; an outcome that cannot
 * be learnt is resolved (query, then reverse or close) until answered, across restarts and
 * reconnects. One unresolved payment per sale at a time.
 */
export class PaymentService {
  private readonly core: PaymentCore;

  constructor(options: PaymentServiceOptions) {
    this.core = new PaymentCore(options);
    options.cloud.onOnline(() => this.resumeUnresolved());
    options.refunds.setRefundProcessor((refundSaleId) => this.processRefund(refundSaleId));
  }

  /** Sends a refund sale's electronic refunds; each keeps its refundId on every retry. */
  processRefund(refundSaleId: string): void {
    this.core.track(`refund:${refundSaleId}`, () => runRefund(this.core, refundSaleId));
  }

  /**
   * Starts a payment by the customer's payment code; the outcome arrives as events. Under an
   * Idempotency-Key a retry gets the first reply and starts nothing (the code is charged once).
   */
  startCode(saleId: string, authCode: string, idempotencyKey?: string): PendingReply {
    const channel = channelOfAuthCode(authCode);
    if (!channel)
      throw new PosError('VALIDATION_FAILED', 'this is not a WeChat, Alipay or UnionPay payment code');
    // Masked: the request's hash is kept, and a plain hash of the whole code could be reversed.
    const masked = maskCode(authCode);
    return this.startOnce(
      saleId,
      { method: 'code', authCode: masked },
      idempotencyKey,
      () => this.begin(saleId, 'code', channel, { authCode: masked }),
      (payment) => runCode(this.core, payment, authCode),
    );
  }

  /**
   * Pays from a member's stored value: the scanned card code is charged like a payment code on
   * channel `member`, under the same rule (commit first, query, reverse at the deadline).
   */
  startMember(saleId: string, memberCode: string, amount?: number, idempotencyKey?: string): PendingReply {
    const masked = maskCode(memberCode);
    return this.startOnce(
      saleId,
      { method: 'member', memberCode: masked, ...(amount !== undefined ? { amount } : {}) },
      idempotencyKey,
      () => this.begin(saleId, 'code', 'member', { authCode: masked }, amount),
      (payment) => runCode(this.core, payment, memberCode),
    );
  }

  /** Starts a dynamic QR payment; its code URL arrives as a `payment.updated` event. */
  startQr(saleId: string, channel: 'wechat' | 'alipay' | 'unionpay', idempotencyKey?: string): PendingReply {
    return this.startOnce(
      saleId,
      { method: 'qr', channel },
      idempotencyKey,
      () => this.begin(saleId, 'qr', channel, {}),
      (payment) => runQr(this.core, payment),
    );
  }

  /**
   * Commits a pending payment once per Idempotency-Key (the same scope as cash and card: a key is
   * one cashier action on the sale's payments), then announces it and starts its requests. A
   * replay answers the first reply (`pending`, its paymentId) and starts nothing: the first request
   * is already running, or resolved (`GET /payments/{id}` tells which).
   */
  private startOnce(
    saleId: string,
    request: Record<string, unknown>,
    idempotencyKey: string | undefined,
    begin: () => StoredPayment,
    run: (payment: StoredPayment) => Promise<void>,
  ): PendingReply {
    let started: StoredPayment | undefined;
    const reply = this.core.o.sales.once<PendingReply>(
      idempotencyKey,
      `POST /sales/${saleId}/payments`,
      request,
      () => {
        started = begin();
        return { status: 202, body: { paymentId: started.paymentId, status: 'pending' } };
      },
    );
    const payment = started;
    if (payment) {
      this.core.emit(payment);
      this.core.track(payment.paymentId, () => run(payment));
    }
    return reply.body;
  }

  /**
   * The cashier switches tender: an unpaid QR is closed first. If the acquirer answers that it was
   * paid before the close, it counts for the sale; a success learnt after the close is reversed.
   * Answers within one request deadline: `closing` when the close is still being retried.
   */
  async cancelQr(paymentId: string): Promise<{ closing: boolean; payment: StoredPayment }> {
    const payment = this.core.mustGet(paymentId);
    if (payment.method !== 'qr') throw new PosError('CONFLICT', 'only a QR payment can be cancelled');
    if (payment.status !== 'pending' && payment.status !== 'unknown') return { closing: false, payment };
    return cancelQr(this.core, payment);
  }

  get(paymentId: string): StoredPayment {
    return this.core.mustGet(paymentId);
  }

  /** A `down/notify` hint: confirm by query (the hint itself is never trusted). */
  async onNotify(paymentId: string): Promise<void> {
    const payment = this.core.o.store.getPayment(paymentId);
    if (!payment) return;
    if (isClosedQr(payment)) {
      // A closed QR named by a notify is checked until a query answers, across restarts.
      if (!payment.doc.lateCheck && !this.core.o.reversals.get(paymentId)) {
        const doc = { ...payment.doc, lateCheck: true };
        this.core.o.store.setPaymentStatus(paymentId, payment.status, doc, this.core.iso());
      }
      return this.lateCheck(paymentId);
    }
    if (payment.method !== 'qr') {
      // A code payment is learnt by its own rule only: a query of ours racing the rule's reverse
      // could show the sale paid while the reverse gives the money back. The hint (re)starts it.
      if (payment.status === 'pending' || payment.status === 'unknown')
        this.core.track(paymentId, () => this.resolve(payment));
      return;
    }
    const reply = await this.core.request('payment.query', { paymentId });
    if (reply.kind !== 'ok' || reply.result.status !== 'SUCCESS') return;
    const current = this.core.mustGet(paymentId);
    if (current.status === 'pending' || current.status === 'unknown')
      this.core.succeed(current, reply.result);
    else if (isClosedQr(current)) recordLateSuccess(this.core, current, reply.result);
  }

  /** Queries a closed QR until answered: paid means a late success, reversed; else nothing. */
  private lateCheck(paymentId: string): Promise<void> {
    const key = `late:${paymentId}`;
    this.core.track(key, async () => {
      for (let attempt = 0; ; attempt++) {
        if (this.core.stopping) return;
        const q = await this.core.request('payment.query', { paymentId });
        if (q.kind === 'ok') {
          const current = this.core.mustGet(paymentId);
          if (q.result.status === 'SUCCESS' && isClosedQr(current))
            recordLateSuccess(this.core, current, q.result);
          const after = this.core.mustGet(paymentId);
          const { lateCheck: _, ...doc } = after.doc;
          this.core.o.store.setPaymentStatus(paymentId, after.status, doc, this.core.iso());
          return;
        }
        if (!this.core.o.cloud.isOnline()) return; // resumes on reconnect
        await this.core.backoff(attempt);
      }
    });
    return this.core.inFlight.get(key) ?? Promise.resolve();
  }

  /**
   * After a restart or when the link returns: every payment whose outcome is unknown runs its rule
   * to the end, every unconfirmed refund and reversal is sent again (same ids).
   */
  resumeUnresolved(): void {
    if (this.core.stopping) return;
    const online = this.core.o.cloud.isOnline();
    for (const p of this.core.o.store.unresolvedPayments()) {
      // A card refund part left pending by an older version needs no link: it is recorded now.
      if (typeof p.doc.refundOf === 'string') {
        if (online || p.method === 'card') this.processRefund(p.saleId);
      } else if (online) this.core.track(p.paymentId, () => this.resolve(p));
    }
    if (!online) return;
    for (const r of this.core.o.reversals.pending()) startReversal(this.core, r);
    for (const p of this.core.o.store.lateChecks()) void this.lateCheck(p.paymentId);
    for (const p of this.core.o.store.watchedQrs()) watchQr(this.core, p.paymentId);
  }

  /** What the technician must see: unresolved payments and reversals not yet confirmed. */
  moneyPending(): MoneyPending {
    return {
      unresolvedPayments: this.core.o.store.unresolvedPayments().length,
      pendingReversals: this.core.o.reversals.pending().map((r) => ({
        paymentId: r.paymentId,
        amount: r.amount,
        attempts: r.attempts,
        lastError: r.lastError,
        createdAt: r.createdAt,
      })),
    };
  }

  /** Lets running work finish its current step; what is unresolved resumes at next start. */
  async stop(): Promise<void> {
    this.core.stopping = true;
    await Promise.race([Promise.allSettled(this.core.inFlight.values()), this.core.o.sleep(1_000)]);
  }

  /** Resolves when everything this process is working on has settled (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.core.inFlight.size > 0) await Promise.allSettled([...this.core.inFlight.values()]);
  }

  /** A QR: query (it may have been paid), else close; a code payment: the rule, then reverse. */
  private async resolve(payment: StoredPayment): Promise<void> {
    if (payment.method !== 'qr') return runRule(this.core, payment);
    const q = await this.core.request('payment.query', { paymentId: payment.paymentId });
    if (q.kind === 'ok' && q.result.status === 'SUCCESS') return this.core.succeed(payment, q.result);
    if (q.kind === 'unknown' && !this.core.o.cloud.isOnline())
      return this.core.markUnknown(payment.paymentId);
    const reason = payment.doc.cancelRequested ? 'CANCELLED' : 'RESOLVED_AFTER_RESTART';
    return closeQr(this.core, payment, reason);
  }

  /** Inside the caller's transaction: announced by `startOnce` once that has committed. */
  private begin(
    saleId: string,
    method: 'code' | 'qr',
    channel: string,
    doc: Record<string, unknown>,
    amount?: number,
  ): StoredPayment {
    const { o } = this.core;
    const business = o.business();
    if (!business.tenders.enabled.includes(channel)) {
      throw new PosError('TENDER_NOT_SUPPORTED', `${channel} is not enabled on this terminal`);
    }
    if (!o.cloud.isOnline()) {
      throw new PosError(
        'TENDER_NOT_SUPPORTED',
        o.cloud.configured
          ? `${channel} needs the cloud link, which is down: take cash`
          : `${channel} needs a cloud link, and none is configured on this terminal`,
      );
    }
    const routing = business.tenders.routing[channel];
    return o.ledger.transact(() => {
      const sale = o.store.getSale(saleId);
      if (!sale) throw new PosError('SALE_NOT_FOUND', `no sale ${saleId}`);
      const due = dueForPayment(sale, o.store.paymentsOf(saleId));
      if (due <= 0) throw new PosError('SALE_NOT_OPEN', 'nothing is due on this sale');
      if (amount !== undefined && (!Number.isSafeInteger(amount) || amount <= 0 || amount > due)) {
        throw new PosError('AMOUNT_INVALID', `amount must be 1 to ${due} (what is due)`);
      }
      const p = {
        paymentId: this.core.newId(),
        method,
        channel,
        amount: amount ?? due,
        change: 0,
        status: 'pending' as const,
      };
      o.store.insertPayment(saleId, p, this.core.iso(), {
        ...doc,
        currency: sale.currency,
        ...(routing ? { acquirer: routing.acquirer, merchantId: routing.merchantId } : {}),
      });
      return o.store.getPayment(p.paymentId)!;
    });
  }
}
