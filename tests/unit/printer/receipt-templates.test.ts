import { describe, expect, it } from 'vitest';
import type { ReceiptBlock, ReceiptDocument } from '../../../src/core/receipt.js';
import {
  formatTime,
  kitchenTicket,
  orderTicket,
  refundReceipt,
  saleReceipt,
  shiftReport,
  testPage,
} from '../../../src/core/receipt-templates.js';
import { MERCHANT, sampleSale, ZH } from './helpers/sample-receipts.js';

const EN = { locale: 'en' as const, merchant: { name: 'Corner Shop' } };

function texts(doc: ReceiptDocument): string[] {
  return doc.blocks.flatMap((b: ReceiptBlock) =>
    b.type === 'text' ? [b.text] : b.type === 'row' ? [`${b.left} | ${b.right}`] : [],
  );
}

const ORDER = {
  orderNo: 'MT-88812',
  source: '美团外卖',
  pickupCode: '#27',
  at: '2026-11-25T04:05:00Z',
  lines: [
    { name: '宫保鸡丁', qty: 2, unitPrice: 2800, options: ['微辣'] },
    { name: '米饭', qty: 2, unitPrice: 200, note: '分开装' },
  ],
  note: '不要餐具',
  customer: { name: '李女士', phone: '138****0000' },
  total: 6000,
  payments: [{ method: 'qr', channel: 'alipay', amount: 6000 }],
};

