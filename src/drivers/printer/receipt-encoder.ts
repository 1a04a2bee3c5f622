import type { ReceiptDocument, ReceiptTextStyle } from '../../core/receipt.js';
import { EscPosEncoder, type PaperWidth } from './escpos-encoder.js';
import type { Gb18030Codec } from './gb18030.js';
import type { Raster } from './raster.js';

export interface ReceiptEncodeOptions {
  paperWidth: PaperWidth;
  codec: Gb18030Codec;
  qr?: 'native' | 'raster';
  /** The merchant logo, already dithered (rasterFromPng), for `logo` blocks. */
  logo?: Raster;
}

const SIZES = { normal: [1, 1], wide: [2, 1], tall: [1, 2], double: [2, 2] } as const;

/** A device-neutral receipt document as one ESC/POS job. */
export function encodeReceipt(doc: ReceiptDocument, o: ReceiptEncodeOptions): Uint8Array {
  const e = new EscPosEncoder({ paperWidth: o.paperWidth, codec: o.codec, qr: o.qr ?? 'native' });
  const qrSizes = { small: 4, medium: o.paperWidth === 80 ? 6 : 5, large: 8 } as const;
  const apply = (style: ReceiptTextStyle | undefined) => {
    const [width, height] = SIZES[style?.size ?? 'normal'];
    e.align(style?.align ?? 'left').style({ bold: style?.bold ?? false, width, height });
  };
  for (const b of doc.blocks) {
    switch (b.type) {
      case 'text':
        apply(b.style);
        e.line(b.text);
        break;
      case 'row':
        apply(b.style);
        e.row(b.left, b.right);
        break;
      case 'divider':
        apply(undefined);
        e.divider(b.char ?? '-');
        break;
      case 'qr':
        apply({ align: 'center' });
        e.qr(b.data, { moduleSize: qrSizes[b.size ?? 'medium'] });
        break;
      case 'barcode':
        apply({ align: 'center' });
        e.barcode(b.symbology, b.data);
        break;
      case 'logo':
        if (o.logo) {
          apply({ align: 'center' });
          e.raster(o.logo);
        }
        break;
      case 'feed':
        e.feed(b.lines);
        break;
      case 'cut':
        e.cut();
        break;
      case 'drawer':
        e.drawer();
        break;
    }
  }
  return e.encode();
}
