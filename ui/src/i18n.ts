/** The UI's strings: zh-CN by default, en available. Keys are stable; add both languages at once. */
const STRINGS = {
  'zh-CN': {
    appTitle: '收银台',
    signInTitle: '请输入收银员密码',
    signIn: '登录',
    signOut: '退出',
    clear: '清除',
    pinWrong: '密码错误',
    pinLocked: '尝试次数过多，请 {s} 秒后再试',
    items: '商品',
    keypad: '金额',
    customItem: '自定义商品',
    addAmount: '加入',
    cart: '购物车',
    emptyCart: '请选择商品或扫码',
    subtotal: '小计',
    discount: '优惠',
    total: '合计',
    due: '应付',
    paid: '已付',
    change: '找零',
    pay: '收款',
    newSale: '下一单',
    cash: '现金',
    code: '付款码',
    qr: '扫码付',
    card: '银行卡',
    tendered: '实收',
    confirmCash: '确认收款',
    exact: '刚好',
    cancelSale: '取消交易',
    back: '返回',
    completed: '交易完成',
    receiptNo: '小票号',
    notAvailable: '暂不可用',
    offline: '离线',
    unsynced: '{n} 条未同步',
    synced: '已同步',
    reconnecting: '正在重连…',
    recent: '最近交易',
    refund: '退款',
    refunded: '已退款',
    voided: '已取消',
    void: '作废',
    noRecent: '暂无交易',
    scanCode: '请扫描顾客付款码',
    waitingPayment: '等待支付结果…',
    showQr: '请顾客扫描副屏二维码',
    paymentFailed: '支付失败：{r}',
    discount10: '9折',
    discount20: '8折',
    discount5yuan: '减5元',
    noDiscount: '无优惠',
    couponApplied: '已使用优惠券',
    member: '会员',
    unknownItem: '未知商品：{c}',
    lang: 'EN',
    printer: '打印机',
    scanner: '扫码枪',
    display: '客显',
    error: '出错了：{m}',
    welcome: '欢迎光临',
    thankYou: '谢谢惠顾',
    amountDue: '应付金额',
    scanToPay: '请扫码支付',
    qrPending: '二维码生成中…',
  },
  en: {
    appTitle: 'Checkout',
    signInTitle: 'Enter your cashier PIN',
    signIn: 'Sign in',
    signOut: 'Sign out',
    clear: 'Clear',
    pinWrong: 'Wrong PIN',
    pinLocked: 'Too many tries, wait {s} s',
    items: 'Items',
    keypad: 'Amount',
    customItem: 'Custom item',
    addAmount: 'Add',
    cart: 'Cart',
    emptyCart: 'Pick items or scan',
    subtotal: 'Subtotal',
    discount: 'Discount',
    total: 'Total',
    due: 'Due',
    paid: 'Paid',
    change: 'Change',
    pay: 'Pay',
    newSale: 'Next sale',
    cash: 'Cash',
    code: 'Pay code',
    qr: 'QR',
    card: 'Card',
    tendered: 'Tendered',
    confirmCash: 'Take cash',
    exact: 'Exact',
    cancelSale: 'Cancel sale',
    back: 'Back',
    completed: 'Sale complete',
    receiptNo: 'Receipt',
    notAvailable: 'Not available',
    offline: 'Offline',
    unsynced: '{n} unsynced',
    synced: 'Synced',
    reconnecting: 'Reconnecting…',
    recent: 'Recent sales',
    refund: 'Refund',
    refunded: 'Refunded',
    voided: 'Voided',
    void: 'Void',
    noRecent: 'No sales yet',
    scanCode: "Scan the customer's pay code",
    waitingPayment: 'Waiting for the payment…',
    showQr: 'Customer scans the QR on the customer screen',
    paymentFailed: 'Payment failed: {r}',
    discount10: '10% off',
    discount20: '20% off',
    discount5yuan: '¥5 off',
    noDiscount: 'No discount',
    couponApplied: 'Coupon applied',
    member: 'Member',
    unknownItem: 'Unknown item: {c}',
    lang: '中文',
    printer: 'Printer',
    scanner: 'Scanner',
    display: 'Display',
    error: 'Error: {m}',
    welcome: 'Welcome',
    thankYou: 'Thank you',
    amountDue: 'Amount due',
    scanToPay: 'Scan to pay',
    qrPending: 'Preparing the QR…',
  },
} as const;

export type Lang = keyof typeof STRINGS;
export type StringKey = keyof (typeof STRINGS)['zh-CN'];

const STORAGE_KEY = 'posd.lang';

export class I18n {
  private current: Lang;

  constructor(private readonly storage: Pick<Storage, 'getItem' | 'setItem'> | undefined) {
    const saved = storage?.getItem(STORAGE_KEY);
    this.current = saved === 'en' ? 'en' : 'zh-CN';
  }

  get lang(): Lang {
    return this.current;
  }

  toggle(): void {
    this.current = this.current === 'zh-CN' ? 'en' : 'zh-CN';
    this.storage?.setItem(STORAGE_KEY, this.current);
  }

  t(key: StringKey, vars: Record<string, string | number> = {}): string {
    const text: string = STRINGS[this.current][key];
    return text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? ''));
  }
}