describe('receipt templates', () => {
  it('sale: merchant header and footer, line discount, tenders, change, QR, drawer for cash', () => {
    const doc = saleReceipt(sampleSale(8), ZH);
    const t = texts(doc);
    expect(t.slice(0, 4)).toEqual([MERCHANT.name, MERCHANT.address, MERCHANT.phone, MERCHANT.header]);
    // Subtotal 57.90, line 4 has 1.00 off: total 56.90, paid 6.90 by WeChat and 50.80 in cash.
    expect(t).toContain('  1 x ￥3.80 | 优惠 -￥1.00');
    expect(t).toContain('  2 x ￥3.60');
    expect(t).toContain('小计 | ￥57.90');
    expect(t).toContain('合计 | ￥56.90');
    expect(t).toContain('微信支付 | ￥6.90');
    expect(t).toContain('现金 | ￥50.80');
    expect(t).toContain('找零 | ￥0.80');
    expect(t).toContain(MERCHANT.footer);
    expect(doc.blocks[0]).toEqual({ type: 'drawer' });
    expect(doc.blocks).toContainEqual({
      type: 'qr',
      data: 'https://e.example.cn/r/T01-20261125-000123',
      size: 'medium',
    });
    expect(doc.blocks.at(-1)).toEqual({ type: 'cut' });
    expect(t.some((x) => x.includes('重打印'))).toBe(false);
  });

  it('sale in English with a reprint mark; offline sale says so', () => {
    const sale = { ...sampleSale(2), offline: true };
    const t = texts(saleReceipt(sale, { ...EN, reprint: true }));
    expect(t.filter((x) => x === '** REPRINT **')).toHaveLength(2);
    expect(t).toContain('SALES RECEIPT');
    expect(t).toContain('Offline sale, uploaded when back online');
    expect(t.some((x) => x.startsWith('TOTAL | ￥'))).toBe(true);
  });

  it('sale with an issued coupon: its terms, code and QR before the footer, in both locales', () => {
    const coupon = {
      code: 'CPT01000007',
      kind: 'amount' as const,
      value: 500,
      minSpend: 3000,
      validUntil: '2026-12-29T02:00:00.000Z',
    };
    const doc = saleReceipt({ ...sampleSale(3), coupon }, ZH);
    const t = texts(doc);
    expect(t).toContain('赠送优惠券');
    expect(t).toContain('下次消费满 ￥30.00 减 ￥5.00');
    expect(t).toContain('CPT01000007');
    expect(t).toContain('有效期至 2026-12-29');
    expect(doc.blocks).toContainEqual({ type: 'qr', data: 'CPT01000007', size: 'small' });
    const en = texts(saleReceipt({ ...sampleSale(3), coupon: { ...coupon, minSpend: undefined } }, EN));
    expect(en).toContain('￥5.00 off your next visit');
    expect(texts(saleReceipt(sampleSale(3), ZH))).not.toContain('赠送优惠券');
  });

  it('refund: original receipt number, negative amounts, where the money went', () => {
    const t = texts(
      refundReceipt(
        {
          refundNo: 'RF-0001',
          originalReceiptNo: 'T01-20261125-000123',
          at: '2026-11-25T02:00:00Z',
          lines: [{ name: '可口可乐 330ml', qty: 1, unitPrice: 350 }],
          total: 350,
          payments: [{ method: 'code', channel: 'wechat', amount: 350 }],
          reason: '商品破损',
        },
        ZH,
      ),
    );
    expect(t).toContain('退货小票');
    expect(t).toContain('原单号: T01-20261125-000123');
    expect(t).toContain('退款合计 | -￥3.50');
    expect(t).toContain('退回 微信支付 | -￥3.50');
    expect(t).toContain('原因: 商品破损');
  });

  it('refund: cash back opens the drawer, an electronic refund or a reprint does not', () => {
    const data = {
      refundNo: 'RF-0002',
      originalReceiptNo: 'T01-000124',
      at: '2026-11-25T02:00:00Z',
      lines: [{ name: '面包', qty: 1, unitPrice: 800 }],
      total: 800,
    };
    const cash = refundReceipt({ ...data, payments: [{ method: 'cash', amount: 800 }] }, ZH);
    expect(cash.blocks[0]).toEqual({ type: 'drawer' });
    const code = refundReceipt(
      { ...data, payments: [{ method: 'code', channel: 'wechat', amount: 800 }] },
      ZH,
    );
    expect(code.blocks).not.toContainEqual({ type: 'drawer' });
    const again = refundReceipt(
      { ...data, payments: [{ method: 'cash', amount: 800 }] },
      { ...ZH, reprint: true },
    );
    expect(again.blocks).not.toContainEqual({ type: 'drawer' });
  });

  it('kitchen ticket: no prices, big items, options and notes; customer ticket: prices and pickup code', () => {
    const k = kitchenTicket(ORDER, { ...ZH, reprint: true });
    const kt = texts(k);
    expect(kt).toContain('2 x 宫保鸡丁');
    expect(kt).toContain('   微辣');
    expect(kt).toContain('   备注: 分开装');
    expect(kt.some((x) => x.includes('￥'))).toBe(false);
    expect(kt.filter((x) => x === '** 重打印 **')).toHaveLength(2);
    expect(k.blocks).not.toContainEqual({ type: 'drawer' });
    const ct = texts(orderTicket(ORDER, ZH));
    expect(ct).toContain('取餐号 #27');
    expect(ct).toContain('宫保鸡丁 x2 | ￥56.00');
    expect(ct).toContain('支付宝 | ￥60.00');
    expect(ct).toContain('顾客: 李女士 138****0000');
  });

  it('X and Z reports: totals by tender, expected and counted cash, difference', () => {
    const data = {
      kind: 'Z' as const,
      shiftId: 'S-12',
      openedAt: '2026-11-25T00:00:00Z',
      closedAt: '2026-11-25T10:00:00Z',
      openingCash: 50_000,
      byTender: { wechat: 120_000, cash: 30_000, alipay: 8_000 },
      sales: { count: 40, amount: 160_000 },
      refunds: { count: 1, amount: 2_000 },
      voids: { count: 0, amount: 0 },
      discounts: 1_500,
      recharges: { count: 2, amount: 20_000 },
      expectedCash: 80_000,
      countedCash: 79_900,
      pendingPayments: 0,
    };
    const t = texts(shiftReport(data, ZH));
    expect(t).toContain('Z 报表（日结）');
    expect(t).toContain('销售 (40) | ￥1600.00');
    expect(t.filter((x) => x.startsWith('  '))).toEqual([
      '  支付宝 | ￥80.00',
      '  现金 | ￥300.00',
      '  微信支付 | ￥1200.00',
    ]);
    expect(t).toContain('差额 | -￥1.00');
    expect(texts(shiftReport({ ...data, kind: 'X' }, EN))).toContain('X REPORT (shift)');
  });

  it('test page: device info, a code page sample with CJK and ￥, and a QR', () => {
    const doc = testPage(
      {
        at: '2026-11-25T01:00:00Z',
        deviceId: 'T01',
        version: '0.1.0',
        printerUri: 'tcp://10.0.0.9:9100',
        paperWidth: 80,
        status: ['paper ok, cover closed'],
        qr: 'https://posd.example.cn/test/T01',
      },
      ZH,
    );
    const t = texts(doc);
    expect(t).toContain('打印机: tcp://10.0.0.9:9100');
    expect(t.some((x) => x.includes('中文') && x.includes('￥'))).toBe(true);
    expect(doc.blocks).toContainEqual({
      type: 'qr',
      data: 'https://posd.example.cn/test/T01',
      size: 'medium',
    });
  });

  it('prints times in shop time', () => {
    expect(formatTime('2026-11-25T16:30:00Z')).toBe('2026-11-26 00:30:00');
    expect(formatTime('2026-11-25T16:30:00Z', 0)).toBe('2026-11-25 16:30:00');
  });
});
