import { v7 as uuidv7 } from 'uuid';
import { retryBackoffMs } from '../core/acquirer-codes.js';
import { PosError } from '../errors.js';
import type { ReversalStore } from '../offline/reversal-store.js';
import type { SalesStore, StoredPayment } from '../offline/sales-store.js';
import type { CloudReply } from './cloud-port.js';
import type { CloudWorkOptions } from './cloud-work-options.js';
import { recordLateSuccess } from './payment-reversal.js';
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

export type AcquirerStatus =
  | 'SUCCESS'
  | 'USERPAYING'
  | 'NOTPAY'
  | 'FAILED'
  | 'CLOSED'
  | 'REVERSED'
  | 'REFUND';

export interface AcquirerResult {
  status?: AcquirerStatus;
  channel?: string;
  acquirerRef?: string;
  codeUrl?: string;
  expiresAt?: string;
}

/** A payment service keeps its records through the sales store, not the database itself. */
export interface PaymentServiceOptions extends Omit<CloudWorkOptions, 'db'> {
  store: SalesStore;
  reversals: ReversalStore;
  sales: SaleService;
  refunds: RefundService;
  /** The daemon's own clock (ms, any origin), which wall-clock steps do not move. */
  monotonic?: () => number;
}

/**
 * What the payment flows share: the ports, the loops running in this process, and the steps that
 * commit an outcome (each in one transaction with its ledger record).
 */
export class PaymentCore {
  readonly o: PaymentServiceOptions;
  readonly now: () => Date;
  readonly newId: () => string;
  readonly monotonic: () => number;
  /** When (monotonic) this process began watching each closed QR (src/services/qr-watch.ts). */
  readonly watchStartedAt = new Map<string, number>();
  /** Work (payment resolutions, refunds, reversals) running in this process, by key. */
  readonly inFlight = new Map<string, Promise<void>>();
  stopping = false;

  constructor(options: PaymentServiceOptions) {
    this.o = options;
    this.now = options.now ?? (() => new Date());
    this.newId = options.newId ?? uuidv7;
    this.monotonic = options.monotonic ?? (() => performance.now());
  }

  iso(): string {
    return this.now().toISOString();
  }

  /** Runs `work` under `key` unless work under that key is already running. */
  track(key: string, work: () => Promise<void>): void {
    if (this.inFlight.has(key)) return;
    const guarded = work()
      .catch((err) => this.o.log.error({ err, key }, 'payment work failed; it resumes later'))
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, guarded);
  }

  async request(op: string, args: Record<string, unknown>): Promise<CloudReply<AcquirerResult>> {
    const reply = await this.o.cloud.request<AcquirerResult>(
      op,
      args,
      this.o.business().payments.requestTimeoutMs,
    );
    if (reply.kind !== 'ok') {
      this.o.log.info(
        {
          op,
          paymentId: args.paymentId,
          reply: reply.kind,
          ...(reply.kind === 'error' ? { code: reply.code } : {}),
        },
        'payment request',
      );
    }
    return reply;
  }

  /** The wait before retry `attempt` of a request that must be retried until it is answered. */
  backoff(attempt: number): Promise<void> {
    return this.o.sleep(retryBackoffMs(attempt, this.o.business().payments.queryIntervalMs));
  }

  mustGet(paymentId: string): StoredPayment {
    const p = this.o.store.getPayment(paymentId);
    if (!p) throw new PosError('NOT_FOUND', `no payment ${paymentId}`);
    return p;
  }

  /**
   * The outcome is still unknown. Link down: record `payment.pending` once and stop (the work
   * resumes when the link returns). Link up: wait the backoff. Returns whether to try again now.
   */
  async waitForLink(payment: StoredPayment, attempt: number): Promise<boolean> {
    if (this.stopping) return false;
    if (this.o.cloud.isOnline()) {
      await this.backoff(attempt);
      return !this.stopping;
    }
    this.markUnknown(payment.paymentId);
    return false;
  }

  /** Records once that a payment's outcome could not be learnt (it blocks the shift close). */
  markUnknown(paymentId: string): void {
    const marked = this.o.ledger.transact(() => {
      const current = this.mustGet(paymentId);
      if (current.status !== 'pending') return false;
      this.o.store.setPaymentStatus(paymentId, 'unknown', current.doc, this.iso());
      this.o.ledger.append('payment.pending', this.recordBody(current, {}));
      return true;
    });
    if (marked) this.emit(this.mustGet(paymentId));
  }

  succeed(payment: StoredPayment, result: AcquirerResult): void {
    const extra: Record<string, unknown> = {};
    if (result.acquirerRef) extra.acquirerRef = result.acquirerRef;
    if (this.settle(payment, 'succeeded', 'payment.succeeded', extra, true)) return;
    // A SUCCESS learnt by a request sent before a concurrent close settled the QR: a late success.
    const current = this.mustGet(payment.paymentId);
    if (current.method === 'qr' && (current.status === 'closed' || current.status === 'failed'))
      recordLateSuccess(this, current, result);
  }

  fail(payment: StoredPayment, reason: string): void {
    this.settle(payment, 'failed', 'payment.failed', { reason });
  }

  /** Commits a final outcome once (a payment already settled is left as it is); whether it did. */
  settle(
    payment: StoredPayment,
    status: 'succeeded' | 'failed' | 'reversed' | 'closed',
    recordType: string,
    extra: Record<string, unknown>,
    completeSale = false,
  ): boolean {
    const settled = this.o.ledger.transact(() => {
      const current = this.mustGet(payment.paymentId);
      if (current.status !== 'pending' && current.status !== 'unknown') return false;
      this.o.store.setPaymentStatus(payment.paymentId, status, { ...current.doc, ...extra }, this.iso());
      // Money in is counted in the open shift (opened on demand), never outside every Z report.
      if (status === 'succeeded') this.o.sales.shiftInTransaction();
      this.o.ledger.append(recordType, this.recordBody(current, extra));
      if (completeSale) this.o.sales.completeIfCovered(current.saleId);
      return true;
    });
    if (!settled) return false;
    this.emit(this.mustGet(payment.paymentId), typeof extra.reason === 'string' ? extra.reason : undefined);
    this.o.sales.announceSale(payment.saleId);
    return true;
  }

  recordBody(p: StoredPayment, extra: Record<string, unknown>): Record<string, unknown> {
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

  emit(p: StoredPayment, reason?: string): void {
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
}
