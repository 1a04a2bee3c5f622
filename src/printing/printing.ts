import type { EventBus } from '../bus.js';
import type { BusinessConfig } from '../config/business.js';
import type { PosdConfig } from '../config/schema.js';
import type { LedgerRecord } from '../core/ledger-record.js';
import type { SaleReceiptData } from '../core/receipt-templates.js';
import type { DeviceSnapshot } from '../drivers/device.js';
import { PAPER } from '../drivers/printer/escpos-encoder.js';
import { Gb18030Codec } from '../drivers/printer/gb18030.js';
import { type Raster, rasterFromPng } from '../drivers/printer/raster.js';
import { encodeReceipt } from '../drivers/printer/receipt-encoder.js';
import { type RasterizedReceipt, ReceiptRasterizer } from '../drivers/sim/receipt-rasterizer.js';
import { describeError, PosError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Db } from '../offline/db.js';
import type { Ledger } from '../offline/ledger.js';
import { type PrintJob, PrintQueue } from '../offline/print-queue.js';
import { tolerateInTransaction } from '../offline/storage-errors.js';
import type { AppPrintDocument } from '../platform/print-document.js';
import type { OnlineOrder, TicketKind, TicketQueue } from '../services/order-service.js';
import { PrintService } from '../services/print-service.js';
import type { ShiftReport } from '../services/shift-service.js';
import { type BuiltPrinter, buildPrinter } from './printer-factory.js';
import {
  jobDocument,
  orderTicketData,
  refundReceiptFromRecord,
  saleReceiptFromRecord,
  shiftReportData,
  templateOptions,
  testPageData,
  voidSlipFromRecord,
} from './receipt-jobs.js';

export interface PrintingOptions {
  config: PosdConfig;
  db: Db;
  ledger: Ledger;
  bus: EventBus;
  log: Logger;
  business: () => BusinessConfig;
  /** False while the cloud is configured but unreachable: the receipt says it was made offline. */
  cloudOnline: () => boolean;
  /** Records an order ticket as printed, inside the print queue's transaction. */
  ticketPrinted: (orderId: string, kind: TicketKind, reprint: boolean) => void;
  now?: () => Date;
}

const TICKET_JOB: Record<TicketKind, 'order-kitchen' | 'order-customer'> = {
  kitchen: 'order-kitchen',
  customer: 'order-customer',
};

/**
 * Everything that reaches paper: the printer of `printer.uri`, the durable print queue, and the
 * jobs made from ledger facts inside the very transaction that records them (a completed sale's
 * receipt, a refund slip, the Z report), so a receipt is never lost nor printed twice unmarked.
 */
export class Printing implements TicketQueue {
  readonly service: PrintService;
  readonly printer: BuiltPrinter | undefined;
  /** Receipt images, on a worker thread: the simulator's paper and the job previews. */
  readonly rasterizer: ReceiptRasterizer;
  private readonly codec = new Gb18030Codec();
  private logo: { source: string; raster: Raster | undefined } | undefined;

  constructor(private readonly o: PrintingOptions) {
    const { config } = o;
    this.rasterizer = new ReceiptRasterizer({ log: o.log });
    this.printer = buildPrinter({
      uri: config.printer.uri,
      paperWidth: config.printer.paperWidth,
      stateDir: config.stateDir,
      bus: o.bus,
      log: o.log,
      rasterizer: this.rasterizer,
      keepDays: config.ledger.retentionDays,
    });
    const device = this.printer?.device;
    this.service = new PrintService({
      queue: new PrintQueue(o.db),
      ledger: o.ledger,
      bus: o.bus,
      log: o.log,
      render: (kind, payload, { reprint, drawer }) => this.render(kind, payload, reprint, drawer),
      ...(device && 'print' in device ? { printer: device } : {}),
      ...(o.now ? { now: o.now } : {}),
    });
    this.service.onPrintedInTransaction((job) => this.onPrinted(job));
    o.ledger.onRecordInTransaction('sale.completed', (r) => this.guard(r, () => this.onSaleCompleted(r)));
    o.ledger.onRecordInTransaction('refund.completed', (r) => this.guard(r, () => this.onRefundCompleted(r)));
    o.ledger.onRecordInTransaction('shift.closed', (r) => this.guard(r, () => this.onShiftClosed(r)));
    o.ledger.onRecordInTransaction('sale.voided', (r) => this.guard(r, () => this.onSaleVoided(r)));
    o.ledger.onRecordInTransaction('coupon.issued', (r) => this.guard(r, () => this.onCouponIssued(r)));
  }

