import type { CatalogItem, Tender } from './cashier-state.js';

/** The screen as a whole: sign-in, language, the toast, the keypad, leaving a back-office screen. */
export interface AppActions {
  pinKey(key: string): void;
  signIn(): void;
  signOut(): void;
  toggleLang(): void;
  dismissMessage(): void;
  keypadKey(key: string): void;
  closeAdmin(): void;
}

/** The cart before it is a sale, its checkout, and a fresh cart for the next customer. */
export interface CartActions {
  showTab(tab: 'items' | 'keypad'): void;
  addItem(item: CatalogItem): void;
  addCustom(): void;
  changeQty(index: number, delta: number): void;
  setDiscount(kind: 'none' | 'p10' | 'p20' | 'a500'): void;
  checkout(): void;
  nextSale(): void;
}

/** Paying the open sale, by each tender, or cancelling it. */
export interface PaymentActions {
  chooseTender(tender: Tender): void;
  payCash(amount?: number): void;
  payCode(): void;
  payQr(channel: 'wechat' | 'alipay'): void;
  cancelQr(): void;
  payCard(): void;
  payMember(): void;
  cancelSale(): void;
}

/** The sales of this session: reprint or void one. */
export interface RecentActions {
  showRecent(): void;
  closeRecent(): void;
  voidSale(saleId: string): void;
  reprintSale(saleId: string): void;
  /** Shows the image of the sale's latest print job (what the paper shows, reprints included). */
  viewReceipt(saleId: string): void;
  closeReceipt(): void;
}

/** Refunding lines of a completed sale. */
export interface RefundActions {
  startRefund(saleId: string): void;
  refundQty(lineNo: number, delta: number): void;
  confirmRefund(): void;
}

/** The shift: open, X report, close with a Z report, on paper. */
export interface ShiftActions {
  showShift(): void;
  openShift(): void;
  closeShift(): void;
  printShift(): void;
}

/** The online-order inbox. */
export interface OrderActions {
  showOrders(): void;
  acceptOrder(orderId: string): void;
  rejectOrder(orderId: string): void;
  reprintOrder(orderId: string): void;
  /** An order paid at the counter: its sale goes to the pay screen. */
  payOrder(orderId: string): void;
  /** A typed pickup code: its order (here, else through the cloud) goes to the pay screen. */
  payByPickupCode(pickupCode: string): void;
  cancelOrder(orderId: string): void;
}

/** What the buttons do, by the job they belong to; each part has its own controller. */
export interface Actions {
  app: AppActions;
  cart: CartActions;
  payment: PaymentActions;
  recent: RecentActions;
  refund: RefundActions;
  shift: ShiftActions;
  orders: OrderActions;
}
