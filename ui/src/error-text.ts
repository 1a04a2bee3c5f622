/** The languages of ui/src/i18n.ts (kept apart so the tests can import this table without the DOM). */
type Lang = 'zh-CN' | 'en';

/** One sentence per language that tells the cashier what happened and what to do next. */
export type ErrorSentence = Record<Lang, string>;

/**
 * Every error code the daemon can answer (`ErrorCode` in src/errors.ts), plus the page's own
 * `NETWORK` (the daemon does not answer). The table in docs/ui.md is this table; a unit test
 * checks that each code of src/errors.ts has an entry here.
 */
export const ERROR_TEXT: Record<string, ErrorSentence> = {
  NETWORK: {
    'zh-CN': '连接不上收银服务，请检查收银机是否开启，稍后再试',
    en: 'The till service does not answer: check the terminal is on, then try again',
  },
  INTERNAL: {
    'zh-CN': '收银服务内部出错，请重试；仍不行请联系技术支持',
    en: 'The till service failed: try again; if it persists call support',
  },
  CONFIG_INVALID: {
    'zh-CN': '收银机配置有误，请联系技术支持',
    en: 'The terminal configuration is wrong: call support',
  },
  STATE_LOCKED: {
    'zh-CN': '另一个收银程序正在运行，请重启收银机',
    en: 'Another till process is running: restart the terminal',
  },
  STATE_DIR_UNUSABLE: {
    'zh-CN': '收银数据目录不可用，请联系技术支持',
    en: 'The till data folder cannot be used: call support',
  },
  DB_NEWER_THAN_CODE: {
    'zh-CN': '收银数据比程序版本新，请升级收银程序',
    en: 'The till data is newer than this software: update it',
  },
  DB_MIGRATION_FAILED: {
    'zh-CN': '收银数据升级失败，请联系技术支持',
    en: 'Upgrading the till data failed: call support',
  },
  STORAGE_FULL: {
    'zh-CN': '存储空间已满，交易无法保存，请联系技术支持',
    en: 'Storage is full: sales cannot be saved, call support',
  },
  STORAGE_READ_ONLY: {
    'zh-CN': '存储不可写，交易无法保存，请联系技术支持',
    en: 'Storage is read-only: sales cannot be saved, call support',
  },
  STORAGE_FAILED: {
    'zh-CN': '保存失败，请重试；仍不行请联系技术支持',
    en: 'Saving failed: try again; if it persists call support',
  },
  BAD_REQUEST: {
    'zh-CN': '请求有误，请重试；仍不行请联系技术支持',
    en: 'The request was malformed: try again; if it persists call support',
  },
  VALIDATION_FAILED: {
    'zh-CN': '输入的内容格式不对，请检查后重新输入',
    en: 'What was entered is not in the right form: check it and enter it again',
  },
  UNAUTHORIZED: {
    'zh-CN': '登录已过期，请重新输入密码登录',
    en: 'Your sign-in has expired: enter your PIN again',
  },
  FORBIDDEN: {
    'zh-CN': '此操作不被允许（请从收银机本机操作）',
    en: 'Not allowed (use the terminal itself)',
  },
  NOT_FOUND: {
    'zh-CN': '没有找到，请检查号码后重试',
    en: 'Not found: check the number and try again',
  },
  METHOD_NOT_ALLOWED: {
    'zh-CN': '此功能在本收银机上不可用',
    en: 'This function is not available on this terminal',
  },
  PAYLOAD_TOO_LARGE: {
    'zh-CN': '内容太多，请分开处理',
    en: 'Too much at once: split it up',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    'zh-CN': '请求格式不受支持，请联系技术支持',
    en: 'Request format not supported: call support',
  },
  CONFLICT: {
    'zh-CN': '状态已变化，无法执行，请刷新后再试',
    en: 'Things changed meanwhile: look again and retry',
  },
  SALE_NOT_FOUND: {
    'zh-CN': '没有找到这笔交易',
    en: 'This sale was not found',
  },
  SALE_NOT_OPEN: {
    'zh-CN': '这笔交易已结束（已付清或已取消），不能再修改',
    en: 'This sale is finished (paid or cancelled): it cannot change',
  },
  SALE_EMPTY: {
    'zh-CN': '购物车是空的，请先添加商品',
    en: 'The cart is empty: add an item first',
  },
  AMOUNT_INVALID: {
    'zh-CN': '金额不对，请重新输入（不能超过应付金额）',
    en: 'The amount is not valid: enter it again (at most what is due)',
  },
  TENDER_INSUFFICIENT: {
    'zh-CN': '实收金额不足，请再收款',
    en: 'Not enough tendered: take the rest',
  },
  TENDER_NOT_SUPPORTED: {
    'zh-CN': '此付款方式现在不可用（可能未联网），请换一种方式',
    en: 'This tender is not available now (perhaps offline): use another',
  },
  CHANGE_NOT_ALLOWED: {
    'zh-CN': '此付款方式不能找零，金额不能超过应付',
    en: 'This tender gives no change: at most what is due',
  },
  DISCOUNT_INVALID: {
    'zh-CN': '优惠不对（不能超过商品金额），请重新选择',
    en: 'The discount is not valid (more than the items): choose again',
  },
  VOID_NOT_ALLOWED: {
    'zh-CN': '这笔交易不能作废：已有非现金付款或已退款、已交班，请改用退款',
    en: 'This sale cannot be voided (non-cash payment, refund or closed shift): refund it instead',
  },
  REFUND_EXCEEDS_REMAINING: {
    'zh-CN': '退款超过可退金额，请减少退款数量',
    en: 'More than what is left to refund: refund fewer items',
  },
  REFUND_NOT_ALLOWED: {
    'zh-CN': '这笔交易不能退款（未完成或已全部退款）',
    en: 'This sale cannot be refunded (not completed, or refunded in full)',
  },
  PAYMENT_UNRESOLVED: {
    'zh-CN': '还有一笔付款正在确认中，请等结果出来再操作',
    en: 'A payment is still being confirmed: wait for its outcome',
  },
  SHIFT_ALREADY_OPEN: {
    'zh-CN': '已经开班了，不需要再开班',
    en: 'A shift is already open',
  },
  OFFLINE_LIMIT: {
    'zh-CN': '离线时不能用此方式收款或已超过离线限额，请收现金',
    en: 'Offline this tender is refused or over the offline limit: take cash',
  },
  COUPON_INVALID: {
    'zh-CN': '优惠券不可用（无效、已使用、已过期或未达到使用门槛）',
    en: 'The coupon cannot be used (invalid, used, expired or below its minimum spend)',
  },
  COUPON_RESERVED: {
    'zh-CN': '这张优惠券正在另一台收银机上使用',
    en: 'This coupon is on a sale at another terminal',
  },
  COUPON_OFFLINE: {
    'zh-CN': '网络不通，现在不能用优惠券',
    en: 'Offline: coupons cannot be used now',
  },
  COUPON_UNCONFIRMED: {
    'zh-CN': '优惠券核验没有回应，请再扫一次',
    en: 'The coupon check got no answer: scan it again',
  },
  NOTHING_TO_PAY: {
    'zh-CN': '这笔交易金额为 0，无需收款',
    en: 'This sale totals 0: nothing to charge',
  },
  RECHARGE_OFFLINE: {
    'zh-CN': '网络不通，不能充值：请不要收钱',
    en: 'Offline: no top-up now, take no money',
  },
  RECHARGE_REFUSED: {
    'zh-CN': '充值被拒绝：请把现金退还给顾客',
    en: 'Top-up refused: give the cash back',
  },
  NO_OPEN_SHIFT: {
    'zh-CN': '当前没有开班，请先开班',
    en: 'No shift is open: open one first',
  },
  ORDER_PREPAID: {
    'zh-CN': '该订单已在线支付，无需收款',
    en: 'This order was paid online: nothing to charge',
  },
  ORDER_ALREADY_PAID: {
    'zh-CN': '该订单已经付过款了（可能在另一台收银机），不要再收',
    en: 'This order is already paid (perhaps at another terminal): do not charge again',
  },
  ORDER_CANCELLED: {
    'zh-CN': '该订单已取消',
    en: 'This order was cancelled',
  },
  ORDER_IN_PAYMENT: {
    'zh-CN': '该订单正在另一台收银机上收款',
    en: 'This order is being paid at another terminal',
  },
  ORDER_PRICED: {
    'zh-CN': '该订单的价格已定，不能修改',
    en: 'This order is priced already: it cannot change',
  },
  IDEMPOTENCY_MISMATCH: {
    'zh-CN': '重复提交的内容不一致，请重新操作',
    en: 'A repeated request differed from the first: do it again',
  },
  DEVICE_URI_INVALID: {
    'zh-CN': '设备地址配置有误，请联系技术支持',
    en: 'A device address is misconfigured: call support',
  },
  PRINTER_PAPER_OUT: {
    'zh-CN': '打印机缺纸，请装纸',
    en: 'The printer is out of paper: load paper',
  },
  PRINTER_COVER_OPEN: {
    'zh-CN': '打印机纸仓盖没关好，请关上',
    en: 'The printer cover is open: close it',
  },
  PRINTER_OFFLINE: {
    'zh-CN': '打印机未连接，请检查电源和连线',
    en: 'The printer is not connected: check power and cable',
  },
  PRINTER_ERROR: {
    'zh-CN': '打印机故障，请检查打印机',
    en: 'Printer fault: check the printer',
  },
  DEVICE_NOT_FOUND: {
    'zh-CN': '没有这个设备',
    en: 'No such device',
  },
  DEVICE_BUSY: {
    'zh-CN': '设备正忙，请稍后再试',
    en: 'The device is busy: try again shortly',
  },
  DEVICE_UNAVAILABLE: {
    'zh-CN': '设备不可用，请检查设备',
    en: 'The device is not available: check it',
  },
  DEVICE_DISCONNECTED: {
    'zh-CN': '设备已断开，请检查连线',
    en: 'The device is disconnected: check the cable',
  },
  DEVICE_TIMEOUT: {
    'zh-CN': '设备没有回应，请检查设备',
    en: 'The device does not answer: check it',
  },
  PIN_WRONG: {
    'zh-CN': '密码错误',
    en: 'Wrong PIN',
  },
  PIN_LOCKED: {
    'zh-CN': '密码错误次数过多，请稍后再试',
    en: 'Too many wrong PINs: wait and try again',
  },
  UPGRADE_REQUIRED: {
    'zh-CN': '连接方式不对，请刷新页面',
    en: 'Wrong kind of connection: reload the page',
  },
  MISDIRECTED_REQUEST: {
    'zh-CN': '访问地址不对，请用收银机本机地址打开',
    en: 'Wrong address: open the page on the terminal itself',
  },
  APP_PACKAGE_INVALID: {
    'zh-CN': '应用安装包无效，未安装任何内容',
    en: 'The app package is invalid: nothing was installed',
  },
  APP_NOT_FOUND: {
    'zh-CN': '找不到该应用，可能已被移除',
    en: 'App not found: it may have been removed',
  },
  APP_DOWNLOAD_FAILED: {
    'zh-CN': '应用下载失败，请检查网络后重试',
    en: 'The app could not be downloaded: check the network and try again',
  },
  SCOPE_DENIED: {
    'zh-CN': '该应用没有此项权限',
    en: 'This app is not allowed to do that',
  },
  UPDATE_SAME_VERSION: {
    'zh-CN': '这个版本已经在运行',
    en: 'This version is already running',
  },
  UPDATE_IN_PROGRESS: {
    'zh-CN': '正在更新，请等本次更新结束',
    en: 'An update is under way: wait until it ends',
  },
  UPDATE_NO_SPACE: {
    'zh-CN': '存储空间不足，无法下载更新',
    en: 'Not enough storage to download the update',
  },
  UPDATE_NOT_READY: {
    'zh-CN': '现在不能重启：请先完成进行中的交易',
    en: 'Cannot restart now: finish the sale or payment in progress first',
  },
  UPDATE_RESTARTING: {
    'zh-CN': '终端正在重启以完成更新，请一分钟后再收款',
    en: 'The terminal is restarting into an update: take payments again in a minute',
  },
};

