import { describe, expect, it } from 'vitest';
import { type QrEcLevel, qrMatrix } from '../../../src/drivers/printer/qr-matrix.js';
import { rasterFromQr, rasterToPng } from '../../../src/drivers/printer/raster.js';
import { saveArtifact, zbarRead } from './helpers/zbar.js';

describe('own QR matrix generator, read back by zbarimg', () => {
  const cases: Array<[number, QrEcLevel]> = [
    [0, 'L'],
    [3, 'M'],
    [12, 'Q'],
    [40, 'H'],
    [90, 'M'],
    [300, 'L'],
  ];
  it.each(cases)('payload with %i Chinese repeats at level %s', async (repeat, ec) => {
    const text = `https://pay.example.com/r/${'收款a'.repeat(repeat)}?n=00012`;
    const m = qrMatrix(Buffer.from(text, 'utf8'), ec);
    const path = saveArtifact(`qr-v${m.version}-${ec}.png`, rasterToPng(rasterFromQr(m, 3)));
    expect(await zbarRead(path)).toEqual([text]);
  });

  it('picks the smallest version: 17 bytes at M is version 1, 18 is version 2', () => {
    expect(qrMatrix(new Uint8Array(14), 'M').version).toBe(1);
    expect(qrMatrix(new Uint8Array(15), 'M').version).toBe(2);
    expect(qrMatrix(new Uint8Array(14), 'M').size).toBe(21);
  });
});
