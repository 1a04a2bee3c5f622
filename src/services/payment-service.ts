import { v7 as uuidv7 } from 'uuid';
import type { EventBus } from '../bus.js';
import type { BusinessConfig } from '../config/business.js';
import { channelOfAuthCode } from '../core/payment-code.js';
import { paidAmount } from '../core/sale.js';
import { PosError } from '../errors.js';
import { type Logger, maskCode } from '../log.js';
import type { Ledger } from '../offline/ledger.js';
import type { SalesStore, StoredPayment } from '../offline/sales-store.js';
import type { CloudPort, CloudReply, Sleep } from './cloud-port.js';
import type { RefundService } from './refund-service.js';
import type { SaleService } from './sale-service.js';

declare module '../bus.js' {
  interface PosEvents {
    'payment.updated': {
      paymentId: string;
      saleId: string;
      method: string;
      channel: string;
      amount: number;
      status: string;
      codeUrl?: string;
      expiresAt?: string;
      reason?: string;
    };
  }
}

type AcquirerStatus = 'SUCCESS' | 'USERPAYING' | 'NOTPAY' | 'FAILED' | 'CLOSED' | 'REVERSED' | 'REFUND';

interface AcquirerResult {
  status?: AcquirerStatus;
  channel?: string;
  acquirerRef?: string;
  codeUrl?: string;
  expiresAt?: string;
}

export interface PaymentServiceOptions {
  ledger: Ledger;
  store: SalesStore;
  sales: SaleService;
  refunds: RefundService;
  cloud: CloudPort;
  bus: EventBus;
  log: Logger;
  business: () => BusinessConfig;
  sleep: Sleep;
  now?: () => Date;
  newId?: () => string;
}

/**
 * Payments by the customer's code and by dynamic QR (mqtt-v1 "Code-payment rule"). The paymentId
 * is committed before any request; a payment is shown paid only after SUCCESS; an outcome that
 * cannot be learnt is recorded `payment.pending` and resolved (query, then reverse) when the link
 * returns. One unresolved payment per sale at a time.
 */
export class PaymentService {
  private readonly o: PaymentServiceOptions;
  private readonly now: () => Date;
  private readonly newId: () => string;
  /** Payments with a resolution loop running in this process. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private stopping = false;

  constructor(options: PaymentServiceOptions) {
    this.o = options;
    this.now = options.now ?? (() => new Date());
    this.newId = options.newId ?? uuidv7;
    options.cloud.onOnline(() => this.resumeUnresolved());
    options.refunds.setRefundProcessor((refundSaleId) => this.processRefund(refundSaleId));
  }

  /** Sends a refund sale's electronic refunds; each keeps its refundId on every retry. */
  processRefund(refundSaleId: string): void {
    const key = `refund:${refundSaleId}`;
    if (!this.inFlight.has(key)) this.track(key, this.runRefund(refundSaleId));
  }

  private async runRefund(refundSaleId: string): Promise<void> {
    const waiting = this.o.store
      .paymentsWithDocOf(refundSaleId)
      .filter((p) => p.status === 'pending' || p.status === 'unknown');
    for (const p of waiting) {
      for (;;) {
        if (this.stopping) return;
        const reply = await this.request('refund.create', {
          refundId: p.paymentId,
          paymentId: p.doc.refundOf,
          amount: p.amount,
        });
        if (reply.kind === 'ok') {
          this.o.ledger.transact(() => {
            this.o.store.setPaymentStatus(p.paymentId, 'refunded', p.doc, this.iso());
            this.o.refunds.completeRefundInTransaction(refundSaleId);
          });
          this.emit(this.mustGetPayment(p.paymentId));
          break;
        }
        if (reply.kind === 'error') {
          // The acquirer refused: no money went back. The refund is cancelled and says why.
          this.o.ledger.transact(() => {
            this.o.store.setPaymentStatus(
              p.paymentId,
              'failed',
              { ...p.doc, reason: reply.code },
              this.iso(),
            );
            this.o.store.markVoided(refundSaleId, this.iso());
          });
          this.emit(this.mustGetPayment(p.paymentId), reply.code);
          return;
        }
        if (!this.o.cloud.isOnline()) {
          this.o.store.setPaymentStatus(p.paymentId, 'unknown', p.doc, this.iso());
          return; // resumes with the same refundId when the link returns
        }
        await this.o.sleep(this.o.business().payments.queryIntervalMs);
      }
    }
    this.o.sales.announceSale(refundSaleId);
  }

