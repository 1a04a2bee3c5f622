import type { CloudKv } from './cloud-kv.js';
import { type Coupon, CouponDesk, type NewCoupon } from './coupon-desk.js';

/**
 * A deterministic payment-acquirer simulator (WeChat/Alipay-like). The outcome of a code payment
 * is chosen by the payment code's last digit:
 *   0–4 SUCCESS at once
 *   5   USERPAYING, then SUCCESS on the 2nd query (the customer confirms on the phone)
 *   6   USERPAYING until reversed (the customer never confirms)
 *   7   FAILED (e.g. insufficient balance)
 *   8   SUCCESS, but the reply to the create is lost (no answer): the device must query
 *   9   USERPAYING, then FAILED on the 2nd query
 * A QR payment is NOTPAY with a code URL until the customer pays (`customerPaysQr`, or
 * automatically after `autoPayQrAfterQueries` queries when set, for the demo).
 * Everything is idempotent on its id: a retried create, refund, consume or recharge acts once.
 */
export type OpResult =
  | { ok: true; result: Record<string, unknown> }
  | { ok: false; error: { code: string; message: string } }
  | { noReply: true };

interface Payment {
  paymentId: string;
  saleId: string;
  method: 'code' | 'qr';
  channel: string;
  amount: number;
  status: 'SUCCESS' | 'USERPAYING' | 'NOTPAY' | 'FAILED' | 'CLOSED' | 'REVERSED';
  behaviour: string;
  queries: number;
  refunded: number;
  /** Stored-value payments: the member card charged. */
  memberCode?: string;
}

/** The behaviour of a payment reversed or closed before its create arrived. */
const TOMBSTONE = 'tombstone';

type Member = { memberId: string; name: string; balance: number; points: number; phone?: string };

/** The terminal a request came from: device ids are unique only within a tenant. */
export interface Terminal {
  tenant: string;
  device: string;
}

/** What the simulator's state (payments, refunds, coupon holds) is keyed by. */
const terminalKey = (t: Terminal): string => `${t.tenant}/${t.device}`;

export interface AcquirerOptions {
  autoPayQrAfterQueries?: number;
  /** The cloud's clock (ms), for request deadlines, coupon expiry and holds; the simulation passes its own. */
  now?: () => number;
}

/** Requests that take or give money: refused once their deadline has passed. */
const LATE_REFUSED = new Set([
  'payment.create',
  'refund.create',
  'coupon.reserve',
  'coupon.consume',
  'member.recharge',
]);

export class AcquirerSimulator {
  private readonly now: () => number;
  private readonly coupons: CouponDesk;

  constructor(
    private readonly store: CloudKv,
    private readonly options: AcquirerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.coupons = new CouponDesk(store, this.now);
  }

  /** Faults for tests: the next N replies to an op are lost after the acquirer acted. */
  readonly dropReplies = new Map<string, number>();
  /** Faults for tests: the next replies to an op are these error codes (SYSTEMERROR…), after it acted. */
  readonly errorReplies = new Map<string, string[]>();

  /**
   * One request, as one IMMEDIATE transaction: instances sharing the file take turns, and a crash
   * between its writes leaves none of them. A money-moving request that arrives after its
   * `deadline` is refused (`DEADLINE_EXCEEDED`) and moves nothing: the device has already taken
   * the outcome as unknown and is querying.
   */
  handle(terminal: Terminal, op: string, args: Record<string, unknown>, deadline?: unknown): OpResult {
    const late = this.lateness(op, deadline);
    if (late) return late;
    const result = this.store.exclusive(() => this.act(terminalKey(terminal), op, args));
    const drop = this.dropReplies.get(op) ?? 0;
    if (drop > 0) {
      this.dropReplies.set(op, drop - 1);
      return { noReply: true };
    }
    const code = this.errorReplies.get(op)?.shift();
    if (code) return { ok: false, error: { code, message: 'simulated acquirer error' } };
    return result;
  }

