import { describe, expect, it } from 'vitest';
import { classify, gtinCheckDigitValid } from '../../../src/drivers/scanner/classify.js';

const options = { couponPrefixes: ['CP', '99'], memberPrefixes: ['MB'] };
const c = (code: string, symbology?: string) => classify(code, options, symbology);

describe('scan classification', () => {
  it('payment codes: WeChat (18 digits, 10–15), Alipay (25–30, 16–24 digits), UnionPay (62, 19 digits)', () => {
    expect(c('134567890123456789')).toEqual({
      code: '134567890123456789',
      kind: 'payment',
      channel: 'wechat',
    });
    expect(c('104567890123456789').channel).toBe('wechat');
    expect(c('154567890123456789').channel).toBe('wechat');
    expect(c('2845678901234567').channel).toBe('alipay');
    expect(c('250000000000000000000000').channel).toBe('alipay');
    expect(c('301234567890123456').channel).toBe('alipay');
    expect(c('6212345678901234567')).toEqual({
      code: '6212345678901234567',
      kind: 'payment',
      channel: 'unionpay',
    });
    // Near misses are not payment codes.
    expect(c('164567890123456789').kind).toBe('unknown'); // prefix 16, 18 digits
    expect(c('13456789012345678').kind).toBe('unknown'); // 17 digits
    expect(c('284567890123456').kind).toBe('unknown'); // 15 digits
    expect(c('2845678901234567890123456').kind).toBe('unknown'); // 25 digits
    expect(c('621234567890123456').kind).toBe('unknown'); // 62, 18 digits
    expect(c('13456789012345678A').kind).toBe('unknown');
  });

  it('EAN-13, UPC-A and EAN-8 with valid check digits are products; a wrong check digit is unknown', () => {
    expect(c('6901234567892')).toEqual({ code: '6901234567892', kind: 'product', symbology: 'ean-13' });
    expect(c('6901234567893').kind).toBe('unknown');
    expect(c('036000291452')).toEqual({ code: '036000291452', kind: 'product', symbology: 'upc-a' });
    expect(c('036000291453').kind).toBe('unknown');
    expect(c('96385074')).toEqual({ code: '96385074', kind: 'product', symbology: 'ean-8' });
    expect(c('96385075').kind).toBe('unknown');
    expect(c('4006381333931', 'ean-13').symbology).toBe('ean-13');
    expect(c('1234567').kind).toBe('unknown');
  });

  it('coupons and members by the configured prefixes; payment codes win over a clashing prefix', () => {
    expect(c('CP2024ABC')).toEqual({ code: 'CP2024ABC', kind: 'coupon' });
    expect(c('9912345678')).toEqual({ code: '9912345678', kind: 'coupon' });
    expect(c('MB0001', 'qr')).toEqual({ code: 'MB0001', kind: 'member', symbology: 'qr' });
    expect(classify('134567890123456789', { couponPrefixes: ['13'], memberPrefixes: [] }).kind).toBe(
      'payment',
    );
    expect(classify('CP1', { couponPrefixes: [], memberPrefixes: [] }).kind).toBe('unknown');
    expect(classify('CP1', { couponPrefixes: [''], memberPrefixes: [] }).kind).toBe('unknown');
  });

  it('verifies GS1 mod-10 check digits', () => {
    expect(gtinCheckDigitValid('4006381333931')).toBe(true);
    expect(gtinCheckDigitValid('4006381333932')).toBe(false);
    expect(gtinCheckDigitValid('00012345600012')).toBe(true); // GTIN-14
    expect(gtinCheckDigitValid('1')).toBe(false);
    expect(gtinCheckDigitValid('12a4')).toBe(false);
  });
});