  /** Starts a payment by the customer's payment code; the outcome arrives as events. */
  startCode(saleId: string, authCode: string): { paymentId: string; status: 'pending' } {
    const channel = channelOfAuthCode(authCode);
    if (!channel)
      throw new PosError('VALIDATION_FAILED', 'this is not a WeChat, Alipay or UnionPay payment code');
    const payment = this.begin(saleId, 'code', channel, { authCode: maskCode(authCode) });
    this.track(payment.paymentId, this.runCode(payment, authCode));
    return { paymentId: payment.paymentId, status: 'pending' };
  }

  /**
   * Pays from a member's stored value: the scanned card code is charged like a payment code on
   * channel `member`, under the same rule (commit first, query, reverse at the deadline).
   */
  startMember(saleId: string, memberCode: string, amount?: number): { paymentId: string; status: 'pending' } {
    const payment = this.begin(saleId, 'code', 'member', { authCode: maskCode(memberCode) }, amount);
    this.track(payment.paymentId, this.runCode(payment, memberCode));
    return { paymentId: payment.paymentId, status: 'pending' };
  }

  /** Starts a dynamic QR payment; its code URL arrives as a `payment.updated` event. */
  startQr(
    saleId: string,
    channel: 'wechat' | 'alipay' | 'unionpay',
  ): { paymentId: string; status: 'pending' } {
    const payment = this.begin(saleId, 'qr', channel, {});
    this.track(payment.paymentId, this.runQr(payment));
    return { paymentId: payment.paymentId, status: 'pending' };
  }

  /**
   * The cashier switches tender: an unpaid QR is closed first. If the acquirer answers that it was
   * paid before the close, it counts for the sale; a success learnt after the close is refunded.
   */
  async cancelQr(paymentId: string): Promise<StoredPayment> {
    const payment = this.mustGetPayment(paymentId);
    if (payment.method !== 'qr') throw new PosError('CONFLICT', 'only a QR payment can be cancelled');
    if (payment.status !== 'pending') return payment;
    this.o.store.setPaymentStatus(
      paymentId,
      'pending',
      { ...payment.doc, cancelRequested: true },
      this.iso(),
    );
    await this.closeQr(this.mustGetPayment(paymentId), 'CANCELLED');
    return this.mustGetPayment(paymentId);
  }

  get(paymentId: string): StoredPayment {
    return this.mustGetPayment(paymentId);
  }

  /** A `down/notify` hint: confirm by query (the hint itself is never trusted). */
  async onNotify(paymentId: string): Promise<void> {
    const payment = this.o.store.getPayment(paymentId);
    if (!payment) return;
    const reply = await this.request('payment.query', { paymentId });
    if (reply.kind !== 'ok') return;
    if (reply.result.status === 'SUCCESS') {
      if (payment.status === 'pending') this.succeed(payment, reply.result);
      else if (payment.status === 'closed' || payment.status === 'failed')
        await this.refundLateSuccess(payment, reply.result);
    }
  }

  /** After a restart or when the link returns: resolve every payment whose outcome is unknown. */
  resumeUnresolved(): void {
    if (this.stopping || !this.o.cloud.isOnline()) return;
    for (const p of this.o.store.unresolvedPayments()) {
      if (typeof p.doc.refundOf === 'string') this.processRefund(p.saleId);
      else if (!this.inFlight.has(p.paymentId)) this.track(p.paymentId, this.resolveByQuery(p));
    }
  }

