/**
 * Receipt templates: plain data in, a device-neutral ReceiptDocument out. Pure functions.
 *
 * Input types (all money in integer fen, times as ISO-8601 strings):
 * - MerchantInfo: name, address?, phone?, header?, footer? (from business config `merchant`),
 *   logo? (true when the printer has the merchant logo loaded).
 * - ReceiptLine: {name, qty, unitPrice, discount?} where discount is the fen taken off this line
 *   (line discount plus its share of an order discount, if the caller wants it shown per line);
 *   `amount` overrides qty × unitPrice − discount when the caller already has the net.
 * - ReceiptPayment: {method ('cash' | 'code' | 'qr' | 'card' | 'member'), channel? ('wechat',
 *   'alipay', 'unionpay', ...), amount}; cash `amount` is what was tendered.
 * - ReceiptTotals: {subtotal, discount, total, paid?, change?}.
 * Every template takes TemplateOptions: locale, merchant, reprint (adds a clear 重打印 / REPRINT
 * mark at the top and the bottom, and never opens the drawer), utcOffsetMinutes for printed times.
 */
import { type ReceiptBlock, type ReceiptDocument, type ReceiptTextStyle, yuan } from './receipt.js';
import { type ReceiptLocale, type ReceiptStrings, receiptStrings } from './receipt-strings.js';
import type { ShiftTotals } from './shift-report.js';

export interface MerchantInfo {
  name: string;
  address?: string;
  phone?: string;
  header?: string;
  footer?: string;
  logo?: boolean;
}

export interface ReceiptLine {
  name: string;
  qty: number;
  unitPrice: number;
  discount?: number;
  amount?: number;
}

export interface ReceiptPayment {
  method: string;
  channel?: string;
  amount: number;
}

export interface ReceiptTotals {
  subtotal: number;
  discount: number;
  total: number;
  paid?: number;
  change?: number;
}

export interface TemplateOptions {
  locale: ReceiptLocale;
  merchant: MerchantInfo;
  reprint?: boolean;
  /** Offset of the shop's local time from UTC, for printed times (China: +480). */
  utcOffsetMinutes?: number;
}

export interface SaleReceiptData {
  receiptNo: string;
  at: string;
  cashier?: string;
  terminal?: string;
  lines: ReceiptLine[];
  /** The order-level discount, shown on its own row (0 or absent: none). */
  orderDiscount?: number;
  totals: ReceiptTotals;
  payments: ReceiptPayment[];
  member?: { name?: string; maskedNo?: string; balance?: number };
  /** e-invoice or receipt lookup URL, printed as a QR code. */
  qr?: string;
  /** Completed while offline: says so on the paper. */
  offline?: boolean;
  /** A coupon issued with this sale: printed with its QR for the customer's next visit. */
  coupon?: { code: string; kind: 'amount' | 'percent'; value: number; minSpend?: number; validUntil: string };
}

export interface RefundReceiptData {
  refundNo: string;
  originalReceiptNo: string;
  at: string;
  cashier?: string;
  terminal?: string;
  lines: ReceiptLine[];
  total: number;
  /** Where the money went back to. */
  payments: ReceiptPayment[];
  reason?: string;
}

export interface OrderTicketLine {
  name: string;
  qty: number;
  /** Choices such as 少冰 / no onions. */
  options?: string[];
  note?: string;
  unitPrice?: number;
}

export interface OrderTicketData {
  orderNo: string;
  /** Where the order came from (app, platform name). */
  source?: string;
  pickupCode?: string;
  at: string;
  lines: OrderTicketLine[];
  note?: string;
  customer?: { name?: string; phone?: string; address?: string };
  total?: number;
  payments?: ReceiptPayment[];
}

/** The shift's totals as the ledger folds them, and what the slip says around them. */
export interface ShiftReportData extends ShiftTotals {
  kind: 'X' | 'Z';
  shiftId: string;
  openedAt: string;
  closedAt?: string;
  cashier?: string;
  terminal?: string;
  openingCash: number;
  countedCash?: number;
}

export interface TestPageData {
  at: string;
  deviceId: string;
  version: string;
  printerUri: string;
  paperWidth: number;
  /** Status lines from the driver (paper, cover, ...). */
  status: string[];
  qr: string;
}

export const BIG: ReceiptTextStyle = { align: 'center', bold: true, size: 'double' };
export const CENTER: ReceiptTextStyle = { align: 'center' };

