import { v7 as uuidv7 } from 'uuid';
import { assertAmount } from '../core/money.js';
import { describeError, PosError } from '../errors.js';
import { maskCode } from '../log.js';
import type { SalesStore } from '../offline/sales-store.js';
import type { CloudReply } from './cloud-port.js';
import type { CloudWorkOptions } from './cloud-work-options.js';
import { type Replayable, runOnce } from './idempotency.js';
import { RetryDrain } from './retry-drain.js';
import type { ShiftPort } from './sale-service.js';

/** `member.lookup` result. */
export interface Member {
  memberId: string;
  name?: string;
  level?: string;
  balance: number;
  points: number;
}

type RechargeStatus = 'pending' | 'confirmed' | 'failed';

export interface RechargeView {
  rechargeId: string;
  memberId: string;
  amount: number;
  status: RechargeStatus;
  error?: { code: string; message: string };
}

declare module '../bus.js' {
  interface PosEvents {
    /** The cloud answered a recharge: credited (`confirmed`) or refused (`failed`: hand the cash back). */
    'member.recharge': RechargeView;
  }
}

export interface MemberServiceOptions extends CloudWorkOptions {
  store: SalesStore;
  shifts: ShiftPort;
}

interface RechargeRow {
  id: string;
  member_id: string;
  amount: number;
  status: RechargeStatus;
  detail: string | null;
}

/**
 * Membership cards: lookup by scanned code, the member on a sale (the cloud awards points from the
 * ledger, idempotently per record), and stored-value recharge: money the merchant owes the member,
 * recorded as `member.recharged`, not as a sale. A recharge needs the cloud link (offline nothing
 * could tell a real member from a typo); it is sent at once with a stable rechargeId, retried with
 * backoff until answered, and a refusal is recorded (`member.recharge.failed`: the cash goes back).
 */
export class MemberService {
  private readonly o: MemberServiceOptions;
  private readonly now: () => Date;
  private readonly newId: () => string;
  private readonly stmt;
  private readonly drain: RetryDrain;

