import { describe, expect, it } from 'vitest';
import { deviceLedger } from '../../helpers/cloud-fixture.js';
import { type Api, type Body, cloudTerminals, openSale } from '../../helpers/cloud-terminals.js';
import { FAST_PAYMENTS } from '../../helpers/money-fixtures.js';
import { waitFor } from '../../helpers/wait.js';

/** Issue 12 cases 6, 7 and 9 against the reference cloud: coupons, loyalty and recharges. */

const fx = cloudTerminals();
const terminal = async (device: string, doc: Record<string, unknown> = {}) =>
  (await fx.terminal(device, { doc: { payments: FAST_PAYMENTS, ...doc } })).api;

/** Applies a coupon as a cashier does: again when the cloud's answer did not come in time. */
async function applyCoupon(api: Api, saleId: string, code: string) {
  for (let i = 0; ; i++) {
    const r = await api.call<Body & { total: number; status: string }>(
      'POST',
      `/api/v1/sales/${saleId}/coupon`,
      {
        code,
      },
    );
    if (r.body.error?.code !== 'COUPON_UNCONFIRMED' || i === 20) return r;
  }
}

async function synced(api: Api, type: string) {
  return waitFor(async () => {
    const l = await deviceLedger(api);
    const r = l.filter((x) => x.type === type);
    return r.length > 0 && r.every((x) => x.sync === 'synced') ? r : undefined;
  }, `${type} synced`);
}