  /** Lets running resolutions finish their current step; unresolved ones resume at next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.race([Promise.allSettled(this.inFlight.values()), this.o.sleep(1_000)]);
  }

  /** Resolves when every payment this process is working on has settled (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  private track(paymentId: string, work: Promise<void>): void {
    const guarded = work
      .catch((err) => this.o.log.error({ err, paymentId }, 'payment resolution failed; it resumes later'))
      .finally(() => this.inFlight.delete(paymentId));
    this.inFlight.set(paymentId, guarded);
  }

  private begin(
    saleId: string,
    method: 'code' | 'qr',
    channel: string,
    doc: Record<string, unknown>,
    amount?: number,
  ): StoredPayment {
    const business = this.o.business();
    if (!business.tenders.enabled.includes(channel)) {
      throw new PosError('TENDER_NOT_SUPPORTED', `${channel} is not enabled on this terminal`);
    }
    if (!this.o.cloud.isOnline()) {
      throw new PosError(
        'TENDER_NOT_SUPPORTED',
        this.o.cloud.configured
          ? `${channel} needs the cloud link, which is down: take cash`
          : `${channel} needs a cloud link, and none is configured on this terminal`,
      );
    }
    const routing = business.tenders.routing[channel];
    const payment = this.o.ledger.transact(() => {
      const sale = this.o.store.getSale(saleId);
      if (!sale) throw new PosError('SALE_NOT_FOUND', `no sale ${saleId}`);
      if (sale.status !== 'open' || sale.kind !== 'sale') {
        throw new PosError('SALE_NOT_OPEN', `sale ${saleId} is ${sale.status}`);
      }
      const payments = this.o.store.paymentsOf(saleId);
      if (payments.some((p) => p.status === 'pending' || p.status === 'unknown')) {
        throw new PosError('PAYMENT_UNRESOLVED', 'another payment of this sale is still unresolved');
      }
      const due = sale.total - paidAmount(payments);
      if (due <= 0) throw new PosError('SALE_NOT_OPEN', 'nothing is due on this sale');
      if (amount !== undefined && (!Number.isSafeInteger(amount) || amount <= 0 || amount > due)) {
        throw new PosError('AMOUNT_INVALID', `amount must be 1 to ${due} (what is due)`);
      }
      const p = {
        paymentId: this.newId(),
        method,
        channel,
        amount: amount ?? due,
        change: 0,
        status: 'pending' as const,
      };
      this.o.store.insertPayment(saleId, p, this.iso(), {
        ...doc,
        currency: sale.currency,
        ...(routing ? { acquirer: routing.acquirer, merchantId: routing.merchantId } : {}),
      });
      return this.o.store.getPayment(p.paymentId)!;
    });
    this.emit(payment);
    return payment;
  }

  private async runCode(payment: StoredPayment, authCode: string): Promise<void> {
    const started = this.now().getTime();
    const reply = await this.request('payment.create', {
      paymentId: payment.paymentId,
      saleId: payment.saleId,
      method: 'code',
      channel: payment.channel,
      authCode,
      amount: payment.amount,
      currency: payment.doc.currency,
    });
    if (reply.kind === 'ok' && reply.result.status === 'SUCCESS') return this.succeed(payment, reply.result);
    if (reply.kind === 'ok' && reply.result.status === 'FAILED') return this.fail(payment, 'FAILED');
    if (reply.kind === 'error') return this.fail(payment, reply.code);
    // USERPAYING (the customer confirms on the phone) or no answer: query, then reverse.
    const { queryDelayMs, queryIntervalMs, resolveWithinMs } = this.o.business().payments;
    await this.o.sleep(queryDelayMs);
    // Queries at delay, delay + interval, … up to and including the deadline (45 s in all).
    while (!this.stopping && this.now().getTime() - started <= resolveWithinMs) {
      const q = await this.request('payment.query', { paymentId: payment.paymentId });
      if (q.kind === 'ok') {
        const status = q.result.status;
        if (status === 'SUCCESS') return this.succeed(payment, q.result);
        if (status === 'FAILED' || status === 'CLOSED' || status === 'REVERSED')
          return this.fail(payment, status);
      }
      await this.o.sleep(queryIntervalMs);
    }
    if (this.stopping) return;
    await this.reverse(this.mustGetPayment(payment.paymentId));
  }

  private async runQr(payment: StoredPayment): Promise<void> {
    const reply = await this.request('payment.create', {
      paymentId: payment.paymentId,
      saleId: payment.saleId,
      method: 'qr',
      channel: payment.channel,
      amount: payment.amount,
      currency: payment.doc.currency,
    });
    if (reply.kind === 'error') return this.fail(payment, reply.code);
    if (reply.kind === 'unknown') {
      // The QR may exist at the acquirer: close it so nobody can pay it later.
      return this.closeQr(payment, 'CREATE_UNANSWERED');
    }
    const { qrExpirySeconds, queryIntervalMs } = this.o.business().payments;
    const ourExpiry = this.now().getTime() + qrExpirySeconds * 1000;
    const expiresAt = new Date(ourExpiry).toISOString();
    const codeUrl = reply.result.codeUrl;
    this.o.store.setPaymentStatus(
      payment.paymentId,
      'pending',
      { ...payment.doc, codeUrl, expiresAt },
      this.iso(),
    );
    this.emit(this.mustGetPayment(payment.paymentId));
    while (!this.stopping && this.now().getTime() < ourExpiry) {
      await this.o.sleep(queryIntervalMs);
      const current = this.mustGetPayment(payment.paymentId);
      if (current.status !== 'pending' || current.doc.cancelRequested) return;
      const q = await this.request('payment.query', { paymentId: payment.paymentId });
      if (q.kind === 'ok' && q.result.status === 'SUCCESS') return this.succeed(current, q.result);
      if (q.kind === 'ok' && (q.result.status === 'CLOSED' || q.result.status === 'FAILED')) {
        return this.fail(current, q.result.status);
      }
    }
    if (this.stopping) return;
    await this.closeQr(this.mustGetPayment(payment.paymentId), 'EXPIRED');
  }

  /** Closes an unpaid QR; if the acquirer says it was paid meanwhile, the payment succeeded. */
  private async closeQr(payment: StoredPayment, reason: string): Promise<void> {
    for (;;) {
      const current = this.mustGetPayment(payment.paymentId);
      if (current.status !== 'pending' && current.status !== 'unknown') return;
      const reply = await this.request('payment.close', { paymentId: payment.paymentId });
      if (reply.kind === 'ok') {
        if (reply.result.status === 'SUCCESS') return this.succeed(current, reply.result);
        return this.settle(current, 'closed', 'payment.failed', { reason });
      }
      if (reply.kind === 'error' && reply.code === 'ORDER_PAID') {
        const q = await this.request('payment.query', { paymentId: payment.paymentId });
        if (q.kind === 'ok' && q.result.status === 'SUCCESS') return this.succeed(current, q.result);
      }
      if (reply.kind === 'error' && reply.code === 'ORDER_NOT_FOUND') {
        return this.settle(current, 'closed', 'payment.failed', { reason });
      }
      if (!(await this.waitForLink(current))) return;
    }
  }

