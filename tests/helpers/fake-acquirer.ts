import type { CloudPort, CloudReply, Sleep } from '../../src/services/cloud-port.js';

/** How the fake acquirer treats a payment, chosen by the auth code's last digit or per call. */
export type Behaviour =
  | 'success'
  | 'failed'
  | 'userpaying-then-success'
  | 'userpaying-forever'
  | 'charge-but-lose-reply'
  | 'qr';

interface Order {
  paymentId: string;
  amount: number;
  status: 'SUCCESS' | 'USERPAYING' | 'NOTPAY' | 'FAILED' | 'CLOSED' | 'REVERSED';
  queries: number;
  behaviour: Behaviour;
}

/**
 * An in-memory acquirer behind the CloudPort, idempotent on payment and refund ids like the real
 * one; it counts money captured and refunded so tests can prove nothing was charged twice.
 */
export class FakeAcquirer implements CloudPort {
  readonly configured = true;
  online = true;
  lastOnline: Date | undefined;
  readonly orders = new Map<string, Order>();
  readonly refunds = new Map<string, { paymentId: string; amount: number }>();
  /** Members by card code, and recharges applied (once per rechargeId). */
  readonly members = new Map<string, { memberId: string; name: string; balance: number; points: number }>();
  readonly recharges = new Map<string, { memberId: string; amount: number }>();
  /** Coupons the cloud knows, and which redemption consumed each. */
  readonly coupons = new Map<
    string,
    {
      couponId: string;
      kind: 'amount' | 'percent';
      value: number;
      minSpend?: number;
      consumedBy?: string;
      /** The redemption holding it on an open sale (coupon.reserve). */
      heldBy?: string;
    }
  >();
  readonly calls: Array<{ op: string; args: Record<string, unknown> }> = [];
  /** Ops whose next N replies are lost after the acquirer acted (reply `unknown`). */
  readonly loseReplies = new Map<string, number>();
  /** Ops whose next replies are these error codes, after the acquirer acted (SYSTEMERROR, BANKERROR…). */
  readonly errorReplies = new Map<string, string[]>();
  /** Refunds of these payments are refused with the code, and nothing is refunded. */
  readonly refuseRefundOf = new Map<string, string>();
  /** The link drops right after the acquirer handled this op (its reply is lost with it). */
  goOfflineAfter: string | undefined;
  private readonly onlineListeners = new Set<() => void>();
  clock = Date.parse('2026-11-24T10:00:00Z');

  constructor(private readonly behaviourOf: (authCode: string | undefined) => Behaviour = () => 'success') {}

  /** How far the terminal's wall clock was stepped from the true time (`now`; `clock` is true time). */
  wallJump = 0;
  /** Things that happen at a true time (a customer paying), run as the fake clock passes it. */
  private readonly events: Array<{ at: number; fn: () => void }> = [];

  readonly sleep: Sleep = async (ms) => {
    this.clock += ms;
    for (const e of this.events.filter((e) => e.at <= this.clock)) {
      this.events.splice(this.events.indexOf(e), 1);
      e.fn();
    }
    await Promise.resolve();
  };

  /** Runs `fn` once the fake clock has advanced `ms` from now. */
  after(ms: number, fn: () => void): void {
    this.events.push({ at: this.clock + ms, fn });
  }

  /** The terminal's wall clock. */
  now = (): Date => new Date(this.clock + this.wallJump);
  /** The terminal's monotonic clock: wall-clock steps do not move it. */
  monotonic = (): number => this.clock;

  isOnline(): boolean {
    return this.online;
  }

  lastOnlineAt(): Date | undefined {
    return this.online ? this.now() : this.lastOnline;
  }

  onOnline(listener: () => void): () => void {
    this.onlineListeners.add(listener);
    return () => this.onlineListeners.delete(listener);
  }

  goOnline(): void {
    this.online = true;
    for (const l of this.onlineListeners) l();
  }

  /** Net money taken from customers: captured orders minus refunds. */
  netCaptured(): number {
    let net = 0;
    for (const o of this.orders.values()) if (o.status === 'SUCCESS') net += o.amount;
    for (const r of this.refunds.values()) net -= r.amount;
    return net;
  }

  /** The customer pays a shown QR (possibly after it was closed: a late success). */
  customerPaysQr(paymentId: string, evenIfClosed = false): void {
    const o = this.orders.get(paymentId);
    if (!o) throw new Error(`no order ${paymentId}`);
    if (o.status === 'NOTPAY' || (evenIfClosed && o.status === 'CLOSED')) o.status = 'SUCCESS';
  }

  async request<T>(op: string, args: Record<string, unknown>): Promise<CloudReply<T>> {
    this.calls.push({ op, args });
    await Promise.resolve();
    if (!this.online) return { kind: 'unknown', reason: 'offline' };
    const reply = this.handle(op, args);
    if (this.goOfflineAfter === op) {
      this.goOfflineAfter = undefined;
      this.online = false;
      return { kind: 'unknown', reason: 'link dropped' };
    }
    const errors = this.errorReplies.get(op);
    if (errors && errors.length > 0) {
      const code = errors.shift()!;
      return { kind: 'error', code, message: 'simulated acquirer error' };
    }
    const lose = this.loseReplies.get(op) ?? 0;
    if (lose > 0) {
      this.loseReplies.set(op, lose - 1);
      return { kind: 'unknown', reason: 'reply lost' };
    }
    return reply as CloudReply<T>;
  }

