import { channelOfAuthCode, type PaymentChannel } from '../../core/payment-code.js';

export type ScanKind = 'payment' | 'coupon' | 'member' | 'product' | 'order' | 'unknown';

/** An online order's QR (mqtt-v1 "Online orders"): `POSORDER:{id}`. */
const ORDER_PREFIX = 'POSORDER:';

/** A scanned code as local-v1's `scan` event carries it. */
export interface Classification {
  code: string;
  kind: ScanKind;
  channel?: PaymentChannel;
  symbology?: string;
}

export interface ClassifyOptions {
  /** Codes starting with one of these are coupons (business config `coupons.prefixes`). */
  couponPrefixes: readonly string[];
  /** Codes starting with one of these are membership cards (`membership.prefixes`). */
  memberPrefixes: readonly string[];
}

/**
 * What a scanned code is. Payment codes come first (a wallet code must never be taken for
 * anything else), then an order QR `POSORDER:{id}`, then the configured coupon and member prefixes, then EAN-13 / UPC-A / EAN-8
 * with a valid check digit; anything else is `unknown`. `symbology` is what the scanner reported
 * (HID-POS), else the one the digits prove.
 */
export function classify(code: string, options: ClassifyOptions, symbology?: string): Classification {
  const withSymbology = <T extends Classification>(c: T): T =>
    symbology !== undefined ? { ...c, symbology } : c;
  const channel = channelOfAuthCode(code);
  if (channel) return withSymbology({ code, kind: 'payment', channel });
  if (code.startsWith(ORDER_PREFIX) && code.length > ORDER_PREFIX.length) {
    return withSymbology({ code, kind: 'order' });
  }
  if (hasPrefix(code, options.couponPrefixes)) return withSymbology({ code, kind: 'coupon' });
  if (hasPrefix(code, options.memberPrefixes)) return withSymbology({ code, kind: 'member' });
  const gtin = gtinSymbology(code);
  if (gtin) return { code, kind: 'product', symbology: symbology ?? gtin };
  return withSymbology({ code, kind: 'unknown' });
}

function hasPrefix(code: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => p !== '' && code.startsWith(p));
}

/** 'ean-13', 'upc-a' or 'ean-8' when the code is one with a valid check digit. */
export function gtinSymbology(code: string): 'ean-13' | 'upc-a' | 'ean-8' | undefined {
  if (!/^\d+$/.test(code) || !gtinCheckDigitValid(code)) return undefined;
  if (code.length === 13) return 'ean-13';
  if (code.length === 12) return 'upc-a';
  if (code.length === 8) return 'ean-8';
  return undefined;
}

/** GS1 mod-10: from the right, digits weigh 3, 1, 3… (check digit excluded); total ≡ 0 mod 10. */
export function gtinCheckDigitValid(digits: string): boolean {
  if (digits.length < 2 || !/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = digits.length - 2, w = 3; i >= 0; i--, w = 4 - w) sum += Number(digits[i]) * w;
  return (10 - (sum % 10)) % 10 === Number(digits[digits.length - 1]);
}