  async start(): Promise<void> {
    this.service.start(); // recovery first: a job cut short by a crash prints as a reprint
    try {
      await this.printer?.open();
    } catch (err) {
      this.o.log.warn({ err: describeError(err) }, 'printer failed to open');
    }
  }

  /** After READY, in the next turn: what the first receipt would otherwise build (the GB18030 tables). */
  warmSoon(): void {
    if (!this.printer) return;
    setImmediate(() => {
      try {
        this.codec.warm();
      } catch (err) {
        this.o.log.warn({ err: describeError(err) }, 'receipt encoder warm-up failed');
      }
    });
  }

  async stop(): Promise<void> {
    await this.service.stop();
    await this.printer?.close();
    await this.rasterizer.close();
  }

  /**
   * A job as the paper shows (or would show) it: the very bytes the queue sends for it now (the
   * merchant header, logo and the reprint mark as they stand), drawn by the simulator's renderer.
   */
  async jobImage(jobId: string): Promise<RasterizedReceipt> {
    const job = this.service.job(jobId);
    if (!job) throw new PosError('NOT_FOUND', `no print job ${jobId}`);
    let bytes: Uint8Array;
    try {
      bytes = this.render(job.kind, job.payload, job.reprint, false);
    } catch (err) {
      throw new PosError('CONFLICT', `print job ${jobId} cannot be rendered: ${describeError(err)}`);
    }
    return this.rasterizer.render({ bytes }, PAPER[this.o.config.printer.paperWidth].dots);
  }

  snapshot(): DeviceSnapshot {
    return this.printer ? this.printer.device.snapshot() : { state: 'disabled' };
  }

  /** TicketQueue: inside the order's accepting (or reprint) transaction. */
  enqueueInTransaction(kind: TicketKind, order: OnlineOrder, reprint: boolean): void {
    this.service.enqueueInTransaction(TICKET_JOB[kind], orderTicketData(order), order.id, reprint);
  }

  /** The receipt of a completed sale or refund again, marked as a reprint. */
  reprintReceipt(saleId: string): string {
    const sale = this.o.ledger.findLatest('sale.completed', 'saleId', saleId);
    if (sale) return this.service.enqueue('sale', this.saleReceipt(sale), saleId, true);
    const refund = this.o.ledger.findLatest('refund.completed', 'refundId', saleId);
    if (refund) return this.service.enqueue('refund', this.refundReceipt(refund), saleId, true);
    throw new PosError('SALE_NOT_FOUND', `no completed sale or refund ${saleId} to reprint`);
  }

  /** An X report (open shift) or a Z report again. */
  printShiftReport(report: ShiftReport): string {
    return this.service.enqueue(
      'shift-report',
      shiftReportData({ ...report, device: this.o.config.device.id }),
      report.shiftId,
      report.kind === 'Z',
    );
  }

  /** A store app's document (platform-v1 `print`): through the durable queue, never the drawer. */
  printAppDocument(doc: AppPrintDocument, appId: string): string {
    if (!this.printer) throw new PosError('DEVICE_UNAVAILABLE', 'no printer is configured');
    return this.service.enqueue('app-document', doc, appId);
  }

  /** The test page: device, version, code page sample and a QR. */
  printTestPage(): string {
    return this.service.enqueue('test-page', testPageData(this.o.config, this.snapshot(), this.o.now?.()));
  }

  /** A receipt that cannot be made never refuses the sale: it is logged, and can be reprinted. */
  private guard(record: LedgerRecord, work: () => void): void {
    tolerateInTransaction(this.o.ledger, work, (err) =>
      this.o.log.error(
        { seq: record.seq, type: record.type, err: describeError(err) },
        'print job not made; the fact stands (reprint it)',
      ),
    );
  }