  /** Ops that take or give money are refused after their deadline; cancels and reads are not. */
  private lateness(op: string, deadline: unknown): OpResult | undefined {
    if (!LATE_REFUSED.has(op) || deadline === undefined) return undefined;
    const at = typeof deadline === 'string' ? Date.parse(deadline) : Number.NaN;
    if (!Number.isFinite(at))
      return { ok: false, error: { code: 'INVALID_REQUEST', message: 'deadline is not a time' } };
    if (this.now() <= at) return undefined;
    return {
      ok: false,
      error: { code: 'DEADLINE_EXCEEDED', message: `request arrived after its deadline ${deadline}` },
    };
  }

  private act(terminal: string, op: string, args: Record<string, unknown>): OpResult {
    switch (op) {
      case 'payment.create':
        return this.create(terminal, args);
      case 'payment.query':
        return this.query(terminal, args);
      case 'payment.reverse':
        return this.finish(terminal, args, 'REVERSED');
      case 'payment.close':
        return this.finish(terminal, args, 'CLOSED');
      case 'refund.create':
        return this.refund(terminal, args);
      case 'coupon.verify':
        return this.coupons.verify(args);
      case 'coupon.reserve':
        return this.coupons.reserve(terminal, args);
      case 'coupon.consume':
        return this.coupons.consume(terminal, args);
      case 'coupon.release':
        return this.coupons.release(args);
      case 'member.lookup':
        return this.memberLookup(args);
      case 'member.recharge':
        return this.memberRecharge(args);
      default:
        return { ok: false, error: { code: 'UNKNOWN_OP', message: `unknown op ${op}` } };
    }
  }

  /** Money taken from customers net of refunds, for tests' "charged once" checks. */
  netCaptured(terminal: Terminal): number {
    let net = 0;
    for (const p of this.payments(terminal)) if (p.status === 'SUCCESS') net += p.amount - p.refunded;
    return net;
  }

  /** Every refund a terminal made, by refund id (tests' "refunded once" checks). */
  refunds(terminal: Terminal): Array<{ refundId: string; paymentId: string; amount: number }> {
    return this.store
      .kvAll<{ paymentId: string; amount: number }>(`refund:${terminalKey(terminal)}`)
      .map((x) => ({ refundId: x.key, ...x.value }));
  }

  /** Every payment a terminal made (tests' invariants). */
  payments(terminal: Terminal): Payment[] {
    return this.store.kvAll<Payment>(`payment:${terminalKey(terminal)}`).map((x) => x.value);
  }

  payment(terminal: Terminal, paymentId: string): Payment | undefined {
    return this.stored(terminalKey(terminal), paymentId);
  }

  customerPaysQr(terminal: Terminal, paymentId: string): boolean {
    const key = terminalKey(terminal);
    const p = this.stored(key, paymentId);
    if (p?.method !== 'qr' || p.behaviour === TOMBSTONE) return false;
    if (p.status !== 'NOTPAY' && p.status !== 'CLOSED') return false;
    p.status = 'SUCCESS';
    this.save(key, p);
    return true;
  }

  /**
   * The customer confirms a code payment on the phone (one that is USERPAYING: codes ending 5, 6
   * or 9): it is SUCCESS at the device's next query. A reversed or failed payment stays as it is.
   */
  customerConfirmsCode(terminal: Terminal, paymentId: string): boolean {
    const key = terminalKey(terminal);
    const p = this.stored(key, paymentId);
    if (p?.method !== 'code' || p.status !== 'USERPAYING') return false;
    p.status = 'SUCCESS';
    this.save(key, p);
    return true;
  }

  /** A `coupon.issued` record's coupon (see CouponDesk). */
  registerIssued(body: Record<string, unknown>): void {
    this.coupons.registerIssued(body);
  }

  /** A `coupon.revoked` record (see CouponDesk). */
  revokeIssued(body: Record<string, unknown>): void {
    this.coupons.revokeIssued(body);
  }

