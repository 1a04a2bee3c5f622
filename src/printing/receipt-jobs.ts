import type { BusinessConfig } from '../config/business.js';
import type { PosdConfig } from '../config/schema.js';
import type { ReceiptDocument } from '../core/receipt.js';
import {
  kitchenTicket,
  type MerchantInfo,
  type OrderTicketData,
  orderTicket,
  type ReceiptPayment,
  type RefundReceiptData,
  refundReceipt,
  type SaleReceiptData,
  type ShiftReportData,
  saleReceipt,
  shiftReport,
  type TemplateOptions,
  type TestPageData,
  testPage,
} from '../core/receipt-templates.js';
import type { ShiftTotals } from '../core/shift-report.js';
import { type VoidSlipData, voidSlip } from '../core/void-slip.js';
import type { DeviceSnapshot } from '../drivers/device.js';
import { PosError } from '../errors.js';
import { type AppPrintDocument, appDocumentBlocks } from '../platform/print-document.js';
import type { OnlineOrder } from '../services/order-service.js';
import { APP_VERSION } from '../version.js';

/** What a print job prints; its payload is the template's data, fixed when the job is made. */
export type PrintJobKind =
  | 'sale'
  | 'refund'
  | 'order-kitchen'
  | 'order-customer'
  | 'shift-report'
  | 'test-page'
  /** A sale voided after cash was taken: the cash handed back. */
  | 'void'
  /** A store app's print document (platform-v1): text, a QR, a cut. */
  | 'app-document'
  /** Only the cash drawer: a cash sale when receipts do not print by themselves. */
  | 'drawer';

export const PRINT_JOB_KINDS: readonly PrintJobKind[] = [
  'sale',
  'refund',
  'order-kitchen',
  'order-customer',
  'shift-report',
  'test-page',
  'void',
  'app-document',
  'drawer',
];

interface PaymentBody {
  method?: unknown;
  channel?: unknown;
  amount?: unknown;
  tendered?: unknown;
  change?: unknown;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isSafeInteger(v) ? v : 0);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function receiptPayments(list: unknown): ReceiptPayment[] {
  if (!Array.isArray(list)) return [];
  return (list as PaymentBody[]).map((p) => {
    const channel = str(p.channel);
    const method = str(p.method) ?? 'cash';
    // Cash shows what was tendered; the change row follows.
    return {
      method,
      ...(channel && channel !== method ? { channel } : {}),
      amount: num(p.tendered ?? p.amount),
    };
  });
}

/** `{receiptNo}` / `{saleId}` / `{device}` in the configured receipt QR URL. */
export function receiptQr(
  template: string | undefined,
  values: { receiptNo: string; saleId: string; device: string },
): string | undefined {
  if (!template) return undefined;
  return template
    .replaceAll('{receiptNo}', encodeURIComponent(values.receiptNo))
    .replaceAll('{saleId}', encodeURIComponent(values.saleId))
    .replaceAll('{device}', encodeURIComponent(values.device));
}

/** A sale receipt from its `sale.completed` record (mqtt-v1 body), as the customer gets it. */
export function saleReceiptFromRecord(
  body: Record<string, unknown>,
  at: string,
  o: { device: string; qrUrlTemplate?: string | undefined; offline?: boolean },
): SaleReceiptData {
  const lines = Array.isArray(body.lines) ? (body.lines as Array<Record<string, unknown>>) : [];
  const payments = Array.isArray(body.payments) ? (body.payments as PaymentBody[]) : [];
  const total = num(body.total);
  const change = payments.reduce((s, p) => s + num(p.change), 0);
  const paid = payments.reduce((s, p) => s + num(p.tendered ?? p.amount), 0);
  const receiptNo = String(body.receiptNo ?? '');
  const qr = receiptQr(o.qrUrlTemplate, { receiptNo, saleId: String(body.saleId ?? ''), device: o.device });
  return {
    receiptNo,
    at,
    terminal: o.device,
    lines: lines.map((l) => ({
      name: String(l.name ?? ''),
      qty: num(l.qty),
      unitPrice: num(l.unitPrice),
      ...(num(l.discount) > 0 ? { discount: num(l.discount) } : {}),
      amount: num(l.amount),
    })),
    totals: { subtotal: num(body.subtotal), discount: num(body.discount), total, paid, change },
    payments: receiptPayments(payments),
    ...(qr ? { qr } : {}),
    ...(o.offline ? { offline: true } : {}),
  };
}

/** A void slip from its `sale.voided` record (only when cash went back). */
export function voidSlipFromRecord(
  body: Record<string, unknown>,
  at: string,
  o: { device: string },
): VoidSlipData {
  const receiptNo = str(body.receiptNo);
  const reason = str(body.reason);
  return {
    at,
    terminal: o.device,
    total: num(body.total),
    cashReturned: num(body.cashReturned),
    ...(receiptNo ? { receiptNo } : {}),
    ...(reason ? { reason } : {}),
  };
}

