/**
 * The print document a store app sends (platform-v1 `print` scope): lines of text, a QR, a cut.
 * Pure: it becomes receipt blocks for the same encoder as every receipt. There is no block for
 * raw bytes or the drawer, and the encoder prints control characters as `?` (safe-text).
 */
import { type Static, Type } from '@sinclair/typebox';
import type { ReceiptBlock, ReceiptDocument } from '../core/receipt.js';

export const AppPrintDocumentSchema = Type.Object(
  {
    lines: Type.Array(
      Type.Object(
        {
          text: Type.String({ maxLength: 200 }),
          align: Type.Optional(
            Type.Union([Type.Literal('left'), Type.Literal('center'), Type.Literal('right')]),
          ),
          bold: Type.Optional(Type.Boolean()),
          size: Type.Optional(
            Type.Union([
              Type.Literal('normal'),
              Type.Literal('wide'),
              Type.Literal('tall'),
              Type.Literal('double'),
            ]),
          ),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 100 },
    ),
    qr: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
    cut: Type.Optional(Type.Boolean({ description: 'cut after the document (default true)' })),
  },
  { additionalProperties: false },
);
export type AppPrintDocument = Static<typeof AppPrintDocumentSchema>;

export const PrintJobSchema = Type.Object(
  { document: AppPrintDocumentSchema },
  { additionalProperties: false },
);

export function appDocumentBlocks(doc: AppPrintDocument): ReceiptDocument {
  const blocks: ReceiptBlock[] = doc.lines.map((l) => ({
    type: 'text',
    text: l.text,
    style: {
      ...(l.align ? { align: l.align } : {}),
      ...(l.bold !== undefined ? { bold: l.bold } : {}),
      ...(l.size ? { size: l.size } : {}),
    },
  }));
  if (doc.qr) blocks.push({ type: 'qr', data: doc.qr });
  blocks.push({ type: 'feed', lines: 1 });
  if (doc.cut !== false) blocks.push({ type: 'cut' });
  return { blocks };
}