  addCoupon(code: string, coupon: NewCoupon): void {
    this.coupons.addCoupon(code, coupon);
  }

  /** A coupon as the cloud holds it now (tests, the demo). */
  coupon(code: string): Coupon | undefined {
    return this.coupons.coupon(code);
  }

  addMember(code: string, member: Member): void {
    this.store.kvPut('member', code, member);
  }

  private stored(terminal: string, paymentId: string): Payment | undefined {
    return this.store.kvGet<Payment>(`payment:${terminal}`, paymentId);
  }

  private save(terminal: string, p: Payment): void {
    this.store.kvPut(`payment:${terminal}`, p.paymentId, p);
  }

  private create(terminal: string, args: Record<string, unknown>): OpResult {
    const paymentId = String(args.paymentId ?? '');
    const amount = Number(args.amount);
    if (!paymentId || !Number.isSafeInteger(amount) || amount <= 0) {
      return {
        ok: false,
        error: { code: 'INVALID_REQUEST', message: 'paymentId and a positive amount are required' },
      };
    }
    const existing = this.stored(terminal, paymentId);
    if (existing?.behaviour === TOMBSTONE) {
      // Reversed or closed before the acquirer ever saw it: a late create charges nothing.
      const code = existing.status === 'CLOSED' ? 'ORDER_CLOSED' : 'ORDER_REVERSED';
      return {
        ok: false,
        error: { code, message: `payment ${paymentId} was ${existing.status.toLowerCase()}` },
      };
    }
    if (existing) return { ok: true, result: this.view(existing) };
    const method = args.method === 'qr' ? 'qr' : 'code';
    const authCode = String(args.authCode ?? '');
    if (method === 'code' && args.channel === 'member')
      return this.memberPay(terminal, paymentId, args, amount);
    if (method === 'code' && !/^\d{10,30}$/.test(authCode)) {
      return { ok: false, error: { code: 'AUTH_CODE_INVALID', message: 'payment code not recognised' } };
    }
    const behaviour = method === 'qr' ? 'qr' : authCode.slice(-1);
    const status: Payment['status'] =
      method === 'qr'
        ? 'NOTPAY'
        : behaviour === '7'
          ? 'FAILED'
          : '012348'.includes(behaviour)
            ? 'SUCCESS'
            : 'USERPAYING';
    const p: Payment = {
      paymentId,
      saleId: String(args.saleId ?? ''),
      method,
      channel: String(args.channel ?? 'wechat'),
      amount,
      status,
      behaviour,
      queries: 0,
      refunded: 0,
    };
    this.save(terminal, p);
    if (behaviour === '8') return { noReply: true };
    return { ok: true, result: this.view(p) };
  }

  private query(terminal: string, args: Record<string, unknown>): OpResult {
    const p = this.stored(terminal, String(args.paymentId ?? ''));
    if (!p) return { ok: false, error: { code: 'ORDER_NOT_FOUND', message: 'no such payment' } };
    p.queries += 1;
    if (p.status === 'USERPAYING' && p.queries >= 2 && p.behaviour === '5') p.status = 'SUCCESS';
    if (p.status === 'USERPAYING' && p.queries >= 2 && p.behaviour === '9') p.status = 'FAILED';
    const auto = this.options.autoPayQrAfterQueries;
    if (p.method === 'qr' && p.status === 'NOTPAY' && auto !== undefined && p.queries >= auto)
      p.status = 'SUCCESS';
    this.save(terminal, p);
    return { ok: true, result: this.view(p) };
  }