/** Collects blocks; keeps templates short and readable. */
export class Doc {
  readonly blocks: ReceiptBlock[] = [];
  text(text: string, style?: ReceiptTextStyle): this {
    this.blocks.push(style ? { type: 'text', text, style } : { type: 'text', text });
    return this;
  }
  row(left: string, right: string, style?: ReceiptTextStyle): this {
    this.blocks.push(style ? { type: 'row', left, right, style } : { type: 'row', left, right });
    return this;
  }
  divider(char: '-' | '=' | '*' = '-'): this {
    this.blocks.push({ type: 'divider', char });
    return this;
  }
  add(block: ReceiptBlock): this {
    this.blocks.push(block);
    return this;
  }
  build(): ReceiptDocument {
    return { blocks: this.blocks };
  }
}

/** "2026-11-25 09:30:12" in shop time, from an ISO instant. */
export function formatTime(iso: string, utcOffsetMinutes = 480): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return new Date(ms + utcOffsetMinutes * 60_000).toISOString().slice(0, 19).replace('T', ' ');
}

function tenderName(s: ReceiptStrings, p: { method: string; channel?: string }): string {
  return s.tenders[p.channel ?? ''] ?? s.tenders[p.method] ?? p.channel ?? p.method;
}

function reprintBanner(d: Doc, s: ReceiptStrings, o: TemplateOptions): void {
  if (!o.reprint) return;
  d.divider('*');
  d.text(`** ${s.reprint} **`, BIG);
  d.divider('*');
}

export function header(d: Doc, s: ReceiptStrings, o: TemplateOptions, title: string): void {
  const m = o.merchant;
  if (m.logo) d.add({ type: 'logo' });
  if (m.name) d.text(m.name, BIG);
  if (m.address) d.text(m.address, CENTER);
  if (m.phone) d.text(m.phone, CENTER);
  if (m.header) d.text(m.header, CENTER);
  reprintBanner(d, s, o);
  d.text(title, { align: 'center', bold: true });
  d.divider();
}

function couponSection(
  d: Doc,
  s: ReceiptStrings,
  o: TemplateOptions,
  c: NonNullable<SaleReceiptData['coupon']>,
): void {
  d.divider('*');
  d.text(s.couponGift, { align: 'center', bold: true, size: 'wide' });
  const value = c.kind === 'amount' ? yuan(c.value) : `${c.value / 100}%`;
  const terms = c.minSpend ? s.couponTerms.replace('{min}', yuan(c.minSpend)) : s.couponTermsAny;
  d.text(terms.replace('{value}', value), CENTER);
  d.add({ type: 'qr', data: c.code, size: 'small' });
  d.text(c.code, CENTER);
  d.text(`${s.couponValidUntil} ${formatTime(c.validUntil, o.utcOffsetMinutes).slice(0, 10)}`, CENTER);
  d.divider('*');
}

export function footer(d: Doc, s: ReceiptStrings, o: TemplateOptions, qr?: string): void {
  if (o.merchant.footer) d.text(o.merchant.footer, CENTER);
  if (qr) d.add({ type: 'qr', data: qr, size: 'medium' });
  d.text(s.thanks, CENTER);
  reprintBanner(d, s, o);
  d.add({ type: 'feed', lines: 2 }).add({ type: 'cut' });
}

export function meta(d: Doc, fields: Array<[string, string | undefined]>): void {
  for (const [label, value] of fields) if (value !== undefined && value !== '') d.text(`${label}: ${value}`);
}

function lineAmount(l: ReceiptLine): number {
  return l.amount ?? l.qty * l.unitPrice - (l.discount ?? 0);
}

function itemLines(d: Doc, s: ReceiptStrings, lines: ReceiptLine[]): void {
  for (const l of lines) {
    d.row(l.name, yuan(lineAmount(l)));
    const detail = `  ${l.qty} x ${yuan(l.unitPrice)}`;
    if (l.discount) d.row(detail, `${s.discount} -${yuan(l.discount)}`);
    else if (l.qty !== 1) d.text(detail);
  }
}

