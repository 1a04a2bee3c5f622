import { Type } from '@sinclair/typebox';
import type { Printing } from '../../printing/printing.js';
import type { Route } from '../http-server.js';

/** Receipt previews: any print job drawn as the paper shows it, whatever the printer. */
export function printImageRoutes(printing: Pick<Printing, 'jobImage'>): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/print-jobs/:jobId/image',
      auth: true,
      doc: {
        summary:
          'A print job as the paper shows (or would show) it: its ESC/POS bytes drawn at 8 dots/mm ' +
          '(CJK 24×24, ASCII 12×24, QR and logo dot for dot), for any printer; reprints carry the mark',
        tag: 'devices',
        responses: {
          200: {
            description: 'the receipt image, black on white, one pixel a printer dot',
            contentType: 'image/png',
            schema: Type.String({ contentMediaType: 'image/png', contentEncoding: 'binary' }),
          },
        },
        errors: ['NOT_FOUND', 'CONFLICT'],
      },
      handle: async (ctx) => {
        const image = await printing.jobImage(ctx.params.jobId!);
        // Cached briefly: the cashier UI draws its screen anew on every event.
        const headers = { 'content-type': 'image/png', 'cache-control': 'private, max-age=10' };
        return { status: 200, body: image.png, headers };
      },
    },
  ];
}
