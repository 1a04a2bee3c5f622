/** Receipt wording in the two locales the business config offers. */
export type ReceiptLocale = 'zh-CN' | 'en';

export interface ReceiptStrings {
  saleTitle: string;
  refundTitle: string;
  voidTitle: string;
  cashReturned: string;
  kitchenTitle: string;
  orderTitle: string;
  xReport: string;
  zReport: string;
  testPage: string;
  reprint: string;
  receiptNo: string;
  refundNo: string;
  originalNo: string;
  orderNo: string;
  pickupCode: string;
  time: string;
  cashier: string;
  terminal: string;
  subtotal: string;
  discount: string;
  orderDiscount: string;
  total: string;
  paid: string;
  change: string;
  refundTotal: string;
  refundTo: string;
  reason: string;
  member: string;
  balance: string;
  offline: string;
  couponGift: string;
  /** `{min}` and `{value}` are filled in. */
  couponTerms: string;
  couponTermsAny: string;
  couponValidUntil: string;
  thanks: string;
  note: string;
  customer: string;
  items: string;
  shift: string;
  opened: string;
  closed: string;
  openingCash: string;
  sales: string;
  refunds: string;
  voids: string;
  discounts: string;
  recharges: string;
  byTender: string;
  expectedCash: string;
  countedCash: string;
  difference: string;
  pendingPayments: string;
  device: string;
  printer: string;
  paperWidth: string;
  version: string;
  status: string;
  codePage: string;
  tenders: Record<string, string>;
}

const ZH: ReceiptStrings = {
  saleTitle: '销售小票',
  refundTitle: '退货小票',
  voidTitle: '作废单',
  cashReturned: '退还现金',
  kitchenTitle: '厨房单',
  orderTitle: '订单小票',
  xReport: 'X 报表（交班）',
  zReport: 'Z 报表（日结）',
  testPage: '打印测试页',
  reprint: '重打印',
  receiptNo: '单号',
  refundNo: '退款单号',
  originalNo: '原单号',
  orderNo: '订单号',
  pickupCode: '取餐号',
  time: '时间',
  cashier: '收银员',
  terminal: '终端',
  subtotal: '小计',
  discount: '优惠',
  orderDiscount: '整单优惠',
  total: '合计',
  paid: '实收',
  change: '找零',
  refundTotal: '退款合计',
  refundTo: '退回',
  reason: '原因',
  member: '会员',
  balance: '余额',
  offline: '离线交易，联网后上传',
  couponGift: '赠送优惠券',
  couponTerms: '下次消费满 {min} 减 {value}',
  couponTermsAny: '下次消费减 {value}',
  couponValidUntil: '有效期至',
  thanks: '谢谢惠顾，欢迎再次光临',
  note: '备注',
  customer: '顾客',
  items: '件数',
  shift: '班次',
  opened: '开班',
  closed: '结班',
  openingCash: '备用金',
  sales: '销售',
  refunds: '退款',
  voids: '作废',
  discounts: '优惠合计',
  recharges: '储值充值',
  byTender: '按支付方式',
  expectedCash: '应有现金',
  countedCash: '实点现金',
  difference: '差额',
  pendingPayments: '待确认支付',
  device: '设备',
  printer: '打印机',
  paperWidth: '纸宽',
  version: '版本',
  status: '状态',
  codePage: '字符集 GB18030',
  tenders: {
    cash: '现金',
    wechat: '微信支付',
    alipay: '支付宝',
    unionpay: '银联',
    card: '银行卡',
    member: '会员储值',
    code: '付款码',
    qr: '扫码支付',
  },
};

const EN: ReceiptStrings = {
  saleTitle: 'SALES RECEIPT',
  refundTitle: 'REFUND RECEIPT',
  voidTitle: 'VOID SLIP',
  cashReturned: 'Cash returned',
  kitchenTitle: 'KITCHEN TICKET',
  orderTitle: 'ORDER TICKET',
  xReport: 'X REPORT (shift)',
  zReport: 'Z REPORT (close)',
  testPage: 'PRINTER TEST PAGE',
  reprint: 'REPRINT',
  receiptNo: 'Receipt',
  refundNo: 'Refund',
  originalNo: 'Original',
  orderNo: 'Order',
  pickupCode: 'Pickup',
  time: 'Time',
  cashier: 'Cashier',
  terminal: 'Terminal',
  subtotal: 'Subtotal',
  discount: 'Discount',
  orderDiscount: 'Order discount',
  total: 'TOTAL',
  paid: 'Paid',
  change: 'Change',
  refundTotal: 'Refund total',
  refundTo: 'Refunded to',
  reason: 'Reason',
  member: 'Member',
  balance: 'Balance',
  offline: 'Offline sale, uploaded when back online',
  couponGift: 'A COUPON FOR YOU',
  couponTerms: '{value} off your next visit of {min} or more',
  couponTermsAny: '{value} off your next visit',
  couponValidUntil: 'Valid until',
  thanks: 'Thank you, see you again',
  note: 'Note',
  customer: 'Customer',
  items: 'Items',
  shift: 'Shift',
  opened: 'Opened',
  closed: 'Closed',
  openingCash: 'Opening cash',
  sales: 'Sales',
  refunds: 'Refunds',
  voids: 'Voids',
  discounts: 'Discounts',
  recharges: 'Stored value sold',
  byTender: 'By tender',
  expectedCash: 'Expected cash',
  countedCash: 'Counted cash',
  difference: 'Difference',
  pendingPayments: 'Pending payments',
  device: 'Device',
  printer: 'Printer',
  paperWidth: 'Paper',
  version: 'Version',
  status: 'Status',
  codePage: 'Code page GB18030',
  tenders: {
    cash: 'Cash',
    wechat: 'WeChat Pay',
    alipay: 'Alipay',
    unionpay: 'UnionPay',
    card: 'Bank card',
    member: 'Member balance',
    code: 'Payment code',
    qr: 'QR payment',
  },
};

export function receiptStrings(locale: ReceiptLocale): ReceiptStrings {
  return locale === 'en' ? EN : ZH;
}
