/**
 * A receipt as a device-neutral document: a list of blocks a printer driver turns into its own
 * commands (ESC/POS today). Pure data; no I/O, no printer bytes.
 */
import { formatAmount } from './money.js';

export type ReceiptAlign = 'left' | 'center' | 'right';

/** normal; wide = double width; tall = double height; double = both. */
export type ReceiptTextSize = 'normal' | 'wide' | 'tall' | 'double';

export interface ReceiptTextStyle {
  align?: ReceiptAlign;
  bold?: boolean;
  size?: ReceiptTextSize;
}

export type ReceiptBlock =
  /** A paragraph; the driver wraps it by display width (CJK counts double). */
  | { type: 'text'; text: string; style?: ReceiptTextStyle }
  /** Left text and right text (usually an amount) on one line; the left side wraps, the right never does. */
  | { type: 'row'; left: string; right: string; style?: ReceiptTextStyle }
  | { type: 'divider'; char?: '-' | '=' | '*' }
  | { type: 'qr'; data: string; size?: 'small' | 'medium' | 'large' }
  | { type: 'barcode'; symbology: 'EAN13' | 'CODE128'; data: string }
  /** The merchant logo, if the printer has one configured. */
  | { type: 'logo' }
  | { type: 'feed'; lines: number }
  | { type: 'cut' }
  /** Open the cash drawer. */
  | { type: 'drawer' };

export interface ReceiptDocument {
  blocks: ReceiptBlock[];
}

/** Fen to yuan with the full-width sign U+FFE5 (printers' GB18030 fonts have no U+00A5): 3200 → "￥32.00". */
export function yuan(fen: number): string {
  return fen < 0 ? `-\uFFE5${formatAmount(-fen)}` : `\uFFE5${formatAmount(fen)}`;
}

export { formatAmount };
