import { Cart } from './cart.js';

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
  refunds: Array<{ saleId: string; total: number }>;
  refundable: number;
}

export interface RecentSale {
  saleId: string;
  total: number;
  status: string;
  receiptNo?: string;
  refunded: number;
}

/** Whether a tender can be used: unknown until tried; off when the route or the link is missing. */
export type Availability = 'yes' | 'no';

export type Tender = 'cash' | 'code' | 'qr' | 'card';

export interface CashierState {
  cashier: { id: string; name: string } | undefined;
  pin: string;
  pinError: string | undefined;
  catalog: CatalogItem[];
  cart: Cart;
  /** The keypad's text (yuan) for a custom item or cash tendered. */
  keypad: string;
  leftTab: 'items' | 'keypad';
  screen: 'sell' | 'pay' | 'done' | 'recent' | 'refund';
  sale: SaleView | undefined;
  checkoutKey: string | undefined;
  tender: Tender;
  tenders: Record<'code' | 'qr' | 'card', Availability>;
  tenderNote: string | undefined;
  pending: { paymentId: string; method: string } | undefined;
  recent: Map<string, RecentSale>;
  refundQty: Map<number, number>;
  refundSale: SaleView | undefined;
  ledger: { outboxDepth: number } | undefined;
  cloud: 'online' | 'offline' | 'none' | undefined;
  devices: Record<string, { state: string }> | undefined;
  connected: boolean;
  message: string | undefined;
  pendingCoupon: string | undefined;
  member: { memberId: string; name: string } | undefined;
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
    screen: 'sell',
    sale: undefined,
    checkoutKey: undefined,
    tender: 'cash',
    tenders: { code: 'yes', qr: 'yes', card: 'yes' },
    tenderNote: undefined,
    pending: undefined,
    recent: new Map(),
    refundQty: new Map(),
    refundSale: undefined,
    ledger: undefined,
    cloud: undefined,
    devices: undefined,
    connected: false,
    message: undefined,
    pendingCoupon: undefined,
    member: undefined,
  };
}
