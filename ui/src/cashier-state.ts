import { Cart } from './cart.js';
import type { UpdateView } from './update-banner.js';

export interface CatalogItem {
  sku: string;
  name: string;
  names?: Record<string, string>;
  unitPrice: number;
  barcodes?: string[];
}

export interface Payment {
  paymentId: string;
  method: string;
  channel: string;
  amount: number;
  change: number;
  status: string;
}

export interface SaleView {
  saleId: string;
  kind: 'sale' | 'refund';
  status: 'open' | 'completed' | 'voided';
  total: number;
  paid: number;
  due: number;
  change: number;
  receiptNo?: string;
  subtotal: number;
  orderDiscount: number;
  lineDiscountTotal: number;
  lines: Array<{ lineNo: number; name: string; qty: number; net: number }>;
  payments: Payment[];
  refunds: Array<{ saleId: string; total: number; receiptNo?: string }>;
  refundable: number;
  createdAt?: string;
  completedAt?: string;
  originalSaleId?: string;
  /** The coupon applied as the order discount. */
  coupon?: { code: string; kind: 'amount' | 'percent'; value: number };
}

/** A question before money moves, or a result the cashier must act on (cash to hand back). */
export interface Dialog {
  /** `data-testid` of the box; its buttons are `{testId}-yes` and `{testId}-no`. */
  testId: string;
  title: string;
  lines: string[];
  /** The figure that matters most (cash to return), shown big. */
  emphasis?: string;
  yes: string;
  /** Absent: a notice with one button. */
  no?: string;
  danger?: boolean;
  onYes?: () => void | Promise<void>;
}

/** Whether a tender can be used: unknown until tried; off when the route or the link is missing. */
export type Availability = 'yes' | 'no';

export type Tender = 'cash' | 'code' | 'qr' | 'card' | 'member';

export interface ShiftReport {
  kind: 'X' | 'Z';
  shiftId: string;
  status: 'open' | 'closed';
  openedAt: string;
  closedAt?: string;
  openingCash: number;
  countedCash?: number;
  difference?: number;
  totals: {
    byTender: Record<string, number>;
    sales: { count: number; amount: number };
    refunds: { count: number; amount: number };
    voids: { count: number; amount: number };
    expectedCash: number;
    pendingPayments: number;
  };
}

export interface OrderView {
  orderId: string;
  status: 'received' | 'accepted' | 'rejected';
  order: {
    source: string;
    total: number;
    lines: Array<{ name: string; qty: number }>;
    note?: string;
    pickup?: unknown;
    /** Absent: prepaid. */
    payment?: 'prepaid' | 'at-counter';
    pickupCode?: string;
  };
  /** An order paid at the counter: 待付款, being paid, paid or cancelled. */
  payState?: 'to-pay' | 'paying' | 'paid' | 'cancelled';
  saleId?: string;
  receivedAt: string;
  /** The tickets on paper so far. */
  printed?: Array<'kitchen' | 'customer'>;
  autoAcceptAt?: string;
  rejectReason?: string;
}

/** One device of `GET /api/v1/devices` (or a `device.status` event). */
export interface DeviceView {
  state: 'ready' | 'busy' | 'error' | 'offline' | 'disabled' | string;
  paper?: 'ok' | 'near-end' | 'out' | string;
  cover?: 'closed' | 'open' | string;
}

/** The last `print.job` event seen for a sale, order or shift (by its refId). */
export interface PrintView {
  jobId: string;
  kind: string;
  status: 'queued' | 'printing' | 'printed' | string;
  reprint: boolean;
}