  private handle(op: string, args: Record<string, unknown>): CloudReply {
    const paymentId = String(args.paymentId);
    const order = this.orders.get(paymentId);
    switch (op) {
      case 'payment.create': {
        if (order) return { kind: 'ok', result: { status: order.status } };
        const behaviour = args.method === 'qr' ? 'qr' : this.behaviourOf(args.authCode as string | undefined);
        const o: Order = {
          paymentId,
          amount: Number(args.amount),
          status: 'USERPAYING',
          queries: 0,
          behaviour,
        };
        this.orders.set(paymentId, o);
        if (behaviour === 'qr') {
          o.status = 'NOTPAY';
          return {
            kind: 'ok',
            result: { status: 'NOTPAY', codeUrl: `weixin://wxpay/bizpayurl?pr=${paymentId.slice(-8)}` },
          };
        }
        if (behaviour === 'success') o.status = 'SUCCESS';
        if (behaviour === 'failed') o.status = 'FAILED';
        if (behaviour === 'charge-but-lose-reply') {
          o.status = 'SUCCESS';
          return { kind: 'unknown', reason: 'reply lost' };
        }
        return { kind: 'ok', result: { status: o.status, acquirerRef: `ACQ-${paymentId.slice(-6)}` } };
      }
      case 'payment.query': {
        if (!order) return { kind: 'error', code: 'ORDER_NOT_FOUND', message: 'no such order' };
        order.queries += 1;
        if (
          order.behaviour === 'userpaying-then-success' &&
          order.queries >= 2 &&
          order.status === 'USERPAYING'
        ) {
          order.status = 'SUCCESS';
        }
        return { kind: 'ok', result: { status: order.status, acquirerRef: `ACQ-${paymentId.slice(-6)}` } };
      }
      case 'payment.reverse':
        if (!order) return { kind: 'error', code: 'ORDER_NOT_FOUND', message: 'no such order' };
        order.status = 'REVERSED';
        return { kind: 'ok', result: { status: 'REVERSED' } };
      case 'payment.close':
        if (!order) return { kind: 'error', code: 'ORDER_NOT_FOUND', message: 'no such order' };
        if (order.status === 'SUCCESS') return { kind: 'ok', result: { status: 'SUCCESS' } };
        order.status = 'CLOSED';
        return { kind: 'ok', result: { status: 'CLOSED' } };
      case 'refund.create': {
        const refundId = String(args.refundId);
        const refused = this.refuseRefundOf.get(paymentId);
        if (refused && !this.refunds.has(refundId))
          return { kind: 'error', code: refused, message: 'refused' };
        if (order?.status !== 'SUCCESS' && !this.refunds.has(refundId))
          return { kind: 'error', code: 'ORDER_NOT_PAID', message: 'nothing to refund' };
        if (!this.refunds.has(refundId))
          this.refunds.set(refundId, { paymentId, amount: Number(args.amount) });
        return { kind: 'ok', result: { status: 'SUCCESS', refundId } };
      }
      case 'member.lookup': {
        const m = this.members.get(String(args.code));
        return m
          ? { kind: 'ok', result: { ...m } }
          : { kind: 'error', code: 'MEMBER_UNKNOWN', message: 'no such member' };
      }
      case 'member.recharge': {
        const id = String(args.rechargeId);
        if (![...this.members.values()].some((m) => m.memberId === args.memberId))
          return { kind: 'error', code: 'MEMBER_UNKNOWN', message: 'no such member' };
        if (!this.recharges.has(id)) {
          this.recharges.set(id, { memberId: String(args.memberId), amount: Number(args.amount) });
          for (const m of this.members.values())
            if (m.memberId === args.memberId) m.balance += Number(args.amount);
        }
        return { kind: 'ok', result: { rechargeId: id } };
      }
      case 'coupon.verify': {
        const c = this.coupons.get(String(args.code));
        if (!c) return { kind: 'ok', result: { valid: false, reason: 'UNKNOWN' } };
        if (c.consumedBy)
          return { kind: 'ok', result: { valid: false, couponId: c.couponId, reason: 'USED' } };
        return {
          kind: 'ok',
          result: { valid: true, couponId: c.couponId, kind: c.kind, value: c.value, minSpend: c.minSpend },
        };
      }
      case 'coupon.reserve': {
        const c = this.coupons.get(String(args.code));
        if (!c) return { kind: 'error', code: 'COUPON_UNKNOWN', message: 'no such coupon' };
        if (c.consumedBy) return { kind: 'error', code: 'ALREADY_USED', message: `used by ${c.consumedBy}` };
        if (c.heldBy && c.heldBy !== args.redemptionId)
          return { kind: 'error', code: 'COUPON_RESERVED', message: `held by ${c.heldBy}` };
        c.heldBy = String(args.redemptionId);
        return {
          kind: 'ok',
          result: { valid: true, couponId: c.couponId, kind: c.kind, value: c.value, minSpend: c.minSpend },
        };
      }
      case 'coupon.release': {
        const c = this.coupons.get(String(args.code));
        if (!c) return { kind: 'error', code: 'COUPON_UNKNOWN', message: 'no such coupon' };
        if (c.heldBy === args.redemptionId) delete c.heldBy;
        if (c.consumedBy === args.redemptionId) delete c.consumedBy;
        return { kind: 'ok', result: { released: true } };
      }
      case 'coupon.consume': {
        const c = this.coupons.get(String(args.code));
        if (!c) return { kind: 'error', code: 'COUPON_UNKNOWN', message: 'no such coupon' };
        if (
          (c.consumedBy && c.consumedBy !== args.redemptionId) ||
          (c.heldBy && c.heldBy !== args.redemptionId)
        ) {
          return { kind: 'error', code: 'ALREADY_USED', message: `used by ${c.consumedBy ?? c.heldBy}` };
        }
        c.consumedBy = String(args.redemptionId);
        delete c.heldBy;
        return { kind: 'ok', result: { consumed: true } };
      }
      default:
        return { kind: 'error', code: 'UNKNOWN_OP', message: op };
    }
  }
}
