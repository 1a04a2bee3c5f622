import { describe, expect, it } from 'vitest';
import { qrMatrix } from '../../../src/drivers/printer/qr-matrix.js';
import { type PaymentLookup, pendingCodeUrl, qrSvg } from '../../../src/ui-bridge/payment-qr.js';

describe('payment QR as SVG', () => {
  it('draws exactly the dark modules of the matrix inside a 4-module quiet zone', () => {
    const text = 'weixin://wxpay/bizpayurl?pr=0123456789';
    const m = qrMatrix(Buffer.from(text, 'utf8'), 'M');
    const svg = qrSvg(text);
    expect(svg).toContain(`viewBox="0 0 ${m.size + 8} ${m.size + 8}"`);
    const drawn = new Uint8Array(m.size * m.size);
    for (const r of svg.matchAll(/<rect x="(\d+)" y="(\d+)" width="(\d+)" height="1"\/>/g)) {
      const [x, y, w] = [Number(r[1]) - 4, Number(r[2]) - 4, Number(r[3])];
      for (let i = 0; i < w; i++) drawn[y * m.size + x + i] = 1;
    }
    expect(Buffer.from(drawn).equals(Buffer.from(m.modules))).toBe(true);
  });

  it('serves only the code URL of a pending QR payment', () => {
    const payments: PaymentLookup = {
      get: (id) => {
        if (id === 'p-pending') return { status: 'pending', doc: { codeUrl: 'weixin://x' } };
        if (id === 'p-paid') return { status: 'succeeded', doc: { codeUrl: 'weixin://x' } };
        if (id === 'p-code') return { status: 'pending', doc: { authCode: '1345****6780' } };
        throw new Error('not found');
      },
    };
    expect(pendingCodeUrl(payments, 'p-pending')).toBe('weixin://x');
    expect(pendingCodeUrl(payments, 'p-paid')).toBeUndefined();
    expect(pendingCodeUrl(payments, 'p-code')).toBeUndefined();
    expect(pendingCodeUrl(payments, 'nope')).toBeUndefined();
  });
});
