import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/bus.js';
import { type BusinessConfig, DEFAULT_BUSINESS } from '../../../src/config/business.js';
import {
  CODE_RANDOM_BYTES,
  CROCKFORD,
  checkIssuedCode,
  makeCouponCode,
  normaliseTyped,
} from '../../../src/core/coupon-code.js';
import { isPosError } from '../../../src/errors.js';
import { openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { SalesStore } from '../../../src/offline/sales-store.js';
import { ShiftStore } from '../../../src/offline/shift-store.js';
import { CouponIssuer, type IssuedCoupon } from '../../../src/services/coupon-issuer.js';
import { RefundService } from '../../../src/services/refund-service.js';
import { SaleService } from '../../../src/services/sale-service.js';
import { ShiftService } from '../../../src/services/shift-service.js';
import { tempDir } from '../../helpers/daemon.js';
import { codeOf } from '../../helpers/payment-setup.js';
import { silentLogger } from '../../helpers/test-log.js';
import { endTransactionOnInsert } from '../../helpers/transaction-fault.js';

const NOW = new Date('2026-11-29T02:00:00.000Z');

const CODE = /^CP[0-9A-HJKMNP-TV-Z]{14}$/;

function setup(device = 'D1', dir = tempDir(), random?: (size: number) => Uint8Array) {
  const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
  const now = () => NOW;
  const ledger = new Ledger({ db, dir, now });
  const bus = new EventBus();
  const business: BusinessConfig = {
    ...DEFAULT_BUSINESS,
    coupons: {
      ...DEFAULT_BUSINESS.coupons,
      issueRules: [
        { ruleId: 'small', kind: 'amount', value: 300, validDays: 7, afterSpend: 5_000 },
        { ruleId: 'big', kind: 'percent', value: 1000, minSpend: 10_000, validDays: 30, afterSpend: 20_000 },
        { ruleId: 'gift', kind: 'amount', value: 1_000, validDays: 1 },
      ],
    },
  };
  const store = new SalesStore(db);
  const shifts = new ShiftService({ ledger, store: new ShiftStore(db), bus, now });
  const sales = new SaleService({ ledger, store, shifts, bus, deviceId: device, now });
  const refunds = new RefundService({ ledger, store, sales, shifts, now });
  const issuer = new CouponIssuer({
    ledger,
    store,
    sales,
    bus,
    log: silentLogger(),
    deviceId: device,
    business: () => business,
    now,
    ...(random ? { random } : {}),
  });
  const announced: IssuedCoupon[] = [];
  bus.on('coupon.issued', (e) => announced.push(e.data));
  const cashSale = (unitPrice: number) =>
    sales.createSale({
      lines: [{ name: 'Gift box', qty: 1, unitPrice }],
      tenders: [{ method: 'cash', amount: unitPrice }],
    }).body;
  const issued = () => ledger.recordsAfter(0, 1000).filter((r) => r.type === 'coupon.issued');
  return { db, ledger, issuer, announced, cashSale, issued, sales, refunds, business };
}

describe('coupon issuing', () => {
  it('a sale of at least afterSpend issues the highest rule met, recorded with the sale, announced after it', () => {
    const t = setup();
    t.cashSale(4_999); // below every rule
    expect(t.issued()).toHaveLength(0);
    const sale = t.cashSale(25_000);
    const [record] = t.issued();
    expect(record!.body).toMatchObject({
      ruleId: 'big',
      kind: 'percent',
      value: 1000,
      minSpend: 10_000,
      saleId: sale.saleId,
      afterSpend: 20_000,
      validUntil: '2026-12-29T02:00:00.000Z',
    });
    // In the completing transaction: right after the sale's own record.
    const types = t.ledger.recordsAfter(0, 1000).map((r) => r.type);
    expect(types.indexOf('coupon.issued')).toBe(types.lastIndexOf('sale.completed') + 1);
    expect(record!.body.code).toMatch(CODE);
    expect(t.announced.map((c) => c.code)).toEqual([record!.body.code]);
    t.cashSale(6_000);
    expect(t.issued().map((r) => r.body.ruleId)).toEqual(['big', 'small']);
  });

  it('a storage fault while issuing fails the sale whole: no reply is kept for its Idempotency-Key', () => {
    const t = setup();
    const diskBack = endTransactionOnInsert(t.db, 'ledger', "NEW.type = 'coupon.issued'");
    const input = {
      lines: [{ name: 'Gift box', qty: 1, unitPrice: 6_000 }],
      tenders: [{ method: 'cash', amount: 6_000 }],
    };
    expect(() => t.sales.createSale(input, 'key-1')).toThrow();
    const count = (table: string) =>
      (t.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    expect([count('sales'), count('idempotency'), count('ledger')]).toEqual([0, 0, 0]);
    diskBack();
    const retry = t.sales.createSale(input, 'key-1').body;
    expect(count('sales')).toBe(1);
    expect(t.issued().map((r) => r.body.saleId)).toEqual([retry.saleId]);
  });

  it('by hand: a known rule issues one, tied to a sale if named; unknown rules and sales are refused', () => {
    const t = setup('T7');
    const coupon = t.issuer.issue('gift');
    expect(coupon.code).toMatch(CODE);
    expect(coupon).toMatchObject({
      value: 1_000,
      validUntil: '2026-11-30T02:00:00.000Z',
    });
    expect(t.announced).toEqual([coupon]);
    for (const [rule, sale, code] of [
      ['nope', undefined, 'NOT_FOUND'],
      ['gift', 'no-such-sale', 'SALE_NOT_FOUND'],
    ] as const) {
      try {
        t.issuer.issue(rule, sale);
        throw new Error('issued');
      } catch (err) {
        expect(isPosError(err, code)).toBe(true);
      }
    }
    expect(t.issued()).toHaveLength(1);
  });

  it('a coupon whose completing transaction rolled back is never announced by a later completion', () => {
    const t = setup('T9');
    let failOnce = true;
    t.sales.onCompletedInTransaction(() => {
      if (!failOnce) return;
      failOnce = false;
      throw new Error('a later step of the completion failed');
    });
    const open = t.sales.createSale({ lines: [{ name: 'Gift box', qty: 1, unitPrice: 6_000 }] }).body;
    const saleId = String(open.saleId);
    expect(() => t.sales.payCash(saleId, 6_000)).toThrow('a later step');
    expect(t.issued()).toHaveLength(0);
    // The rules changed meanwhile: this completion earns no coupon.
    t.business.coupons = { ...t.business.coupons, issueRules: [] };
    expect(t.sales.payCash(saleId, 6_000).status).toBe(201);
    expect(t.sales.getSale(saleId).status).toBe('completed');
    expect(t.issued()).toHaveLength(0);
    expect(t.announced).toEqual([]);
  });

  it('by hand under an Idempotency-Key: a retry after a lost reply gets the same coupon, not a second', () => {
    const t = setup('T8');
    const first = t.issuer.issue('gift', undefined, 'hand-1');
    expect(t.issuer.issue('gift', undefined, 'hand-1')).toEqual(first);
    expect(t.issued()).toHaveLength(1);
    expect(t.announced).toEqual([first]);
    expect(codeOf(() => t.issuer.issue('small', undefined, 'hand-1'))).toBe('IDEMPOTENCY_MISMATCH');
    // Another key is another coupon.
    expect(t.issuer.issue('gift', undefined, 'hand-2').code).not.toBe(first.code);
    expect(t.issued()).toHaveLength(2);
  });

  it('codes are random: distinct over many, no shared counter between consecutive codes, across terminals and restores', () => {
    const dir = tempDir();
    const a = setup('A1', dir);
    const codes: string[] = [];
    for (let i = 0; i < 300; i++) codes.push(a.issuer.issue('gift').code);
    a.db.close();
    // The same database again (a restored backup numbers from the same counters): nothing repeats.
    const again = setup('A1', dir);
    for (let i = 0; i < 100; i++) codes.push(again.issuer.issue('gift').code);
    const b = setup('B1');
    for (let i = 0; i < 100; i++) codes.push(b.issuer.issue('gift').code);
    // And many more from the same generator: 100,000 distinct.
    const many = new Set<string>();
    for (let i = 0; i < 100_000; i++) many.add(makeCouponCode('CP', randomBytes(CODE_RANDOM_BYTES)));
    expect(many.size).toBe(100_000);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) {
      expect(code).toMatch(CODE);
      expect(checkIssuedCode('CP', code)).toBe('ok');
    }
    // Consecutive codes share no counter: no common prefix or suffix beyond chance, no small step.
    let sameLead = 0;
    for (let i = 1; i < 300; i++) {
      const [p, q] = [codes[i - 1]!.slice(2, 15), codes[i]!.slice(2, 15)];
      if (p.slice(0, 3) === q.slice(0, 3)) sameLead += 1;
      expect(p.slice(-4)).not.toBe(q.slice(-4));
    }
    expect(sameLead).toBeLessThan(5); // 1 in 32768 per pair by chance
    // Old-style counter codes (prefix + device + number) are gone.
    expect(codes.some((c) => c.includes('A1000'))).toBe(false);
  });

  it('a code the terminal already issued is drawn again (collision check against the ledger)', () => {
    const fixed = new Uint8Array(9).fill(7);
    let n = 0;
    const t = setup('D1', tempDir(), (size) =>
      (n++ < 2 ? fixed : new Uint8Array(size).fill(9)).slice(0, size),
    );
    const first = t.issuer.issue('gift').code;
    const second = t.issuer.issue('gift').code;
    expect(second).not.toBe(first);
  });
});

describe('coupon code format', () => {
  it('check character: every code made from any bytes checks; any one changed character or neighbour swap fails', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: CODE_RANDOM_BYTES, maxLength: CODE_RANDOM_BYTES }),
        fc.nat(),
        fc.nat(31),
        (bytes, at, to) => {
          const code = makeCouponCode('CP', bytes);
          expect(code).toMatch(CODE);
          expect(checkIssuedCode('CP', code)).toBe('ok');
          const i = 2 + (at % 14);
          const changed = CROCKFORD[to]!;
          if (changed !== code[i]) {
            const typo = code.slice(0, i) + changed + code.slice(i + 1);
            expect(checkIssuedCode('CP', typo)).toBe('bad-check');
          }
          const j = 2 + (at % 13);
          const pair = `${code[j]}${code[j + 1]}`;
          // Luhn's one blind spot, as 09/90 in base 10: the lowest and highest symbols swapped.
          if (code[j] !== code[j + 1] && pair !== '0Z' && pair !== 'Z0') {
            const swapped = code.slice(0, j) + code[j + 1] + code[j] + code.slice(j + 2);
            expect(checkIssuedCode('CP', swapped)).toBe('bad-check');
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('a typed code is read as Crockford: lower case, hyphens, I/L/O look-alikes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: CODE_RANDOM_BYTES, maxLength: CODE_RANDOM_BYTES }), (bytes) => {
        const code = makeCouponCode('CP', bytes);
        const typed = `${code.slice(0, 6)}-${code.slice(6, 11)} ${code.slice(11)}`
          .toLowerCase()
          .replace(/1/g, 'l')
          .replace(/0/g, 'o');
        expect(normaliseTyped('CP', typed)).toBe(code);
      }),
    );
    expect(normaliseTyped('CP', 'CP-OFF-1')).toBe('CP-OFF-1');
  });
});