  constructor(options: MemberServiceOptions) {
    this.o = options;
    this.now = options.now ?? (() => new Date());
    this.newId = options.newId ?? uuidv7;
    const db = options.db;
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO recharges (id, member_id, amount, tender, status, created_at, updated_at)
         VALUES (@id, @memberId, @amount, @tender, 'pending', @at, @at)`,
      ),
      pending: db.prepare<[], RechargeRow>(
        "SELECT id, member_id, amount, status, detail FROM recharges WHERE status = 'pending' ORDER BY created_at",
      ),
      get: db.prepare<[string], RechargeRow>(
        'SELECT id, member_id, amount, status, detail FROM recharges WHERE id = ?',
      ),
      settle: db.prepare<[RechargeStatus, string | null, string, string]>(
        "UPDATE recharges SET status = ?, detail = ?, updated_at = ? WHERE id = ? AND status = 'pending'",
      ),
    };
    this.drain = new RetryDrain({
      cloud: options.cloud,
      sleep: options.sleep,
      step: () => this.sendStep(),
      onError: (err) => options.log.error({ err: describeError(err) }, 'recharge pass failed'),
    });
  }

  async lookup(code: string): Promise<Member> {
    if (!this.o.cloud.isOnline())
      throw new PosError('TENDER_NOT_SUPPORTED', 'member lookup needs the cloud link');
    const reply = await this.o.cloud.request<Member>(
      'member.lookup',
      { code },
      this.o.business().payments.requestTimeoutMs,
    );
    if (reply.kind === 'ok') return reply.result;
    if (reply.kind === 'error')
      throw new PosError('NOT_FOUND', `no member for ${maskCode(code)}: ${reply.message}`);
    throw new PosError('TENDER_NOT_SUPPORTED', 'the cloud did not answer the member lookup; try again');
  }

  /**
   * Cash in for the member's stored value; the cash is in the drawer, the liability at the cloud.
   * Once per Idempotency-Key. Answers 201 `confirmed` once the cloud credited it, 202 `pending`
   * when the cloud did not answer in time (retried), or throws `RECHARGE_REFUSED` (recorded).
   */
  async recharge(
    memberId: string,
    amount: number,
    idempotencyKey?: string,
  ): Promise<Replayable<RechargeView>> {
    assertAmount(amount, 'recharge amount', { allowZero: false });
    const first = runOnce<{ rechargeId: string }>(
      { ledger: this.o.ledger, store: this.o.store, now: this.now },
      idempotencyKey,
      `POST /members/${memberId}/recharges`,
      { amount },
      () => {
        if (!this.o.cloud.isOnline())
          throw new PosError('RECHARGE_OFFLINE', 'a recharge needs the cloud link: take no cash now');
        const rechargeId = this.newId();
        const shiftId = this.o.shifts.currentIdInTransaction();
        this.stmt.insert.run({
          id: rechargeId,
          memberId,
          amount,
          tender: 'cash',
          at: this.now().toISOString(),
        });
        this.o.ledger.append('member.recharged', {
          rechargeId,
          memberId,
          amount,
          currency: this.o.business().currency,
          tender: 'cash',
          shiftId,
        });
        return { status: 201, body: { rechargeId } };
      },
    );
    const { rechargeId } = first.body;
    const row = this.stmt.get.get(rechargeId);
    if (row?.status === 'pending' && this.o.cloud.isOnline()) await this.send(row);
    return this.reply(rechargeId);
  }

  status(rechargeId: string): RechargeView {
    const r = this.stmt.get.get(rechargeId);
    if (!r) throw new PosError('NOT_FOUND', `no recharge ${rechargeId}`);
    return this.view(r);
  }

  /** Sends pending recharges (same rechargeId on every retry, so the balance moves once). */
  sendPending(): Promise<void> {
    return this.drain.kick();
  }

  private reply(rechargeId: string): Replayable<RechargeView> {
    const view = this.status(rechargeId);
    if (view.status === 'failed') {
      throw new PosError('RECHARGE_REFUSED', `the cloud refused the recharge: hand the cash back`, {
        rechargeId,
        ...(view.error ? { cloudCode: view.error.code } : {}),
      });
    }
    return { status: view.status === 'confirmed' ? 201 : 202, body: view };
  }

  private view(r: RechargeRow): RechargeView {
    const error = r.detail ? (JSON.parse(r.detail) as { code: string; message: string }) : undefined;
    return {
      rechargeId: r.id,
      memberId: r.member_id,
      amount: r.amount,
      status: r.status,
      ...(error ? { error } : {}),
    };
  }

  private async sendStep(): Promise<'done' | 'retry'> {
    for (const r of this.stmt.pending.all()) {
      if ((await this.send(r)) === 'unknown') return 'retry';
    }
    return 'done';
  }

  /** One request for one recharge; its answer settled; an unanswered one left to the drain. */
  private async send(r: RechargeRow): Promise<CloudReply['kind']> {
    const reply = await this.o.cloud.request(
      'member.recharge',
      { rechargeId: r.id, memberId: r.member_id, amount: r.amount },
      this.o.business().payments.requestTimeoutMs,
    );
    if (reply.kind === 'unknown') {
      void this.drain.kick(true);
      return 'unknown';
    }
    const at = this.now().toISOString();
    const settled = this.o.ledger.transact(() => {
      if (reply.kind === 'ok') return this.stmt.settle.run('confirmed', null, at, r.id).changes > 0;
      const error = { code: reply.code, message: reply.message };
      if (this.stmt.settle.run('failed', JSON.stringify(error), at, r.id).changes === 0) return false;
      this.o.ledger.append('member.recharge.failed', {
        rechargeId: r.id,
        memberId: r.member_id,
        amount: r.amount,
        currency: this.o.business().currency,
        tender: 'cash',
        code: reply.code,
        message: reply.message,
      });
      return true;
    });
    if (settled) {
      if (reply.kind === 'error')
        this.o.log.error(
          { rechargeId: r.id, code: reply.code },
          'recharge refused by the cloud: cash handed back',
        );
      this.o.bus.emit('member.recharge', this.status(r.id));
    }
    return reply.kind;
  }
}