export function saleReceipt(data: SaleReceiptData, o: TemplateOptions): ReceiptDocument {
  const s = receiptStrings(o.locale);
  const d = new Doc();
  const cash = data.payments.some((p) => p.method === 'cash');
  // The drawer opens as printing starts, never for a reprint.
  if (cash && !o.reprint) d.add({ type: 'drawer' });
  header(d, s, o, s.saleTitle);
  meta(d, [
    [s.receiptNo, data.receiptNo],
    [s.time, formatTime(data.at, o.utcOffsetMinutes)],
    [s.cashier, data.cashier],
    [s.terminal, data.terminal],
  ]);
  d.divider();
  itemLines(d, s, data.lines);
  d.divider();
  const t = data.totals;
  d.row(s.subtotal, yuan(t.subtotal));
  if (data.orderDiscount) d.row(s.orderDiscount, `-${yuan(data.orderDiscount)}`);
  if (t.discount) d.row(s.discount, `-${yuan(t.discount)}`);
  d.row(s.total, yuan(t.total), { bold: true, size: 'tall' });
  for (const p of data.payments) d.row(tenderName(s, p), yuan(p.amount));
  if (t.change) d.row(s.change, yuan(t.change));
  if (data.member) {
    d.divider();
    const m = data.member;
    d.text(`${s.member}: ${[m.name, m.maskedNo].filter(Boolean).join(' ')}`);
    if (m.balance !== undefined) d.row(s.balance, yuan(m.balance));
  }
  if (data.offline) d.text(s.offline, CENTER);
  if (data.coupon) couponSection(d, s, o, data.coupon);
  d.divider();
  footer(d, s, o, data.qr);
  return d.build();
}

export function refundReceipt(data: RefundReceiptData, o: TemplateOptions): ReceiptDocument {
  const s = receiptStrings(o.locale);
  const d = new Doc();
  // Cash going back to the customer opens the drawer, never for a reprint.
  if (!o.reprint && data.payments.some((p) => p.method === 'cash')) d.add({ type: 'drawer' });
  header(d, s, o, s.refundTitle);
  meta(d, [
    [s.refundNo, data.refundNo],
    [s.originalNo, data.originalReceiptNo],
    [s.time, formatTime(data.at, o.utcOffsetMinutes)],
    [s.cashier, data.cashier],
    [s.terminal, data.terminal],
    [s.reason, data.reason],
  ]);
  d.divider();
  itemLines(d, s, data.lines);
  d.divider();
  d.row(s.refundTotal, `-${yuan(data.total)}`, { bold: true, size: 'tall' });
  for (const p of data.payments) d.row(`${s.refundTo} ${tenderName(s, p)}`, `-${yuan(p.amount)}`);
  d.divider();
  footer(d, s, o);
  return d.build();
}

/** For the kitchen: big quantities and names, options and notes, no prices, no merchant header. */
export function kitchenTicket(data: OrderTicketData, o: TemplateOptions): ReceiptDocument {
  const s = receiptStrings(o.locale);
  const d = new Doc();
  reprintBanner(d, s, o);
  d.text(s.kitchenTitle, BIG);
  if (data.pickupCode) d.text(`${s.pickupCode} ${data.pickupCode}`, BIG);
  meta(d, [
    [s.orderNo, data.orderNo],
    [s.time, formatTime(data.at, o.utcOffsetMinutes)],
  ]);
  if (data.source) d.text(data.source);
  d.divider('=');
  for (const l of data.lines) {
    d.text(`${l.qty} x ${l.name}`, { bold: true, size: 'tall' });
    if (l.options?.length) d.text(`   ${l.options.join(' / ')}`);
    if (l.note) d.text(`   ${s.note}: ${l.note}`);
  }
  d.divider('=');
  if (data.note) d.text(`${s.note}: ${data.note}`, { bold: true, size: 'tall' });
  reprintBanner(d, s, o);
  d.add({ type: 'feed', lines: 2 }).add({ type: 'cut' });
  return d.build();
}

/** For the customer: the order with prices and the pickup code. */
export function orderTicket(data: OrderTicketData, o: TemplateOptions): ReceiptDocument {
  const s = receiptStrings(o.locale);
  const d = new Doc();
  header(d, s, o, s.orderTitle);
  if (data.pickupCode) d.text(`${s.pickupCode} ${data.pickupCode}`, BIG);
  meta(d, [
    [s.orderNo, data.orderNo],
    [s.time, formatTime(data.at, o.utcOffsetMinutes)],
  ]);
  if (data.source) d.text(data.source);
  const c = data.customer;
  if (c) meta(d, [[s.customer, [c.name, c.phone, c.address].filter(Boolean).join(' ')]]);
  d.divider();
  for (const l of data.lines) {
    if (l.unitPrice !== undefined) d.row(`${l.name} x${l.qty}`, yuan(l.unitPrice * l.qty));
    else d.text(`${l.name} x${l.qty}`);
    if (l.options?.length) d.text(`  ${l.options.join(' / ')}`);
    if (l.note) d.text(`  ${s.note}: ${l.note}`);
  }
  d.divider();
  if (data.note) d.text(`${s.note}: ${data.note}`);
  if (data.total !== undefined) d.row(s.total, yuan(data.total), { bold: true, size: 'tall' });
  for (const p of data.payments ?? []) d.row(tenderName(s, p), yuan(p.amount));
  d.divider();
  footer(d, s, o);
  return d.build();
}

