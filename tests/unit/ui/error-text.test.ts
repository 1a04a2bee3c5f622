import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ERROR_TEXT,
  errorSentence,
  PAYMENT_REASON_TEXT,
  paymentReasonSentence,
} from '../../../ui/src/error-text.js';

const ROOT = join(import.meta.dirname, '../../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const CJK = /[\u3400-\u9fff]/;

/** Every `ErrorCode` of src/errors.ts (the union the daemon's errors are typed by). */
function daemonCodes(): string[] {
  const union = /export type ErrorCode =([^;]+);/.exec(read('src/errors.ts'))![1]!;
  return [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]!);
}

/** The acquirer codes the daemon passes on as a payment's failure reason. */
function acquirerCodes(): string[] {
  const set = /PAYMENT_NOT_CHARGED[^[]*\[([^\]]+)\]/.exec(read('src/core/acquirer-codes.ts'))![1]!;
  return [...set.matchAll(/'([A-Z_.]+)'/g)].map((m) => m[1]!);
}

describe('the cashier’s error sentences (ui/src/error-text.ts)', () => {
  it('has a Chinese and an English sentence for every code the daemon can answer, and for NETWORK', () => {
    const codes = [...daemonCodes(), 'NETWORK'];
    expect(codes.length).toBeGreaterThan(50);
    for (const code of codes) {
      const s = ERROR_TEXT[code];
      expect(s, code).toBeDefined();
      expect(s!['zh-CN'], code).toMatch(CJK);
      // No raw code or English words on the Chinese screen.
      expect(s!['zh-CN'], code).not.toMatch(/[A-Za-z]{3,}/);
      expect(s!.en, code).not.toMatch(CJK);
    }
  });

  it('says why for every acquirer refusal, 余额不足 for insufficient balance', () => {
    for (const code of [...acquirerCodes(), 'FAILED', 'CLOSED']) {
      const s = PAYMENT_REASON_TEXT[code];
      expect(s, code).toBeDefined();
      expect(s!['zh-CN'], code).not.toMatch(/[A-Za-z]{3,}/);
    }
    expect(paymentReasonSentence('NOTENOUGH', 'zh-CN')).toContain('余额不足');
    expect(paymentReasonSentence('ACQ.BUYER_BALANCE_NOT_ENOUGH', 'zh-CN')).toContain('余额不足');
    expect(paymentReasonSentence('SOMETHING_NEW', 'zh-CN')).toBe(PAYMENT_REASON_TEXT.FAILED!['zh-CN']);
    expect(paymentReasonSentence('MEMBER_BALANCE', 'zh-CN', { balance: '¥1.00' })).toContain('¥1.00');
  });

  it('answers a 5xx without a code as an internal error, an unknown code not at all', () => {
    expect(errorSentence('HTTP_502', 'zh-CN')).toBe(ERROR_TEXT.INTERNAL!['zh-CN']);
    expect(errorSentence('NO_SUCH_CODE', 'en')).toBeUndefined();
  });

  it('is the table in docs/ui.md', () => {
    const doc = read('docs/ui.md');
    for (const [code, s] of Object.entries(ERROR_TEXT)) {
      expect(doc, code).toContain(`| \`${code}\` | ${s['zh-CN']} | ${s.en} |`);
    }
  });
});