  /** Reverse (code) or close (QR). A close of a paid QR answers SUCCESS: it counts for the sale. */
  private finish(terminal: string, args: Record<string, unknown>, to: 'REVERSED' | 'CLOSED'): OpResult {
    const paymentId = String(args.paymentId ?? '');
    const p = this.stored(terminal, paymentId);
    if (!p) {
      if (!paymentId)
        return { ok: false, error: { code: 'INVALID_REQUEST', message: 'paymentId is required' } };
      // A tombstone: the create may still be on its way, and must then charge nothing.
      this.save(terminal, {
        paymentId,
        saleId: '',
        method: to === 'CLOSED' ? 'qr' : 'code',
        channel: '',
        amount: 0,
        status: to,
        behaviour: TOMBSTONE,
        queries: 0,
        refunded: 0,
      });
      return { ok: true, result: { status: to } };
    }
    if (to === 'CLOSED' && p.status === 'SUCCESS') return { ok: true, result: this.view(p) };
    if (to === 'REVERSED' && p.status === 'SUCCESS') {
      this.creditMember(p, p.amount - p.refunded);
      p.refunded = p.amount; // a reversal gives it back
    }
    if (p.status !== 'REVERSED' && p.status !== 'CLOSED') p.status = to;
    this.save(terminal, p);
    return { ok: true, result: { ...this.view(p), status: to } };
  }

  private refund(terminal: string, args: Record<string, unknown>): OpResult {
    const refundId = String(args.refundId ?? '');
    const amount = Number(args.amount);
    const done = this.store.kvGet<{ amount: number }>(`refund:${terminal}`, refundId);
    if (done) return { ok: true, result: { refundId, status: 'SUCCESS', amount: done.amount } };
    const p = this.stored(terminal, String(args.paymentId ?? ''));
    if (p?.status !== 'SUCCESS')
      return { ok: false, error: { code: 'ORDER_NOT_PAID', message: 'nothing to refund' } };
    if (!Number.isSafeInteger(amount) || amount <= 0 || p.refunded + amount > p.amount) {
      return { ok: false, error: { code: 'REFUND_EXCEEDS', message: 'refund exceeds what was paid' } };
    }
    p.refunded += amount;
    this.creditMember(p, amount);
    this.save(terminal, p);
    this.store.kvPut(`refund:${terminal}`, refundId, { paymentId: p.paymentId, amount });
    return { ok: true, result: { refundId, status: 'SUCCESS', amount } };
  }

  /** Stored value: SUCCESS when the balance covers it (debited at once), else FAILED. */
  private memberPay(
    terminal: string,
    paymentId: string,
    args: Record<string, unknown>,
    amount: number,
  ): OpResult {
    const code = String(args.authCode ?? '');
    const m = this.store.kvGet<Member>('member', code);
    if (!m) return { ok: false, error: { code: 'MEMBER_UNKNOWN', message: 'no such member' } };
    const covered = m.balance >= amount;
    if (covered) this.store.kvPut('member', code, { ...m, balance: m.balance - amount });
    const p: Payment = {
      paymentId,
      saleId: String(args.saleId ?? ''),
      method: 'code',
      channel: 'member',
      amount,
      status: covered ? 'SUCCESS' : 'FAILED',
      behaviour: 'member',
      queries: 0,
      refunded: 0,
      memberCode: code,
    };
    this.save(terminal, p);
    return { ok: true, result: this.view(p) };
  }

  private creditMember(p: Payment, amount: number): void {
    if (!p.memberCode || amount <= 0) return;
    const m = this.store.kvGet<Member>('member', p.memberCode);
    if (m) this.store.kvPut('member', p.memberCode, { ...m, balance: m.balance + amount });
  }

  /**
   * Member points from stored records, once per record key: a sale earns one per yuan of its total;
   * a refund or a void brings the sale's points down to what its net still earns (a void: none).
   * Refunds and voids find the member on the original sale.
   */
  awardPoints(recordKey: string, type: string, body: Record<string, unknown>): void {
    // A sale without a member earns nothing and changes nothing, replayed or not: no reads, no writes.
    if (type === 'sale.completed' && !earnsPoints(body)) return;
    this.store.exclusive(() => this.awardPointsOnce(recordKey, type, body));
  }