describe('coupons, loyalty and recharges against the reference cloud', () => {
  it('(6) two online terminals redeem one coupon: the second is refused until the first lets it go', async () => {
    const a = await terminal('L1');
    const b = await terminal('L2');
    fx.cloud.acquirer.addCoupon('CP-SHARED', { couponId: 'c-shared', kind: 'amount', value: 300 });
    const saleA = await openSale(a, 1_000);
    const saleB = await openSale(b, 1_000);
    expect((await applyCoupon(a, saleA, 'CP-SHARED')).status).toBe(200);
    const refused = await applyCoupon(b, saleB, 'CP-SHARED');
    expect(refused.status).toBe(409);
    expect(refused.body.error?.code).toBe('COUPON_RESERVED');
    expect(
      (await a.call('POST', `/api/v1/sales/${saleA}/payments`, { method: 'cash', amount: 700 })).status,
    ).toBe(201);
    const redeemed = (await synced(a, 'coupon.redeemed'))[0]!;
    await waitFor(
      () =>
        fx.cloud.acquirer.coupon('CP-SHARED')?.consumedBy === redeemed.body.redemptionId ? true : undefined,
      'consumed at the cloud',
    );
    const used = await applyCoupon(b, saleB, 'CP-SHARED');
    expect(used.body.error?.code).toBe('COUPON_INVALID');
    // A voids its sale: the coupon goes back to the customer, and B may now take it.
    expect((await a.call('POST', `/api/v1/sales/${saleA}/void`, {})).status).toBe(200);
    await waitFor(
      () => (fx.cloud.acquirer.coupon('CP-SHARED')?.consumedBy === null ? true : undefined),
      'released',
    );
    const taken = await applyCoupon(b, saleB, 'CP-SHARED');
    expect(taken.status).toBe(200);
    expect(taken.body.total).toBe(700);
  });

  it('(6) a coupon worth the whole sale completes it at total 0, recorded and consumed', async () => {
    const t = await terminal('L3');
    fx.cloud.acquirer.addCoupon('CP-FREE', { couponId: 'c-free', kind: 'amount', value: 5_000 });
    const saleId = await openSale(t, 1_200);
    const r = await applyCoupon(t, saleId, 'CP-FREE');
    expect(r.body).toMatchObject({ status: 'completed', total: 0, due: 0 });
    const [done] = await synced(t, 'sale.completed');
    expect(done!.body).toMatchObject({ saleId, total: 0, payments: [] });
    await waitFor(() => (fx.cloud.acquirer.coupon('CP-FREE')?.consumedBy ? true : undefined), 'consumed');
    const tendered = await t.call<Body>('POST', '/api/v1/sales', {
      lines: [{ name: 'Free', qty: 1, unitPrice: 0 }],
      tenders: [{ method: 'cash', amount: 500 }],
    });
    expect(tendered.status).toBe(409);
    expect(tendered.body.error?.code).toBe('NOTHING_TO_PAY');
  });

  it('(7) voiding a completed member sale takes its points back and revokes the coupon it earned', async () => {
    const t = await terminal('L4', {
      coupons: {
        issueRules: [{ ruleId: 'thanks', kind: 'amount', value: 500, validDays: 30, afterSpend: 5_000 }],
      },
    });
    fx.cloud.acquirer.addMember('MB-L4', { memberId: 'm-l4', name: 'L', balance: 0, points: 0 });
    const saleId = await openSale(t, 6_000);
    await t.call('POST', `/api/v1/sales/${saleId}/member`, { memberId: 'm-l4' });
    await t.call('POST', `/api/v1/sales/${saleId}/payments`, { method: 'cash', amount: 6_000 });
    const [issued] = await synced(t, 'coupon.issued');
    const code = String(issued!.body.code);
    await waitFor(
      () => (fx.cloud.acquirer.memberPoints('MB-L4') === 60 ? true : undefined),
      'points awarded',
    );
    expect(fx.cloud.acquirer.coupon(code)).toMatchObject({ couponId: issued!.body.couponId });
    expect((await t.call('POST', `/api/v1/sales/${saleId}/void`, {})).status).toBe(200);
    await synced(t, 'coupon.revoked');
    await waitFor(
      () => (fx.cloud.acquirer.memberPoints('MB-L4') === 0 ? true : undefined),
      'points taken back',
    );
    expect(fx.cloud.acquirer.coupon(code)?.revoked).toMatchObject({ reason: 'sale.voided' });
    const other = await openSale(t, 2_000);
    const refused = await applyCoupon(t, other, code);
    expect(refused.body.error?.code).toBe('COUPON_INVALID');
  });

  it('a member payment POST retried after it went through takes the card once', async () => {
    const t = await terminal('L6');
    fx.cloud.acquirer.addMember('MBL60001', { memberId: 'm-l6', name: 'P', balance: 5_000, points: 0 });
    const saleId = await openSale(t, 2_500);
    const key = { 'idempotency-key': 'member-pay-l6-1' };
    const pay = { method: 'member', memberCode: 'MBL60001', amount: 1_000 };
    const first = await t.call<Body>('POST', `/api/v1/sales/${saleId}/payments`, pay, key);
    expect(first.status).toBe(202);
    const paymentId = String(first.body.paymentId);
    await waitFor(async () => {
      const p = await t.call<Body>('GET', `/api/v1/payments/${paymentId}`);
      return p.body.status === 'succeeded' ? true : undefined;
    }, 'the member payment succeeded');
    // The reply was lost; the client sends the same request again.
    const again = await t.call<Body>('POST', `/api/v1/sales/${saleId}/payments`, pay, key);
    expect(again).toEqual(first);
    expect(fx.cloud.acquirer.memberBalance('MBL60001')).toBe(4_000);
    const sale = await t.call<Body & { due: number; status: string }>('GET', `/api/v1/sales/${saleId}`);
    expect(sale.body).toMatchObject({ status: 'open', due: 1_500 });
  });

  it('a coupon given by hand, its POST retried after a lost reply: one coupon', async () => {
    const t = await terminal('L7', {
      coupons: { issueRules: [{ ruleId: 'hand', kind: 'amount', value: 500, validDays: 30 }] },
    });
    const key = { 'idempotency-key': 'hand-l7-1' };
    const first = await t.call<Body>('POST', '/api/v1/coupons/issue', { ruleId: 'hand' }, key);
    const again = await t.call<Body>('POST', '/api/v1/coupons/issue', { ruleId: 'hand' }, key);
    expect(first.status).toBe(201);
    expect(again).toEqual(first);
    expect((await deviceLedger(t)).filter((r) => r.type === 'coupon.issued')).toHaveLength(1);
  });

  it('(9) a retried recharge POST credits once; a recharge for nobody is refused, recorded and credits nothing', async () => {
    const t = await terminal('L5');
    fx.cloud.acquirer.addMember('MB-L5', { memberId: 'm-l5', name: 'R', balance: 0, points: 0 });
    const key = { 'idempotency-key': 'recharge-l5-1' };
    const first = await t.call<Body>('POST', '/api/v1/members/m-l5/recharges', { amount: 10_000 }, key);
    const again = await t.call<Body>('POST', '/api/v1/members/m-l5/recharges', { amount: 10_000 }, key);
    expect(first.status).toBe(201);
    expect(again.body.rechargeId).toBe(first.body.rechargeId);
    expect(fx.cloud.acquirer.memberBalance('MB-L5')).toBe(10_000);
    const nobody = await t.call<Body>('POST', '/api/v1/members/m-ghost/recharges', { amount: 5_000 });
    expect(nobody.status).toBe(422);
    expect(nobody.body.error?.code).toBe('RECHARGE_REFUSED');
    const [failed] = await synced(t, 'member.recharge.failed');
    expect(failed!.body).toMatchObject({ memberId: 'm-ghost', amount: 5_000, code: 'MEMBER_UNKNOWN' });
    expect((await deviceLedger(t)).filter((r) => r.type === 'member.recharged')).toHaveLength(2);
    expect(fx.cloud.store.kvAll('recharge')).toHaveLength(1);
  });
});