  private onSaleCompleted(record: LedgerRecord): void {
    if (!this.printer) return;
    if (!this.o.config.printer.autoPrint) {
      // No receipt, but cash still goes into the drawer.
      const payments = Array.isArray(record.body.payments)
        ? (record.body.payments as Array<{ method?: unknown }>)
        : [];
      if (payments.some((p) => p.method === 'cash')) {
        this.service.enqueueInTransaction('drawer', {}, String(record.body.saleId));
      }
      return;
    }
    const copies = this.o.business().receipt.copies;
    const receipt = this.saleReceipt(record);
    const saleId = String(record.body.saleId);
    for (let i = 0; i < copies; i++) this.service.enqueueInTransaction('sale', receipt, saleId);
  }

  private onRefundCompleted(record: LedgerRecord): void {
    if (!this.o.config.printer.autoPrint || !this.printer) return;
    this.service.enqueueInTransaction('refund', this.refundReceipt(record), String(record.body.refundId));
  }

  /** Cash handed back for a voided sale goes with a slip (and the drawer opens for it). */
  private onSaleVoided(record: LedgerRecord): void {
    if (!this.o.config.printer.autoPrint || !this.printer) return;
    const slip = voidSlipFromRecord(record.body, record.at, { device: this.o.config.device.id });
    if (slip.cashReturned <= 0) return;
    this.service.enqueueInTransaction('void', slip, String(record.body.saleId));
  }

  private onShiftClosed(record: LedgerRecord): void {
    if (!this.printer) return;
    const b = record.body;
    const z = shiftReportData({
      kind: 'Z',
      shiftId: String(b.shiftId),
      openedAt: String(b.openedAt),
      closedAt: String(b.closedAt),
      openingCash: Number(b.openingCash),
      countedCash: Number(b.countedCash),
      totals: b.z as ShiftReport['totals'],
      device: this.o.config.device.id,
    });
    this.service.enqueueInTransaction('shift-report', z, z.shiftId);
  }

  /** A coupon issued with the sale prints on its receipt (the first copy), QR and all. */
  private onCouponIssued(record: LedgerRecord): void {
    const b = record.body;
    if (typeof b.saleId !== 'string') return;
    this.service.amendQueuedInTransaction(b.saleId, 'sale', (payload) => ({
      ...(payload as SaleReceiptData),
      coupon: {
        code: String(b.code),
        kind: b.kind === 'percent' ? 'percent' : 'amount',
        value: Number(b.value),
        ...(typeof b.minSpend === 'number' ? { minSpend: b.minSpend } : {}),
        validUntil: String(b.validUntil),
      },
    }));
  }

  private onPrinted(job: PrintJob): void {
    if (job.refId === null) return;
    if (job.kind === 'order-kitchen') this.o.ticketPrinted(job.refId, 'kitchen', job.reprint);
    if (job.kind === 'order-customer') this.o.ticketPrinted(job.refId, 'customer', job.reprint);
  }

  private saleReceipt(record: LedgerRecord) {
    return saleReceiptFromRecord(record.body, record.at, {
      device: this.o.config.device.id,
      qrUrlTemplate: this.o.business().receipt.qrUrlTemplate,
      offline: !this.o.cloudOnline(),
    });
  }

  private refundReceipt(record: LedgerRecord) {
    return refundReceiptFromRecord(record.body, record.at, { device: this.o.config.device.id });
  }

  private render(kind: string, payload: unknown, reprint: boolean, drawer: boolean): Uint8Array {
    const business = this.o.business();
    const logo = this.logoRaster(business.merchant.logo);
    const options = templateOptions(business, reprint);
    if (!logo) delete options.merchant.logo;
    const document = jobDocument(kind, payload, options);
    const blocks = drawer ? document.blocks : document.blocks.filter((b) => b.type !== 'drawer');
    return encodeReceipt(
      { ...document, blocks },
      {
        paperWidth: this.o.config.printer.paperWidth,
        codec: this.codec,
        ...(logo ? { logo } : {}),
      },
    );
  }

  /** The merchant logo dithered once per config; a bad image prints no logo rather than no receipt. */
  private logoRaster(source: string | undefined): Raster | undefined {
    if (!source) return undefined;
    if (this.logo?.source === source) return this.logo.raster;
    let raster: Raster | undefined;
    try {
      const width = Math.round((PAPER[this.o.config.printer.paperWidth].dots * 2) / 3);
      raster = rasterFromPng(Buffer.from(source, 'base64'), width);
    } catch (err) {
      this.o.log.warn({ err: describeError(err) }, 'merchant logo is not a usable PNG; printing without it');
    }
    this.logo = { source, raster };
    return raster;
  }
}
