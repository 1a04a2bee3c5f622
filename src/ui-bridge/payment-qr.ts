import { qrMatrix } from '../drivers/printer/qr-matrix.js';
import { PosError } from '../errors.js';
import type { Route } from './http-server.js';

const QUIET_ZONE = 4;

/**
 * A QR code as SVG: one rect per dark module run in each row, a 4-module quiet zone. The matrix is
 * the printer's own generator (pure, no I/O), so the screen and the receipt encode alike.
 */
export function qrSvg(text: string): string {
  const m = qrMatrix(Buffer.from(text, 'utf8'), 'M');
  const full = m.size + 2 * QUIET_ZONE;
  const rects: string[] = [];
  for (let y = 0; y < m.size; y++) {
    let x = 0;
    while (x < m.size) {
      if (m.modules[y * m.size + x] !== 1) {
        x += 1;
        continue;
      }
      const start = x;
      while (x < m.size && m.modules[y * m.size + x] === 1) x += 1;
      rects.push(`<rect x="${start + QUIET_ZONE}" y="${y + QUIET_ZONE}" width="${x - start}" height="1"/>`);
    }
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${full} ${full}" shape-rendering="crispEdges">` +
    `<rect width="${full}" height="${full}" fill="#fff"/><g fill="#000">${rects.join('')}</g></svg>`
  );
}

/** `GET /api/v1/payments/{paymentId}/qr.svg`: the pending QR payment's code URL, for the customer screen. */
export interface PaymentLookup {
  get(paymentId: string): { status: string; doc: Record<string, unknown> };
}

/** The code URL of a QR payment still waiting for the customer; undefined otherwise. */
export function pendingCodeUrl(payments: PaymentLookup, paymentId: string): string | undefined {
  let payment: ReturnType<PaymentLookup['get']>;
  try {
    payment = payments.get(paymentId);
  } catch {
    return undefined; // unknown payment: 404 like any other
  }
  const url = payment.doc.codeUrl;
  return payment.status === 'pending' && typeof url === 'string' ? url : undefined;
}

export function paymentQrRoutes(codeUrlOf: (paymentId: string) => string | undefined): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/payments/:paymentId/qr.svg',
      auth: true,
      doc: {
        summary: 'The QR payment’s code URL as an SVG QR code (customer screen)',
        tag: 'payments',
        responses: { 200: { description: 'image/svg+xml' } },
        errors: ['NOT_FOUND'],
      },
      handle: (ctx) => {
        const url = codeUrlOf(ctx.params.paymentId!);
        if (!url) throw new PosError('NOT_FOUND', 'no QR code for this payment');
        return { status: 200, body: qrSvg(url), headers: { 'content-type': 'image/svg+xml' } };
      },
    },
  ];
}
