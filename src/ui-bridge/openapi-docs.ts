import { type TSchema, Type } from '@sinclair/typebox';
import type { RouteDoc } from './route-doc.js';
import { ApplyCouponSchema, IssueCouponSchema } from './routes/coupons.js';
import { InjectScanSchema } from './routes/devices.js';
import { MemberLookupSchema, RechargeSchema, SaleMemberSchema } from './routes/members.js';
import { CancelOrderSchema, RejectOrderSchema } from './routes/orders.js';
import { CreateSaleSchema, PaymentSchema, RefundSchema, VoidSchema } from './routes/sales.js';
import { CloseShiftSchema, OpenShiftSchema } from './routes/shifts.js';

/*
 * Docs for the routes that carry none themselves, keyed by `METHOD path`. The request schemas are
 * the very objects the routes validate with, so the document cannot drift from the checks.
 */

const Money = Type.Integer({ description: 'minor units (fen)' });
const open = (properties: Record<string, TSchema>, description: string) =>
  Type.Object(properties, { additionalProperties: true, description });

const PaymentView = open(
  {
    paymentId: Type.String(),
    method: Type.String(),
    channel: Type.String(),
    amount: Money,
    change: Money,
    status: Type.String({ description: 'pending, succeeded, failed, closed, reversed, unknown' }),
  },
  'a payment',
);
export const SaleViewSchema = open(
  {
    saleId: Type.String(),
    kind: Type.Union([Type.Literal('sale'), Type.Literal('refund')]),
    status: Type.Union([Type.Literal('open'), Type.Literal('completed'), Type.Literal('voided')]),
    currency: Type.String(),
    total: Money,
    paid: Money,
    due: Money,
    change: Money,
    receiptNo: Type.Optional(Type.String()),
    lines: Type.Array(open({ lineNo: Type.Integer(), name: Type.String(), qty: Type.Integer() }, 'a line')),
    payments: Type.Array(PaymentView),
    refundable: Money,
  },
  'a sale with its lines, payments and refunds',
);
const SaleCreated = open(
  {
    saleId: Type.String(),
    status: Type.Union([Type.Literal('open'), Type.Literal('completed')]),
    total: Money,
    change: Type.Optional(Money),
    receiptNo: Type.Optional(Type.String()),
  },
  'the new sale',
);
const Pending = Type.Object({ paymentId: Type.String(), status: Type.Literal('pending') });
const CashPaid = open(
  { paymentId: Type.String(), saleId: Type.String(), saleStatus: Type.String(), due: Money },
  'the payment, the sale status and what is still due; receiptNo once completed',
);
const ShiftReport = open(
  { kind: Type.Union([Type.Literal('X'), Type.Literal('Z')]), shiftId: Type.String(), status: Type.String() },
  'an X or Z report',
);
const Order = open(
  { orderId: Type.String(), status: Type.String(), order: Type.Unknown() },
  'an order; one paid at the counter adds `payState` (`to-pay`, `paying`, `paid`, `cancelled`) and `saleId`',
);
const Member = open({ memberId: Type.String(), name: Type.String(), balance: Money }, 'a member');
const LedgerPage = Type.Object({
  epoch: Type.String(),
  records: Type.Array(open({ seq: Type.Integer(), type: Type.String(), sync: Type.String() }, 'a record')),
});
const Health = open(
  { status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]) },
  'health; `money` lists unresolved payments and reversals owed (docs/money-safety.md)',
);
const Anything = open({}, 'see docs/local-api.md');

const Device = open(
  { state: Type.Union(['ready', 'busy', 'error', 'offline', 'disabled'].map((v) => Type.Literal(v))) },
  'a device; the printer adds paper (ok, near-end, out) and cover (closed, open)',
);
const Job = Type.Object({ jobId: Type.String() });
const PrintJobView = open(
  {
    id: Type.String(),
    kind: Type.String(),
    status: Type.String({ description: 'queued, printing, printed, cancelled' }),
    reprint: Type.Boolean(),
  },
  'a print job',
);
const ok = (description: string, schema: TSchema = Anything) => ({ 200: { description, schema } });