/** A refund slip from its `refund.completed` record. */
export function refundReceiptFromRecord(
  body: Record<string, unknown>,
  at: string,
  o: { device: string },
): RefundReceiptData {
  const lines = Array.isArray(body.lines) ? (body.lines as Array<Record<string, unknown>>) : [];
  const reason = str(body.reason);
  return {
    refundNo: String(body.receiptNo ?? ''),
    originalReceiptNo: String(body.originalReceiptNo ?? ''),
    at,
    terminal: o.device,
    lines: lines.map((l) => {
      const qty = Math.max(1, num(l.qty));
      const amount = num(l.amount);
      return { name: String(l.name ?? ''), qty, unitPrice: Math.round(amount / qty), amount };
    }),
    total: num(body.total),
    payments: receiptPayments(body.payments),
    ...(reason ? { reason } : {}),
  };
}

function customerOf(v: unknown): OrderTicketData['customer'] | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const c = v as Record<string, unknown>;
  const out = {
    ...(str(c.name) ? { name: str(c.name) } : {}),
    ...(str(c.phone) ? { phone: str(c.phone) } : {}),
    ...(str(c.address) ? { address: str(c.address) } : {}),
  };
  return Object.keys(out).length > 0 ? out : undefined;
}

function pickupOf(v: unknown): string | undefined {
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (v && typeof v === 'object') {
    const p = v as Record<string, unknown>;
    return str(p.code) ?? str(p.number) ?? undefined;
  }
  return undefined;
}

/** A kitchen or customer ticket of an online order. */
export function orderTicketData(order: OnlineOrder): OrderTicketData {
  const customer = customerOf(order.customer);
  const pickupCode = pickupOf(order.pickup);
  return {
    orderNo: order.id,
    source: order.source,
    at: order.placedAt,
    lines: order.lines.map((l) => ({ name: l.name, qty: l.qty, unitPrice: l.unitPrice })),
    total: order.total,
    ...(pickupCode ? { pickupCode } : {}),
    ...(order.note ? { note: order.note } : {}),
    ...(customer ? { customer } : {}),
  };
}

/** An X (open shift) or Z (closed shift) report. */
export function shiftReportData(r: {
  kind: 'X' | 'Z';
  shiftId: string;
  openedAt: string;
  closedAt?: string | undefined;
  openingCash: number;
  countedCash?: number | undefined;
  totals: ShiftTotals;
  device: string;
}): ShiftReportData {
  return {
    kind: r.kind,
    shiftId: r.shiftId,
    openedAt: r.openedAt,
    ...(r.closedAt ? { closedAt: r.closedAt } : {}),
    terminal: r.device,
    openingCash: r.openingCash,
    byTender: r.totals.byTender,
    sales: r.totals.sales,
    refunds: r.totals.refunds,
    voids: r.totals.voids,
    discounts: r.totals.discounts,
    recharges: r.totals.recharges,
    expectedCash: r.totals.expectedCash,
    ...(r.countedCash !== undefined ? { countedCash: r.countedCash } : {}),
    pendingPayments: r.totals.pendingPayments,
  };
}

/** The test page: device, version, address, paper and what the printer reports now. */
export function testPageData(config: PosdConfig, printer: DeviceSnapshot, at = new Date()): TestPageData {
  return {
    at: at.toISOString(),
    deviceId: config.device.id,
    version: APP_VERSION,
    printerUri: config.printer.uri,
    paperWidth: config.printer.paperWidth,
    status: [
      `state ${printer.state}`,
      ...(printer.paper ? [`paper ${String(printer.paper)}`] : []),
      ...(printer.cover ? [`cover ${String(printer.cover)}`] : []),
    ],
    qr: `posd:${config.device.tenant}/${config.device.id}`,
  };
}

/** Template options from the business config: the merchant's header, footer, logo and locale. */
export function templateOptions(business: BusinessConfig, reprint: boolean): TemplateOptions {
  const m = business.merchant;
  const merchant: MerchantInfo = {
    name: m.name,
    ...(m.address ? { address: m.address } : {}),
    ...(m.phone ? { phone: m.phone } : {}),
    ...(m.receiptHeader ? { header: m.receiptHeader } : {}),
    ...(m.receiptFooter ? { footer: m.receiptFooter } : {}),
    ...(m.logo ? { logo: true } : {}),
  };
  return { locale: business.locale, merchant, reprint };
}

/** The document a job prints. */
export function jobDocument(kind: string, payload: unknown, options: TemplateOptions): ReceiptDocument {
  switch (kind as PrintJobKind) {
    case 'sale':
      return saleReceipt(payload as SaleReceiptData, options);
    case 'refund':
      return refundReceipt(payload as RefundReceiptData, options);
    case 'order-kitchen':
      return kitchenTicket(payload as OrderTicketData, options);
    case 'order-customer':
      return orderTicket(payload as OrderTicketData, options);
    case 'shift-report':
      return shiftReport(payload as ShiftReportData, options);
    case 'test-page':
      return testPage(payload as TestPageData, options);
    case 'void':
      return voidSlip(payload as VoidSlipData, options);
    case 'app-document':
      return appDocumentBlocks(payload as AppPrintDocument);
    case 'drawer':
      return { blocks: [{ type: 'drawer' }] };
  }
  throw new PosError('VALIDATION_FAILED', `no template for print job kind ${kind}`);
}
