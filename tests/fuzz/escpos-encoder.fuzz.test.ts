import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReceiptBlock, ReceiptDocument, ReceiptTextStyle } from '../../src/core/receipt.js';
import {
  kitchenTicket,
  type OrderTicketData,
  orderTicket,
  refundReceipt,
  type SaleReceiptData,
  saleReceipt,
  type TemplateOptions,
} from '../../src/core/receipt-templates.js';
import { sanitizeText } from '../../src/core/safe-text.js';
import { decodeEscPos, type EscPosCommand } from '../../src/drivers/printer/escpos-decoder.js';
import { Gb18030Codec } from '../../src/drivers/printer/gb18030.js';
import { encodeReceipt } from '../../src/drivers/printer/receipt-encoder.js';
import { fuzzParams } from './helpers/fuzz-env.js';

/**
 * The encoder is the last line against printer command injection: whatever text a document
 * carries (a sale line, an order note, the merchant footer from the cloud, a coupon's terms, an
 * app's document), the job decodes to exactly the commands the document asked for.
 */
const codec = new Gb18030Codec();
const FUZZ = fuzzParams(300);
const TEMPLATE_FUZZ = fuzzParams(100);

/** ESC, GS, FS, DLE, NUL and friends, in the orders that make drawer kicks, cuts and status queries. */
const HOSTILE_UNITS = [
  '\u001b',
  '\u001d',
  '\u001c',
  '\u0010',
  '\u0000',
  '\u0004',
  '\u0014',
  '\n',
  '\r',
  '\t',
  '\u007f',
  '\u0085',
  '\u009b',
  '\u2028',
  '\u2029',
  '\u202e',
  '\u2066',
  '\u200b',
  '\ufeff',
  '\ud800',
  '\udc00',
  'p',
  'V',
  '@',
  'A',
  'B',
  '(',
  'k',
  'v',
  '0',
  '1',
  '\u0019',
  '\u00fa',
  '中',
  '😀',
];
const hostileSequences = fc.constantFrom(
  '\u001bp\u0000\u0019\u00fa',
  '\u001dVB\u0003',
  '\u001dV\u0000',
  '\u001b@',
  '\u0010\u0004\u0001',
  '\u0010\u0014\u0001\u0000\u0001',
  '\u001c&',
  '\u001d(k\u0003\u00001Q0',
  '\u001dv0\u0000\u0001\u0000\u0001\u0000\u00ff',
);
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: fc.constantFrom(...HOSTILE_UNITS), maxLength: 60 }),
  fc
    .array(fc.oneof(hostileSequences, fc.string({ unit: 'binary', maxLength: 5 })), { maxLength: 8 })
    .map((parts) => parts.join('')),
);

const style: fc.Arbitrary<ReceiptTextStyle> = fc.record(
  {
    align: fc.constantFrom('left', 'center', 'right'),
    bold: fc.boolean(),
    size: fc.constantFrom('normal', 'wide', 'tall', 'double'),
  },
  { requiredKeys: [] },
);

const block: fc.Arbitrary<ReceiptBlock> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ type: fc.constant('text' as const), text: hostile, style }) },
  {
    weight: 6,
    arbitrary: fc.record({ type: fc.constant('row' as const), left: hostile, right: hostile, style }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('divider' as const),
      char: fc.constantFrom('-', '=', '*') as fc.Arbitrary<'-' | '=' | '*'>,
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('qr' as const), data: hostile }) },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('barcode' as const),
      symbology: fc.constant('CODE128' as const),
      data: fc.string({ unit: fc.constantFrom(...'ABC123-/ '.split('')), minLength: 1, maxLength: 20 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('feed' as const), lines: fc.integer({ min: 0, max: 5 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ type: 'cut' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'drawer' as const }) },
);

/** Commands that do something beyond putting text on the line. */
const TEXTUAL = new Set(['text', 'lf', 'align', 'bold', 'size', 'chinese']);
function actions(cmds: EscPosCommand[]): string[] {
  return cmds
    .filter((c) => !TEXTUAL.has(c.op))
    .map((c) => (c.op === 'barcode' ? `barcode:${c.data}` : c.op === 'feed' ? `feed:${c.lines}` : c.op));
}

/** The actions a document asks for, block by block. */
function expectedActions(doc: ReceiptDocument): string[] {
  const out = ['init'];
  for (const b of doc.blocks) {
    if (b.type === 'qr') out.push('qr-model', 'qr-size', 'qr-ec', 'qr-store', 'qr-print');
    if (b.type === 'barcode')
      out.push('barcode-setting', 'barcode-setting', 'barcode-setting', `barcode:{B${b.data}`);
    if (b.type === 'feed') out.push(`feed:${b.lines}`);
    if (b.type === 'cut') out.push('cut');
    if (b.type === 'drawer') out.push('drawer');
  }
  return out;
}

const dense = (s: string) => s.replace(/[ \n]/g, '');

function decode(doc: ReceiptDocument, paperWidth: 58 | 80): EscPosCommand[] {
  const bytes = encodeReceipt(doc, { paperWidth, codec, qr: 'native' });
  return decodeEscPos(bytes);
}

function textOf(cmds: EscPosCommand[]): string {
  return cmds.map((c) => (c.op === 'text' ? c.text : '')).join('');
}

