import type { SaleReceiptData, TemplateOptions } from '../../../../src/core/receipt-templates.js';

export const MERCHANT = {
  name: '静安便利店',
  address: '上海市静安区南京西路 1000 号',
  phone: '021-5555 0000',
  header: '欢迎光临',
  footer: '凭小票 7 日内可退换',
};

export const ZH: TemplateOptions = { locale: 'zh-CN', merchant: MERCHANT };

const NAMES = [
  '可口可乐 330ml',
  '农夫山泉 550ml',
  '康师傅红烧牛肉面',
  '奥利奥饼干',
  '蒙牛纯牛奶 250ml',
  '乐事薯片 原味',
];

/** A sale with `n` lines, two with discounts, paid by WeChat and cash. */
export function sampleSale(n = 30): SaleReceiptData {
  const lines = Array.from({ length: n }, (_, i) => ({
    name: NAMES[i % NAMES.length]!,
    qty: (i % 3) + 1,
    unitPrice: 350 + i * 10,
    ...(i % 7 === 3 ? { discount: 100 } : {}),
  }));
  const subtotal = lines.reduce((s, l) => s + l.qty * l.unitPrice, 0);
  const discount = lines.reduce((s, l) => s + (l.discount ?? 0), 0);
  const total = subtotal - discount;
  return {
    receiptNo: 'T01-20261125-000123',
    at: '2026-11-25T01:30:00.000Z',
    cashier: '王小明',
    terminal: 'T01',
    lines,
    totals: { subtotal, discount, total, paid: total + 80, change: 80 },
    payments: [
      { method: 'code', channel: 'wechat', amount: total - 5_000 },
      { method: 'cash', amount: 5_080 },
    ],
    qr: 'https://e.example.cn/r/T01-20261125-000123',
  };
}
