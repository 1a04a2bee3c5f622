import type { ReceiptDocument } from './receipt.js';
import { yuan } from './receipt.js';
import { receiptStrings } from './receipt-strings.js';
import { Doc, footer, formatTime, header, meta, type TemplateOptions } from './receipt-templates.js';

/** A sale voided after cash was taken: the slip that goes with the cash handed back. */
export interface VoidSlipData {
  /** The voided sale's receipt number, when it had one (a completed sale). */
  receiptNo?: string;
  at: string;
  terminal?: string;
  total: number;
  cashReturned: number;
  reason?: string;
}

export function voidSlip(data: VoidSlipData, o: TemplateOptions): ReceiptDocument {
  const s = receiptStrings(o.locale);
  const d = new Doc();
  // Cash going back to the customer opens the drawer, never for a reprint.
  if (!o.reprint && data.cashReturned > 0) d.add({ type: 'drawer' });
  header(d, s, o, s.voidTitle);
  meta(d, [
    [s.receiptNo, data.receiptNo],
    [s.time, formatTime(data.at, o.utcOffsetMinutes)],
    [s.terminal, data.terminal],
    [s.reason, data.reason],
  ]);
  d.divider();
  d.row(s.total, yuan(data.total));
  d.row(s.cashReturned, `-${yuan(data.cashReturned)}`, { bold: true, size: 'tall' });
  d.divider();
  footer(d, s, o);
  return d.build();
}