export const EXISTING_ROUTE_DOCS: Record<string, RouteDoc> = {
  'GET /healthz': { summary: 'Health (no auth)', tag: 'system', responses: ok('health', Health) },
  'POST /api/v1/sales': {
    summary: 'Create a sale; with covering cash tenders it completes in one call',
    tag: 'sales',
    body: CreateSaleSchema,
    responses: { 201: { description: 'created', schema: SaleCreated } },
    errors: ['TENDER_INSUFFICIENT', 'TENDER_NOT_SUPPORTED', 'OFFLINE_LIMIT', 'IDEMPOTENCY_MISMATCH'],
  },
  'GET /api/v1/sales/:saleId': {
    summary: 'A sale with lines, payments, refunds',
    tag: 'sales',
    responses: ok('the sale', SaleViewSchema),
    errors: ['SALE_NOT_FOUND'],
  },
  'POST /api/v1/sales/:saleId/payments': {
    summary: 'Pay an open sale: cash/card 201, code/QR 202 (outcome on the event stream)',
    tag: 'payments',
    body: PaymentSchema,
    responses: {
      201: { description: 'cash or card recorded', schema: CashPaid },
      202: { description: 'code, QR or member payment started', schema: Pending },
    },
    errors: [
      'SALE_NOT_FOUND',
      'SALE_NOT_OPEN',
      'PAYMENT_UNRESOLVED',
      'TENDER_NOT_SUPPORTED',
      'OFFLINE_LIMIT',
      'IDEMPOTENCY_MISMATCH',
    ],
  },
  'GET /api/v1/payments/:paymentId': {
    summary: 'A payment (QR: doc.codeUrl, doc.expiresAt)',
    tag: 'payments',
    responses: ok('the payment', PaymentView),
    errors: ['NOT_FOUND'],
  },
  'POST /api/v1/payments/:paymentId/cancel': {
    summary: 'Close an unpaid QR before switching tender (answers within one request deadline)',
    tag: 'payments',
    responses: {
      200: { description: 'the payment: closed, or succeeded if paid first', schema: PaymentView },
      202: {
        description: 'the payment, status "closing": the close is retried in the background',
        schema: PaymentView,
      },
    },
    errors: ['NOT_FOUND', 'CONFLICT'],
  },
  'POST /api/v1/sales/:saleId/void': {
    summary: 'Void an open sale',
    tag: 'sales',
    body: VoidSchema,
    bodyOptional: true,
    responses: ok('the voided sale', SaleViewSchema),
    errors: ['SALE_NOT_FOUND', 'VOID_NOT_ALLOWED'],
  },
  'POST /api/v1/sales/:saleId/refunds': {
    summary: 'Refund lines of a completed sale',
    tag: 'sales',
    body: RefundSchema,
    responses: {
      201: { description: 'refunded in cash', schema: Anything },
      202: { description: 'part goes back to an electronic channel', schema: Pending },
    },
    errors: ['SALE_NOT_FOUND', 'REFUND_NOT_ALLOWED', 'REFUND_EXCEEDS_REMAINING'],
  },
  'POST /api/v1/shifts': {
    summary: 'Open a shift',
    tag: 'shifts',
    body: OpenShiftSchema,
    responses: { 201: { description: 'X report', schema: ShiftReport } },
    errors: ['SHIFT_ALREADY_OPEN'],
  },
  'GET /api/v1/shifts/current': {
    summary: 'X report of the open shift',
    tag: 'shifts',
    responses: ok('X report', ShiftReport),
    errors: ['NO_OPEN_SHIFT'],
  },
  'POST /api/v1/shifts/current/close': {
    summary: 'Close the shift (Z report)',
    tag: 'shifts',
    body: CloseShiftSchema,
    responses: ok('Z report', ShiftReport),
    errors: ['NO_OPEN_SHIFT', 'PAYMENT_UNRESOLVED'],
  },
  'GET /api/v1/shifts/:shiftId': {
    summary: 'A shift report',
    tag: 'shifts',
    responses: ok('report', ShiftReport),
    errors: ['NOT_FOUND'],
  },
  'GET /api/v1/ledger': {
    summary: 'Ledger records with their sync state',
    tag: 'ledger',
    query: {
      afterSeq: { type: 'integer', description: 'records after this seq' },
      limit: { type: 'integer', description: '1 to 1000, default 100' },
    },
    responses: ok('a page', LedgerPage),
  },
  'POST /api/v1/sales/:saleId/coupon': {
    summary: 'Apply a coupon to an open sale',
    tag: 'coupons',
    body: ApplyCouponSchema,
    responses: ok('the re-priced sale (completed at total 0 when the coupon covers it all)', SaleViewSchema),
    errors: [
      'COUPON_INVALID',
      'COUPON_RESERVED',
      'COUPON_OFFLINE',
      'COUPON_UNCONFIRMED',
      'SALE_NOT_OPEN',
      'CONFLICT',
    ],
  },
  'GET /api/v1/coupons/conflicts': {
    summary: 'Redemptions reported as a second use',
    tag: 'coupons',
    responses: ok('conflicts'),
  },
  'POST /api/v1/members/lookup': {
    summary: 'Look a member up by code',
    tag: 'members',
    body: MemberLookupSchema,
    responses: ok('the member', Member),
    errors: ['NOT_FOUND', 'OFFLINE_LIMIT'],
  },
  'POST /api/v1/members/:memberId/recharges': {
    summary: 'Stored-value recharge',
    tag: 'members',
    body: RechargeSchema,
    responses: {
      201: { description: 'credited by the cloud (Idempotency-Key honoured)', schema: Anything },
      202: { description: 'recorded, the cloud has not answered yet: retried', schema: Anything },
    },
    errors: ['RECHARGE_OFFLINE', 'RECHARGE_REFUSED', 'IDEMPOTENCY_MISMATCH'],
  },
  'POST /api/v1/sales/:saleId/member': {
    summary: 'Put a member on the sale',
    tag: 'members',
    body: SaleMemberSchema,
    responses: ok('the sale', SaleViewSchema),
  },
  'GET /api/v1/orders': {
    summary: 'Online orders, newest first; with pickupCode: the at-counter orders of that pickup code',
    tag: 'orders',
    query: {
      limit: { type: 'integer', description: '1 to 500, default 50' },
      pickupCode: {
        type: 'string',
        description:
          'an at-counter order by its pickup code: this terminal’s, else asked of the cloud (`orders.lookup`)',
      },
    },
    responses: ok('orders', Type.Object({ orders: Type.Array(Order) })),
  },
  'POST /api/v1/orders/:orderId/checkout': {
    summary: 'Take payment for an at-counter order: its open sale (the same one while it is being paid)',
    tag: 'orders',
    responses: ok('the open sale, at the order’s lines and prices', SaleViewSchema),
    errors: ['NOT_FOUND', 'ORDER_PREPAID', 'ORDER_ALREADY_PAID', 'ORDER_CANCELLED'],
  },
  'POST /api/v1/orders/:orderId/cancel': {
    summary: 'Cancel an at-counter order never collected (recorded order.rejected, cancelled)',
    tag: 'orders',
    body: CancelOrderSchema,
    responses: ok('the order', Order),
    errors: ['NOT_FOUND', 'ORDER_PREPAID', 'ORDER_ALREADY_PAID', 'ORDER_IN_PAYMENT'],
  },
  'GET /api/v1/orders/:orderId': { summary: 'An order', tag: 'orders', responses: ok('the order', Order) },
  'POST /api/v1/orders/:orderId/accept': {
    summary: 'Accept an order (tickets print)',
    tag: 'orders',
    responses: ok('the order', Order),
  },
  'POST /api/v1/orders/:orderId/reject': {
    summary: 'Reject an order',
    tag: 'orders',
    body: RejectOrderSchema,
    responses: ok('the order', Order),
  },
  'POST /api/v1/orders/:orderId/reprint': {
    summary: 'Reprint the order tickets',
    tag: 'orders',
    responses: ok('the order', Order),
  },
  'POST /api/v1/coupons/issue': {
    summary:
      'Issue a coupon by a business-config issue rule (recorded coupon.issued; a coupon.issued event follows)',
    tag: 'coupons',
    body: IssueCouponSchema,
    responses: {
      201: {
        description: 'the coupon',
        schema: open(
          { couponId: Type.String(), code: Type.String(), value: Type.Integer(), validUntil: Type.String() },
          'an issued coupon',
        ),
      },
    },
    errors: ['NOT_FOUND', 'SALE_NOT_FOUND', 'IDEMPOTENCY_MISMATCH'],
  },
  'GET /api/v1/devices': {
    summary: 'Printer, scanner and display state',
    tag: 'devices',
    responses: ok('devices', Type.Object({ printer: Device, scanner: Device, display: Device })),
  },
  'POST /api/v1/devices/scanner/scans': {
    summary: 'A scan from the simulated scanner (scanner.uri sim:), through framing and classification',
    tag: 'devices',
    body: InjectScanSchema,
    responses: { 202: { description: 'the scan event follows on the event stream' } },
    errors: ['DEVICE_UNAVAILABLE'],
  },
  'POST /api/v1/devices/printer/test-page': {
    summary: 'Queue the printer test page',
    tag: 'devices',
    responses: { 202: { description: 'queued', schema: Job } },
  },
  'GET /api/v1/print-jobs': {
    summary: 'Recent print jobs, newest first',
    tag: 'devices',
    query: { limit: { type: 'integer', description: '1 to 500, default 50' } },
    responses: ok('print jobs', Type.Object({ jobs: Type.Array(PrintJobView) })),
  },
  'POST /api/v1/sales/:saleId/reprint': {
    summary: 'Print the receipt of a completed sale or refund again, marked as a reprint',
    tag: 'sales',
    responses: { 202: { description: 'queued', schema: Job } },
    errors: ['SALE_NOT_FOUND'],
  },
  'POST /api/v1/shifts/:shiftId/print': {
    summary: 'Print the X report of the open shift (`current`) or the Z report of a closed one',
    tag: 'shifts',
    responses: { 202: { description: 'queued', schema: Job } },
    errors: ['NO_OPEN_SHIFT', 'NOT_FOUND'],
  },
};