  private awardPointsOnce(recordKey: string, type: string, body: Record<string, unknown>): void {
    if (this.store.kvGet('points-award', recordKey)) return;
    const saleId = String(body.saleId);
    type SaleMember = { memberId: string; net: number; points: number };
    let sale = this.store.kvGet<SaleMember>('sale-member', saleId);
    let points = 0;
    if (type === 'sale.completed') {
      if (earnsPoints(body)) {
        const total = Number(body.total);
        points = Math.floor(total / 100);
        sale = { memberId: body.memberId, net: total, points };
      }
    } else if (sale && (type === 'sale.voided' || (type === 'refund.completed' && body.automatic !== true))) {
      // An automatic refund (a QR paid after close) returns money the sale never took: no change.
      const net = type === 'sale.voided' ? 0 : Math.max(0, sale.net - Number(body.total));
      const earned = Number.isSafeInteger(net) ? Math.floor(net / 100) : sale.points;
      points = earned - sale.points;
      sale = { ...sale, net, points: earned };
    }
    this.store.kvPut('points-award', recordKey, { memberId: sale?.memberId ?? null, points });
    if (sale) this.store.kvPut('sale-member', saleId, sale);
    if (!sale || points === 0) return;
    for (const { key, value } of this.store.kvAll<Member>('member')) {
      if (value.memberId !== sale.memberId) continue;
      this.store.kvPut('member', key, { ...value, points: Math.max(0, value.points + points) });
      return;
    }
  }

  /** A member's points now (tests, the demo). */
  memberPoints(code: string): number | undefined {
    return this.store.kvGet<Member>('member', code)?.points;
  }

  /** A member's stored value now (tests, the demo). */
  memberBalance(code: string): number | undefined {
    return this.store.kvGet<Member>('member', code)?.balance;
  }

  /**
   * `member.lookup {code}`: the member card's code, else the member's mobile number (the cashier
   * types it when the card is not at hand). Found by phone, the result carries no card code.
   */
  private memberLookup(args: Record<string, unknown>): OpResult {
    const code = String(args.code ?? '');
    const m =
      this.store.kvGet<Member>('member', code) ??
      (code ? this.store.kvAll<Member>('member').find((e) => e.value.phone === code)?.value : undefined);
    return m
      ? { ok: true, result: m }
      : { ok: false, error: { code: 'MEMBER_UNKNOWN', message: 'no such member' } };
  }

  private memberRecharge(args: Record<string, unknown>): OpResult {
    const rechargeId = String(args.rechargeId ?? '');
    if (this.store.kvGet('recharge', rechargeId)) return { ok: true, result: { rechargeId } };
    const amount = Number(args.amount);
    for (const { key, value } of this.store.kvAll<{ memberId: string; balance: number }>('member')) {
      if (value.memberId === args.memberId) {
        this.store.kvPut('member', key, { ...value, balance: value.balance + amount });
        this.store.kvPut('recharge', rechargeId, { memberId: value.memberId, amount });
        return { ok: true, result: { rechargeId } };
      }
    }
    return { ok: false, error: { code: 'MEMBER_UNKNOWN', message: 'no such member' } };
  }

  private view(p: Payment): Record<string, unknown> {
    return {
      status: p.status,
      channel: p.channel,
      ...(p.status === 'SUCCESS' ? { acquirerRef: `SIM${p.paymentId.replaceAll('-', '').slice(-12)}` } : {}),
      ...(p.method === 'qr' ? { codeUrl: `weixin://wxpay/bizpayurl?pr=${p.paymentId.slice(-10)}` } : {}),
    };
  }
}

/** A sale that earns points: a member's, with a total in fen. */
function earnsPoints(body: Record<string, unknown>): body is Record<string, unknown> & { memberId: string } {
  return (
    typeof body.memberId === 'string' && body.memberId !== '' && Number.isSafeInteger(Number(body.total))
  );
}
