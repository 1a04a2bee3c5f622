import { v7 as uuidv7 } from 'uuid';
import type { BusinessConfig } from '../config/business.js';
import { assertAmount } from '../core/money.js';
import { PosError } from '../errors.js';
import { type Logger, maskCode } from '../log.js';
import type { Db } from '../offline/db.js';
import type { Ledger } from '../offline/ledger.js';
import type { CloudPort } from './cloud-port.js';
import type { ShiftPort } from './sale-service.js';

/** `member.lookup` result. */
export interface Member {
  memberId: string;
  name?: string;
  level?: string;
  balance: number;
  points: number;
}

export interface MemberServiceOptions {
  db: Db;
  ledger: Ledger;
  shifts: ShiftPort;
  cloud: CloudPort;
  log: Logger;
  business: () => BusinessConfig;
  now?: () => Date;
  newId?: () => string;
}

/**
 * Membership cards: lookup by scanned code, the member on a sale (the cloud awards points from the
 * ledger, idempotently per record), and stored-value recharge: money the merchant owes the member,
 * recorded as `member.recharged`, not as a sale.
 */
export class MemberService {
  private readonly o: MemberServiceOptions;
  private readonly now: () => Date;
  private readonly newId: () => string;
  private readonly stmt;
  private sending = false;

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
      pending: db.prepare<[], { id: string; member_id: string; amount: number }>(
        "SELECT id, member_id, amount FROM recharges WHERE status = 'pending' ORDER BY created_at",
      ),
      get: db.prepare<
        [string],
        { id: string; member_id: string; amount: number; status: string; detail: string | null }
      >('SELECT id, member_id, amount, status, detail FROM recharges WHERE id = ?'),
      setStatus: db.prepare<[string, string | null, string, string]>(
        'UPDATE recharges SET status = ?, detail = ?, updated_at = ? WHERE id = ?',
      ),
    };
    options.cloud.onOnline(() => void this.sendPending());
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

  /** Cash in for the member's stored value; the cash is in the drawer, the liability at the cloud. */
  recharge(memberId: string, amount: number): { rechargeId: string; status: string } {
    assertAmount(amount, 'recharge amount', { allowZero: false });
    const rechargeId = this.newId();
    const at = this.now().toISOString();
    this.o.ledger.transact(() => {
      const shiftId = this.o.shifts.currentIdInTransaction();
      this.stmt.insert.run({ id: rechargeId, memberId, amount, tender: 'cash', at });
      this.o.ledger.append('member.recharged', {
        rechargeId,
        memberId,
        amount,
        currency: this.o.business().currency,
        tender: 'cash',
        shiftId,
      });
    });
    void this.sendPending();
    return { rechargeId, status: 'pending' };
  }

  status(rechargeId: string): { rechargeId: string; memberId: string; amount: number; status: string } {
    const r = this.stmt.get.get(rechargeId);
    if (!r) throw new PosError('NOT_FOUND', `no recharge ${rechargeId}`);
    return { rechargeId: r.id, memberId: r.member_id, amount: r.amount, status: r.status };
  }

  /** Sends recharges to the cloud; the same rechargeId on every retry, so the balance moves once. */
  async sendPending(): Promise<void> {
    if (this.sending || !this.o.cloud.isOnline()) return;
    this.sending = true;
    try {
      for (const r of this.stmt.pending.all()) {
        const reply = await this.o.cloud.request(
          'member.recharge',
          { rechargeId: r.id, memberId: r.member_id, amount: r.amount },
          this.o.business().payments.requestTimeoutMs,
        );
        if (reply.kind === 'unknown') return;
        const ok = reply.kind === 'ok';
        this.stmt.setStatus.run(
          ok ? 'confirmed' : 'failed',
          ok ? null : reply.message,
          this.now().toISOString(),
          r.id,
        );
        if (!ok)
          this.o.log.error(
            { rechargeId: r.id, code: reply.code },
            'recharge refused by the cloud: refund the cash',
          );
      }
    } finally {
      this.sending = false;
    }
  }
}