  /** Reverses a code payment whose outcome is not success by the deadline; retried until answered. */
  private async reverse(payment: StoredPayment): Promise<void> {
    for (;;) {
      const current = this.mustGetPayment(payment.paymentId);
      if (current.status !== 'pending' && current.status !== 'unknown') return;
      const reply = await this.request('payment.reverse', { paymentId: payment.paymentId });
      if (reply.kind === 'ok' || (reply.kind === 'error' && reply.code === 'ORDER_NOT_FOUND')) {
        return this.settle(current, 'reversed', 'payment.reversed', {});
      }
      if (!(await this.waitForLink(current))) return;
    }
  }

  /** After a restart or reconnect: query first (it may have succeeded), else reverse / close. */
  private async resolveByQuery(payment: StoredPayment): Promise<void> {
    const q = await this.request('payment.query', { paymentId: payment.paymentId });
    if (q.kind === 'ok' && q.result.status === 'SUCCESS') return this.succeed(payment, q.result);
    if (q.kind === 'unknown') {
      await this.waitForLink(payment);
      return;
    }
    if (payment.method === 'qr') return this.closeQr(payment, 'RESOLVED_AFTER_RESTART');
    return this.reverse(payment);
  }

  /**
   * The link is down and the outcome unknown: record `payment.pending` once and stop; the
   * resolution resumes when the link returns. Returns whether to try again now.
   */
  private async waitForLink(payment: StoredPayment): Promise<boolean> {
    if (this.stopping) return false;
    if (this.o.cloud.isOnline()) {
      await this.o.sleep(this.o.business().payments.queryIntervalMs);
      return !this.stopping;
    }
    if (payment.status === 'pending') {
      this.o.ledger.transact(() => {
        this.o.store.setPaymentStatus(payment.paymentId, 'unknown', payment.doc, this.iso());
        this.o.ledger.append('payment.pending', this.recordBody(payment, {}));
      });
      this.emit(this.mustGetPayment(payment.paymentId));
    }
    return false;
  }

  private succeed(payment: StoredPayment, result: AcquirerResult): void {
    const extra: Record<string, unknown> = {};
    if (result.acquirerRef) extra.acquirerRef = result.acquirerRef;
    this.settle(payment, 'succeeded', 'payment.succeeded', extra, true);
  }

  private fail(payment: StoredPayment, reason: string): void {
    this.settle(payment, 'failed', 'payment.failed', { reason });
  }

