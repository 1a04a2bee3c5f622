import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudService } from '../../../cloud/cloud-service.js';

/*
 * Device ids are unique only within a tenant: two shops may both name their till "D1". The
 * reference cloud's acquirer keeps each terminal's payments and refunds apart by tenant and device,
 * so one shop can neither read, reverse nor refund the other's payment, nor replay it as its own.
 */

const clouds: CloudService[] = [];
afterEach(() => {
  for (const c of clouds.splice(0)) c.store.close();
});

function cloud(): CloudService {
  const c = new CloudService({
    brokerUrl: 'mqtt://unused',
    dbFile: ':memory:',
    signingKey: generateKeyPairSync('ed25519').privateKey,
  });
  clouds.push(c);
  return c;
}

const ask = (c: CloudService, tenant: string, op: string, args: Record<string, unknown>) =>
  c.handleRequest(tenant, 'D1', { reqId: `${tenant}-${op}`, op, args });

const codePayment = (paymentId: string, amount: number) => ({
  paymentId,
  saleId: `S-${amount}`,
  method: 'code',
  channel: 'wechat',
  authCode: '134567890123456780',
  amount,
  currency: 'CNY',
});

describe('reference cloud: the acquirer keeps two tenants’ terminals of the same id apart', () => {
  it('a payment id another shop’s D1 used is a new payment here, and that shop cannot reverse ours', () => {
    const c = cloud();
    expect(ask(c, 'shop-a', 'payment.create', codePayment('P1', 2_500))).toMatchObject({
      ok: true,
      result: { status: 'SUCCESS' },
    });
    // The other shop's D1 pays 900 under the same payment id: its own payment, not a replay of ours.
    expect(ask(c, 'shop-b', 'payment.create', codePayment('P1', 900))).toMatchObject({
      ok: true,
      result: { status: 'SUCCESS' },
    });
    // It cannot reverse ours: it reverses its own P1 only.
    expect(ask(c, 'shop-b', 'payment.reverse', { paymentId: 'P1' })).toMatchObject({ ok: true });
    expect(ask(c, 'shop-b', 'payment.query', { paymentId: 'P2' })).toMatchObject({
      ok: false,
      error: { code: 'ORDER_NOT_FOUND' },
    });

    const a = { tenant: 'shop-a', device: 'D1' };
    const b = { tenant: 'shop-b', device: 'D1' };
    expect(c.acquirer.payment(a, 'P1')).toMatchObject({ status: 'SUCCESS', amount: 2_500, refunded: 0 });
    expect(c.acquirer.payment(b, 'P1')).toMatchObject({ status: 'REVERSED', amount: 900, refunded: 900 });
    expect(c.acquirer.netCaptured(a)).toBe(2_500);
    expect(c.acquirer.netCaptured(b)).toBe(0);
  });

  it('a refund id is one shop’s: the other shop’s refund under the same id moves its own money', () => {
    const c = cloud();
    ask(c, 'shop-a', 'payment.create', codePayment('PA', 2_000));
    ask(c, 'shop-b', 'payment.create', codePayment('PB', 3_000));
    expect(ask(c, 'shop-a', 'refund.create', { refundId: 'R1', paymentId: 'PA', amount: 500 })).toMatchObject(
      { ok: true, result: { status: 'SUCCESS', amount: 500 } },
    );
    // Same refund id from the other shop's D1: not a replay of shop A's refund.
    expect(ask(c, 'shop-b', 'refund.create', { refundId: 'R1', paymentId: 'PB', amount: 700 })).toMatchObject(
      { ok: true, result: { status: 'SUCCESS', amount: 700 } },
    );
    expect(c.acquirer.netCaptured({ tenant: 'shop-a', device: 'D1' })).toBe(1_500);
    expect(c.acquirer.netCaptured({ tenant: 'shop-b', device: 'D1' })).toBe(2_300);
  });
});