/**
 * Why an acquirer refused a payment (`payment.updated` `reason`: the acquirer's code, see
 * src/core/acquirer-codes.ts, or the status it ended in). Unknown reasons get the general sentence.
 */
export const PAYMENT_REASON_TEXT: Record<string, ErrorSentence> = {
  NOTENOUGH: {
    'zh-CN': '余额不足，请顾客换卡或换一种方式付款',
    en: 'Insufficient balance: ask for another card or tender',
  },
  NOT_ENOUGH: {
    'zh-CN': '余额不足，请顾客换卡或换一种方式付款',
    en: 'Insufficient balance: ask for another card or tender',
  },
  'ACQ.BUYER_BALANCE_NOT_ENOUGH': {
    'zh-CN': '余额不足，请顾客换卡或换一种方式付款',
    en: 'Insufficient balance: ask for another card or tender',
  },
  'ACQ.BUYER_BANKCARD_BALANCE_NOT_ENOUGH': {
    'zh-CN': '银行卡余额不足，请顾客换卡或换一种方式付款',
    en: 'Insufficient card balance: ask for another card or tender',
  },
  MEMBER_BALANCE: {
    'zh-CN': '会员余额不足（余额 {balance}），请换一种方式付款',
    en: 'Member balance too low ({balance}): use another tender',
  },
  AUTH_CODE_INVALID: {
    'zh-CN': '付款码无效，请顾客刷新付款码后重新扫码',
    en: 'Invalid pay code: ask the customer to refresh it and scan again',
  },
  AUTH_CODE_ERROR: {
    'zh-CN': '付款码无效，请顾客刷新付款码后重新扫码',
    en: 'Invalid pay code: ask the customer to refresh it and scan again',
  },
  'ACQ.PAYMENT_AUTH_CODE_INVALID': {
    'zh-CN': '付款码无效，请顾客刷新付款码后重新扫码',
    en: 'Invalid pay code: ask the customer to refresh it and scan again',
  },
  AUTHCODEEXPIRE: {
    'zh-CN': '付款码已过期，请顾客刷新付款码后重新扫码',
    en: 'The pay code expired: ask the customer to refresh it and scan again',
  },
  NOTSUPORTCARD: {
    'zh-CN': '该银行卡不支持此付款，请顾客换卡或换一种方式',
    en: 'This card is not accepted here: another card or tender',
  },
  PAYER_ACCOUNT_ABNORMAL: {
    'zh-CN': '顾客的支付账户异常，请换一种方式付款',
    en: "The customer's account is restricted: use another tender",
  },
  'ACQ.BUYER_ENABLE_STATUS_FORBID': {
    'zh-CN': '顾客的支付账户异常，请换一种方式付款',
    en: "The customer's account is restricted: use another tender",
  },
  BUYER_MISMATCH: {
    'zh-CN': '付款人与订单不一致，请重新扫码',
    en: 'Payer mismatch: scan again',
  },
  MEMBER_UNKNOWN: {
    'zh-CN': '没有这个会员，请核对会员码',
    en: 'No such member: check the member code',
  },
  PARAM_ERROR: {
    'zh-CN': '付款请求有误，请重新扫码',
    en: 'The payment request was refused: scan again',
  },
  LACK_PARAMS: {
    'zh-CN': '付款请求有误，请重新扫码',
    en: 'The payment request was refused: scan again',
  },
  INVALID_REQUEST: {
    'zh-CN': '付款请求有误，请重新扫码',
    en: 'The payment request was refused: scan again',
  },
  CLOSED: {
    'zh-CN': '二维码已关闭，没有扣款，请重新收款',
    en: 'The QR was closed, nothing charged: take the payment again',
  },
  CANCELLED: {
    'zh-CN': '已取消，没有扣款',
    en: 'Cancelled, nothing charged',
  },
  FAILED: {
    'zh-CN': '支付渠道拒绝了这笔付款，没有扣款，请顾客换一种方式付款',
    en: 'The acquirer refused the payment, nothing charged: use another tender',
  },
};

/** The sentence for a code in the language shown; undefined for a code not in the table. */
export function errorSentence(code: string, lang: Lang): string | undefined {
  if (code.startsWith('HTTP_5')) return ERROR_TEXT.INTERNAL?.[lang];
  return ERROR_TEXT[code]?.[lang];
}

/** Why a payment failed, in words, with `{balance}` filled in when given. */
export function paymentReasonSentence(reason: string, lang: Lang, vars: Record<string, string> = {}): string {
  const text = (PAYMENT_REASON_TEXT[reason] ?? PAYMENT_REASON_TEXT.FAILED!)[lang];
  return text.replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? '');
}