describe('ESC/POS encoder under hostile text', () => {
  it('a document decodes to exactly its own commands, and its text prints as text', () => {
    fc.assert(
      fc.property(fc.array(block, { maxLength: 12 }), fc.constantFrom(58, 80), (blocks, paper) => {
        const doc = { blocks };
        const cmds = decode(doc, paper as 58 | 80);
        expect(actions(cmds)).toEqual(expectedActions(doc));
        for (const c of cmds) {
          if (c.op === 'text') for (const b of c.bytes) expect(b >= 0x20 && b !== 0x7f).toBe(true);
        }
        // Every character of the text fields is on the paper, in order (unsafe ones as `?` or dropped).
        const wanted = blocks
          .map((b) =>
            b.type === 'text'
              ? sanitizeText(b.text, true)
              : b.type === 'row'
                ? sanitizeText(b.left) + sanitizeText(b.right)
                : b.type === 'divider'
                  ? (b.char ?? '-').repeat(paper === 80 ? 48 : 32)
                  : '',
          )
          .join('');
        expect(dense(textOf(cmds))).toBe(dense(wanted));
      }),
      FUZZ,
    );
  });

  /** The generated strings made harmless (same emptiness): the shape the template itself asks for. */
  const FIXED = new Set(['kind', 'validUntil']);
  const tame = <T>(value: T): T =>
    JSON.parse(JSON.stringify(value), (k, v) =>
      typeof v === 'string' && !FIXED.has(k) ? (v === '' ? '' : 'x') : v,
    ) as T;

  const merchant = fc.record({
    name: hostile,
    address: hostile,
    phone: hostile,
    header: hostile,
    footer: hostile,
  });
  const lines = fc.array(
    fc.record({
      name: hostile,
      qty: fc.integer({ min: 1, max: 9 }),
      unitPrice: fc.integer({ min: 0, max: 99_999 }),
    }),
    { minLength: 1, maxLength: 4 },
  );

  it('every text field of the sale, refund, kitchen and order templates stays text', () => {
    const sale = fc.record({
      receiptNo: hostile,
      cashier: hostile,
      terminal: hostile,
      lines,
      member: fc.record({ name: hostile, maskedNo: hostile, balance: fc.integer({ min: 0, max: 99_999 }) }),
      coupon: fc.record({
        code: hostile,
        kind: fc.constant('amount' as const),
        value: fc.integer({ min: 1, max: 9999 }),
        minSpend: fc.integer({ min: 0, max: 9999 }),
        validUntil: fc.constant('2026-12-31T00:00:00Z'),
      }),
      qr: hostile,
      channel: hostile,
    });
    const order = fc.record({
      orderNo: hostile,
      source: hostile,
      pickupCode: hostile,
      note: hostile,
      customer: fc.record({ name: hostile, phone: hostile, address: hostile }),
      lines: fc.array(
        fc.record({
          name: hostile,
          qty: fc.integer({ min: 1, max: 9 }),
          options: fc.array(hostile, { maxLength: 2 }),
          note: hostile,
          unitPrice: fc.integer({ min: 0, max: 9999 }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    });
    fc.assert(
      fc.property(merchant, sale, order, fc.boolean(), (m0, s0, o0, cash) => {
        const build = (m: typeof m0, s: typeof s0, o: typeof o0) => {
          const opts: TemplateOptions = { locale: 'zh-CN', merchant: m };
          const at = '2026-12-05T08:00:00Z';
          const saleData: SaleReceiptData = {
            receiptNo: s.receiptNo,
            at,
            cashier: s.cashier,
            terminal: s.terminal,
            lines: s.lines,
            totals: { subtotal: 100, discount: 0, total: 100, paid: 100, change: 0 },
            payments: [{ method: cash ? 'cash' : 'code', channel: s.channel, amount: 100 }],
            member: s.member,
            qr: s.qr,
            coupon: s.coupon,
          };
          const orderData: OrderTicketData = { ...o, at, total: 100 };
          const refund = {
            refundNo: s.receiptNo,
            originalReceiptNo: s.cashier,
            at,
            lines: s.lines,
            total: 1,
            payments: [{ method: cash ? 'cash' : 'code', amount: 1 }],
            reason: o.note,
          };
          return [
            saleReceipt(saleData, opts),
            refundReceipt(refund, opts),
            kitchenTicket(orderData, opts),
            orderTicket(orderData, opts),
          ];
        };
        const real = build(m0, s0, o0);
        const benign = build(tame(m0), tame(s0), tame(o0));
        real.forEach((doc, i) => {
          const got = decode(doc, 58);
          // QR payloads are data, not text: compare the command kinds only.
          expect(actions(got)).toEqual(actions(decode(benign[i]!, 58)));
          expect(got.some((c) => c.op === 'junk' || c.op === 'other')).toBe(false);
        });
      }),
      TEMPLATE_FUZZ,
    );
  });

  it('the drawer-kick sale line of the incident prints as text: no drawer, no cut', () => {
    const name = 'Tea\u001bp\u0000\u0019\u00fa\u001dVB\u0003';
    const cmds = decode({ blocks: [{ type: 'row', left: name, right: '￥3.00' }] }, 80);
    expect(actions(cmds)).toEqual(['init']);
    expect(textOf(cmds)).toContain('Tea?p??ú?VB?');
  });
});