  private settle(
    payment: StoredPayment,
    status: 'succeeded' | 'failed' | 'reversed' | 'closed',
    recordType: string,
    extra: Record<string, unknown>,
    completeSale = false,
  ): void {
    const settled = this.o.ledger.transact(() => {
      const current = this.mustGetPayment(payment.paymentId);
      if (current.status !== 'pending' && current.status !== 'unknown') return false;
      this.o.store.setPaymentStatus(payment.paymentId, status, { ...current.doc, ...extra }, this.iso());
      this.o.ledger.append(recordType, this.recordBody(current, extra));
      if (completeSale) this.o.sales.completeIfCovered(current.saleId);
      return true;
    });
    if (!settled) return;
    this.emit(
      this.mustGetPayment(payment.paymentId),
      typeof extra.reason === 'string' ? extra.reason : undefined,
    );
    this.o.sales.announceSale(payment.saleId);
  }

  /** A QR paid after it was closed: record the money in, then refund it to its channel. */
  private async refundLateSuccess(payment: StoredPayment, result: AcquirerResult): Promise<void> {
    const refundId = (payment.doc.autoRefundId as string | undefined) ?? this.newId();
    this.o.ledger.transact(() => {
      const current = this.mustGetPayment(payment.paymentId);
      if (current.doc.autoRefundId) return;
      this.o.store.setPaymentStatus(
        current.paymentId,
        current.status === 'pending' ? 'closed' : current.status,
        {
          ...current.doc,
          autoRefundId: refundId,
          paidAfterClose: true,
        },
        this.iso(),
      );
      this.o.ledger.append('payment.succeeded', {
        ...this.recordBody(current, result.acquirerRef ? { acquirerRef: result.acquirerRef } : {}),
        paidAfterClose: true,
      });
    });
    for (;;) {
      const reply = await this.request('refund.create', {
        refundId,
        paymentId: payment.paymentId,
        amount: payment.amount,
      });
      if (reply.kind === 'ok') break;
      if (!this.o.cloud.isOnline() || this.stopping) return;
      await this.o.sleep(this.o.business().payments.queryIntervalMs);
    }
    this.o.ledger.transact(() => {
      const current = this.mustGetPayment(payment.paymentId);
      if (current.doc.autoRefunded) return;
      this.o.store.setPaymentStatus(
        current.paymentId,
        'refunded',
        { ...current.doc, autoRefunded: true },
        this.iso(),
      );
      this.o.ledger.append('refund.completed', {
        refundId,
        saleId: payment.saleId,
        automatic: true,
        reason: 'PAID_AFTER_CLOSE',
        currency: payment.doc.currency,
        total: payment.amount,
        lines: [],
        payments: [
          {
            paymentId: payment.paymentId,
            method: payment.method,
            channel: payment.channel,
            amount: payment.amount,
          },
        ],
      });
    });
    this.emit(this.mustGetPayment(payment.paymentId), 'REFUNDED_AFTER_CLOSE');
  }

  private recordBody(p: StoredPayment, extra: Record<string, unknown>): Record<string, unknown> {
    return {
      paymentId: p.paymentId,
      saleId: p.saleId,
      method: p.method,
      channel: p.channel,
      currency: p.doc.currency,
      amount: p.amount,
      ...(p.doc.acquirer ? { acquirer: p.doc.acquirer, merchantId: p.doc.merchantId } : {}),
      ...extra,
    };
  }

  private async request(op: string, args: Record<string, unknown>): Promise<CloudReply<AcquirerResult>> {
    const reply = await this.o.cloud.request<AcquirerResult>(
      op,
      args,
      this.o.business().payments.requestTimeoutMs,
    );
    if (reply.kind !== 'ok')
      this.o.log.info({ op, paymentId: args.paymentId, reply: reply.kind }, 'payment request');
    return reply;
  }

  private mustGetPayment(paymentId: string): StoredPayment {
    const p = this.o.store.getPayment(paymentId);
    if (!p) throw new PosError('NOT_FOUND', `no payment ${paymentId}`);
    return p;
  }

  private emit(p: StoredPayment, reason?: string): void {
    this.o.bus.emit('payment.updated', {
      paymentId: p.paymentId,
      saleId: p.saleId,
      method: p.method,
      channel: p.channel,
      amount: p.amount,
      status: p.status,
      ...(typeof p.doc.codeUrl === 'string' ? { codeUrl: p.doc.codeUrl } : {}),
      ...(typeof p.doc.expiresAt === 'string' ? { expiresAt: p.doc.expiresAt } : {}),
      ...(reason ? { reason } : {}),
    });
  }

  private iso(): string {
    return this.now().toISOString();
  }
}
