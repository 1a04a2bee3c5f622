import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AcquirerSimulator } from '../../../cloud/acquirer.js';
import { CloudStore } from '../../../cloud/store.js';
import { tempDir } from '../../helpers/daemon.js';

// The customer confirming a code payment on the phone, as the image's update sequence uses it to
// resolve a payment that holds a reboot back.
const DEVICE = { tenant: 't1', device: 'D1' };
const open: CloudStore[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

function acquirer(): AcquirerSimulator {
  const store = new CloudStore(join(tempDir('posd-acq-confirm-'), 'cloud.db'));
  open.push(store);
  return new AcquirerSimulator(store);
}

const create = (a: AcquirerSimulator, paymentId: string, authCode: string, method = 'code') =>
  a.handle(DEVICE, 'payment.create', {
    paymentId,
    saleId: `S-${paymentId}`,
    method,
    channel: 'wechat',
    authCode,
    amount: 800,
    currency: 'CNY',
  });
const query = (a: AcquirerSimulator, paymentId: string) => a.handle(DEVICE, 'payment.query', { paymentId });

describe('the customer confirms a code payment', () => {
  it('turns a payment that waits on the customer into SUCCESS, once, and counts it captured', () => {
    const a = acquirer();
    expect(create(a, 'P1', '134567890123456786')).toMatchObject({
      ok: true,
      result: { status: 'USERPAYING' },
    });
    expect(query(a, 'P1')).toMatchObject({ ok: true, result: { status: 'USERPAYING' } });
    expect(a.customerConfirmsCode(DEVICE, 'P1')).toBe(true);
    expect(query(a, 'P1')).toMatchObject({ ok: true, result: { status: 'SUCCESS' } });
    expect(a.customerConfirmsCode(DEVICE, 'P1')).toBe(false);
    expect(a.netCaptured(DEVICE)).toBe(800);
  });

  it('leaves a reversed, failed, unknown or QR payment as it is', () => {
    const a = acquirer();
    create(a, 'R1', '134567890123456786');
    expect(a.handle(DEVICE, 'payment.reverse', { paymentId: 'R1' })).toMatchObject({ ok: true });
    expect(a.customerConfirmsCode(DEVICE, 'R1')).toBe(false);
    expect(query(a, 'R1')).toMatchObject({ ok: true, result: { status: 'REVERSED' } });
    create(a, 'F1', '134567890123456787');
    expect(a.customerConfirmsCode(DEVICE, 'F1')).toBe(false);
    expect(a.customerConfirmsCode(DEVICE, 'NOPE')).toBe(false);
    create(a, 'Q1', '', 'qr');
    expect(a.customerConfirmsCode(DEVICE, 'Q1')).toBe(false);
    expect(query(a, 'Q1')).toMatchObject({ ok: true, result: { status: 'NOTPAY' } });
    // The device's reverse after the customer confirmed: the money goes back.
    create(a, 'C1', '134567890123456786');
    expect(a.customerConfirmsCode(DEVICE, 'C1')).toBe(true);
    expect(a.netCaptured(DEVICE)).toBe(800);
    expect(a.handle(DEVICE, 'payment.reverse', { paymentId: 'C1' })).toMatchObject({ ok: true });
    expect(a.netCaptured(DEVICE)).toBe(0);
  });
});