describe('issued coupons follow their sale (issue 12, case 7)', () => {
  it('voiding the sale revokes its coupon in the same transaction', () => {
    const t = setup();
    const sale = t.cashSale(6_000);
    const code = String(t.issued()[0]!.body.code);
    t.sales.voidSale(String(sale.saleId), 'wrong items');
    const records = t.ledger.recordsAfter(0, 1000);
    const types = records.map((r) => r.type);
    expect(types.indexOf('coupon.revoked')).toBe(types.indexOf('sale.voided') + 1);
    expect(records.find((r) => r.type === 'coupon.revoked')!.body).toMatchObject({
      code,
      saleId: sale.saleId,
      reason: 'sale.voided',
    });
  });

  it('a full refund revokes it; a partial refund revokes it only when the net falls under afterSpend', () => {
    const t = setup();
    const sale = t.sales.createSale({
      lines: [
        { name: 'A', qty: 1, unitPrice: 5_000 },
        { name: 'B', qty: 1, unitPrice: 1_000 },
        { name: 'C', qty: 1, unitPrice: 500 },
      ],
      tenders: [{ method: 'cash', amount: 6_500 }],
    }).body;
    const saleId = String(sale.saleId);
    const revoked = () => t.ledger.recordsAfter(0, 1000).filter((r) => r.type === 'coupon.revoked');
    t.refunds.refund(saleId, { lines: [{ lineNo: 3, qty: 1 }] }); // net 6000: still >= 5000
    expect(revoked()).toHaveLength(0);
    t.refunds.refund(saleId, { lines: [{ lineNo: 2, qty: 1 }] }); // net 5000: still earned
    expect(revoked()).toHaveLength(0);
    t.refunds.refund(saleId, { lines: [{ lineNo: 1, qty: 1 }] }); // net 0
    expect(revoked().map((r) => r.body)).toMatchObject([{ saleId, reason: 'refund.completed', netAfter: 0 }]);

    const other = String(
      t.sales.createSale({
        lines: [
          { name: 'A', qty: 1, unitPrice: 4_900 },
          { name: 'B', qty: 1, unitPrice: 200 },
        ],
        tenders: [{ method: 'cash', amount: 5_100 }],
      }).body.saleId,
    );
    t.refunds.refund(other, { lines: [{ lineNo: 2, qty: 1 }] }); // net 4900 < 5000
    expect(revoked().map((r) => r.body)).toMatchObject([{ saleId }, { saleId: other, netAfter: 4_900 }]);
  });
});
