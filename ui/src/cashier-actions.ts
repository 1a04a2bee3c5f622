import type { CatalogItem, Tender } from './cashier-state.js';
import type { StringKey } from './i18n.js';
import type { UpdateActions } from './update-banner.js';

/** The screen as a whole: sign-in, language, the toast, the keypad, leaving a back-office screen. */
export interface AppActions {
  pinKey(key: string): void;
  signIn(): void;
  signOut(): void;
  toggleLang(): void;
  dismissMessage(): void;
  /** A tap on a bar button that cannot act now (a sale is being paid): the toast says why. */
  blockedTap(): void;
  keypadKey(key: string): void;
  closeAdmin(): void;
  /** The open question's answer (a notice has only yes). */
  answerDialog(yes: boolean): void;
}

/** The cart before it is a sale, its checkout, and a fresh cart for the next customer. */
export interface CartActions {
  showTab(tab: 'items' | 'keypad' | 'codes'): void;
  /** The custom item's name as typed (empty: 自定义商品). */
  nameCustom(name: string): void;
  /** Empties the cart; with lines in it, asks first (`confirm` is the yes). */
  clearCart(confirm?: boolean): void;
  /** The answer "keep it" to 清空's question. */
  keepCart(): void;
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
  /** A quick amount into the tendered field; 确认收款 takes it. */
  fillCash(amount: number): void;
  payCash(): void;
  /** Back to the cart while no money was taken. */
  backToCart(): void;
  payCode(): void;
  payQr(channel: 'wechat' | 'alipay'): void;
  cancelQr(): void;
  payCard(): void;
  payMember(): void;
  cancelSale(): void;
}

/** The recent sales from the ledger: search, page, reprint or void one. */
export interface RecentActions {
  showRecent(): void;
  closeRecent(): void;
  setQuery(text: string): void;
  search(): void;
  clearSearch(): void;
  more(): void;
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
  setReason(reason: StringKey): void;
  confirmRefund(): void;
}

/** The shift: open, X report, close with a Z report, on paper. */
export interface ShiftActions {
  showShift(): void;
  openShift(): void;
  closeShift(): void;
  confirmClose(): void;
  cancelClose(): void;
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
  /** 拒单 or 取消订单 asks first: the order whose question is shown (none: the question goes). */
  askOrder(orderId: string | undefined, action?: 'reject' | 'cancel'): void;
}

/** Codes typed by hand beside the scanner: coupon, member code, member's phone. */
export interface CodeActions {
  setKind(kind: 'coupon' | 'member' | 'phone'): void;
  typed(text: string): void;
  key(key: string): void;
  submit(): void;
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
  codes: CodeActions;
  update: UpdateActions;
}