export interface CashierState {
  cashier: { id: string; name: string } | undefined;
  pin: string;
  pinError: string | undefined;
  catalog: CatalogItem[];
  cart: Cart;
  /** The keypad's text (yuan) for a custom item or cash tendered. */
  keypad: string;
  leftTab: 'items' | 'keypad' | 'codes';
  /** The code typed in the 会员/券 tab, and what it is. */
  codeDraft: string;
  /** An over-the-air update (the banner), and the manager PIN typed to restart now. */
  update?: UpdateView;
  updatePin: string;
  codeKind: 'coupon' | 'member' | 'phone';
  /** The custom item's name as typed on the amount tab. */
  customName: string;
  /** 清空 was tapped on a cart with lines: the question shows. */
  confirmClear: boolean;
  /** The cart line last added or changed: the cart keeps it in view. */
  lastLine?: number | undefined;
  screen: 'sell' | 'pay' | 'done' | 'recent' | 'refund' | 'shift' | 'orders';
  /** The shift screen: the report shown, or none when no shift is open; 'no' when the route is missing. */
  shift: ShiftReport | undefined;
  shiftAvailable: Availability;
  orders: OrderView[];
  /** The pickup code being typed in the order inbox (kept across re-renders). */
  pickupDraft?: string;
  ordersAvailable: Availability;
  /** The order whose 拒单 / 取消订单 waits for the cashier's yes. */
  confirmOrder?: { orderId: string; action: 'reject' | 'cancel' } | undefined;
  sale: SaleView | undefined;
  checkoutKey: string | undefined;
  tender: Tender;
  tenders: Record<'code' | 'qr' | 'card' | 'member', Availability>;
  tenderNote: string | undefined;
  pending: { paymentId: string; method: string } | undefined;
  /** The recent list, newest first, from `GET /api/v1/sales`; `recentNext` pages on. */
  recent: SaleView[];
  recentNext: string | undefined;
  /** The receipt number being typed in the recent list's search (kept across re-renders). */
  recentQuery: string;
  /** The search the list shows (set by 查找; typing alone does not change the list). */
  recentSearch: string;
  refundQty: Map<number, number>;
  refundSale: SaleView | undefined;
  /** What each line of the refunded sale already gave back: qty and amount by lineNo. */
  refundDone: Map<number, { qty: number; amount: number }>;
  refundReason: string | undefined;
  /** The open question or notice over the screen. */
  dialog: Dialog | undefined;
  /** The shift close being confirmed: counted cash typed, expected cash from a fresh X. */
  closing: { counted: number; expected: number } | undefined;
  /** A checkout waits for the shift to be opened with its float. */
  openThenCheckout: boolean;
  ledger: { outboxDepth: number } | undefined;
  cloud: 'online' | 'offline' | 'none' | undefined;
  devices: Record<string, DeviceView> | undefined;
  /** Print jobs by refId (sale, order, shift), newest event wins. */
  prints: Map<string, PrintView>;
  /** The print job whose image the recent screen shows (查看小票). */
  receiptImage: { saleId: string; jobId: string } | undefined;

  connected: boolean;
  message: string | undefined;
  /** The error code behind the message, shown small for support. */
  messageCode?: string | undefined;
  pendingCoupon: string | undefined;
  /** The member scanned for this sale; `code` is the card, `balance` its stored value (fen). */
  member: { memberId: string; name: string; code: string; balance?: number } | undefined;
}

export function initialState(): CashierState {
  return {
    cashier: undefined,
    pin: '',
    pinError: undefined,
    catalog: [],
    cart: new Cart(),
    keypad: '',
    leftTab: 'items',
    codeDraft: '',
    updatePin: '',
    codeKind: 'coupon',
    customName: '',
    confirmClear: false,
    screen: 'sell',
    shift: undefined,
    shiftAvailable: 'yes',
    orders: [],
    ordersAvailable: 'yes',
    sale: undefined,
    checkoutKey: undefined,
    tender: 'cash',
    tenders: { code: 'yes', qr: 'yes', card: 'yes', member: 'yes' },
    tenderNote: undefined,
    pending: undefined,
    recent: [],
    recentNext: undefined,
    recentQuery: '',
    recentSearch: '',
    refundQty: new Map(),
    refundSale: undefined,
    refundDone: new Map(),
    refundReason: undefined,
    dialog: undefined,
    closing: undefined,
    openThenCheckout: false,
    ledger: undefined,
    cloud: undefined,
    devices: undefined,
    prints: new Map(),
    receiptImage: undefined,
    connected: false,
    message: undefined,
    pendingCoupon: undefined,
    member: undefined,
  };
}

/** Whether the terminal has a printer at all (`printer.uri` not `none`): print buttons show then. */
export function hasPrinter(s: CashierState): boolean {
  const state = s.devices?.printer?.state;
  return state !== undefined && state !== 'disabled';
}