export function shiftReport(data: ShiftReportData, o: TemplateOptions): ReceiptDocument {
  const s = receiptStrings(o.locale);
  const d = new Doc();
  header(d, s, o, data.kind === 'Z' ? s.zReport : s.xReport);
  meta(d, [
    [s.shift, data.shiftId],
    [s.opened, formatTime(data.openedAt, o.utcOffsetMinutes)],
    [s.closed, data.closedAt ? formatTime(data.closedAt, o.utcOffsetMinutes) : undefined],
    [s.cashier, data.cashier],
    [s.terminal, data.terminal],
  ]);
  d.divider();
  d.row(`${s.sales} (${data.sales.count})`, yuan(data.sales.amount));
  d.row(`${s.refunds} (${data.refunds.count})`, `-${yuan(data.refunds.amount)}`);
  d.row(`${s.voids} (${data.voids.count})`, `-${yuan(data.voids.amount)}`);
  d.row(s.discounts, `-${yuan(data.discounts)}`);
  d.row(`${s.recharges} (${data.recharges.count})`, yuan(data.recharges.amount));
  d.divider();
  d.text(s.byTender, { bold: true });
  for (const [channel, amount] of Object.entries(data.byTender).sort(([a], [b]) => a.localeCompare(b)))
    d.row(`  ${tenderName(s, { method: channel })}`, yuan(amount));
  d.divider();
  d.row(s.openingCash, yuan(data.openingCash));
  d.row(s.expectedCash, yuan(data.expectedCash), { bold: true });
  if (data.countedCash !== undefined) {
    d.row(s.countedCash, yuan(data.countedCash));
    d.row(s.difference, yuan(data.countedCash - data.expectedCash), { bold: true });
  }
  if (data.pendingPayments) d.row(s.pendingPayments, String(data.pendingPayments), { bold: true });
  reprintBanner(d, s, o);
  d.add({ type: 'feed', lines: 2 }).add({ type: 'cut' });
  return d.build();
}

/** Device info, a code page sample (ASCII, CJK, full-width signs), alignment, sizes and a QR. */
export function testPage(data: TestPageData, o: TemplateOptions): ReceiptDocument {
  const s = receiptStrings(o.locale);
  const d = new Doc();
  if (o.merchant.logo) d.add({ type: 'logo' });
  d.text(s.testPage, BIG);
  d.divider();
  d.text(`${s.device}: ${data.deviceId}`);
  d.text(`${s.version}: ${data.version}`);
  d.text(`${s.printer}: ${data.printerUri}`);
  d.text(`${s.paperWidth}: ${data.paperWidth} mm`);
  d.text(`${s.time}: ${formatTime(data.at, o.utcOffsetMinutes)}`);
  for (const line of data.status) d.text(`${s.status}: ${line}`);
  d.divider();
  d.text(s.codePage, { bold: true });
  d.text(' !"#$%&\'()*+,-./0123456789:;<=>?');
  d.text('@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_');
  d.text('`abcdefghijklmnopqrstuvwxyz{|}~');
  d.text('中文测试：收银小票打印正常。￥１２３．４５');
  d.row('左对齐 left', 'right 右', {});
  d.text('center 居中', CENTER);
  d.text('right 右对齐', { align: 'right' });
  d.text('Bold 粗体', { bold: true });
  d.text('Wide 倍宽', { size: 'wide' });
  d.text('Tall 倍高', { size: 'tall' });
  d.text('Double 倍宽倍高', { size: 'double' });
  d.divider('=');
  d.add({ type: 'qr', data: data.qr, size: 'medium' });
  d.text(data.qr, CENTER);
  d.add({ type: 'feed', lines: 2 }).add({ type: 'cut' });
  return d.build();
}
