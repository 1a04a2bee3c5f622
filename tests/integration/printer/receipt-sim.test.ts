import { PNG } from 'pngjs';
import { afterEach, describe, expect, it } from 'vitest';
import { kitchenTicket, saleReceipt } from '../../../src/core/receipt-templates.js';
import { rasterFromPng } from '../../../src/drivers/printer/raster.js';
import { encodeReceipt } from '../../../src/drivers/printer/receipt-encoder.js';
import { sampleSale, ZH } from '../../unit/printer/helpers/sample-receipts.js';
import { codec, type Rig, tcpRig } from './helpers/rig.js';
import { zbarRead } from './helpers/zbar.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

function circleLogo(): Buffer {
  const png = new PNG({ width: 120, height: 120 });
  for (let y = 0; y < 120; y++) {
    for (let x = 0; x < 120; x++) {
      const i = (y * 120 + x) * 4;
      const d = Math.hypot(x - 60, y - 60);
      png.data[i] = png.data[i + 1] = png.data[i + 2] = Math.min(255, Math.round(d * 4));
      png.data[i + 3] = d < 58 ? 255 : 0; // transparent corners print as paper
    }
  }
  return PNG.sync.write(png);
}

describe('templates through the driver to the simulated printer', () => {
  it.each(['native', 'raster'] as const)(
    'a 30-line sale receipt with logo (%s QR): printed, PNG QR reads back',
    async (qr) => {
      rig = await tcpRig(`receipt-${qr}`);
      const sale = sampleSale(30);
      const doc = saleReceipt(sale, { ...ZH, merchant: { ...ZH.merchant, logo: true } });
      const bytes = encodeReceipt(doc, { paperWidth: 80, codec, qr, logo: rasterFromPng(circleLogo(), 200) });
      expect(await rig.printer.print(bytes)).toEqual({ result: 'printed', confirmedBy: 'transmit-status' });
      const receipt = rig.sim.receipts[0]!;
      expect(receipt.drawerKicks).toBe(1);
      expect(receipt.cut).toBe(true);
      expect(receipt.lines).toContain('静安便利店');
      expect(await zbarRead(receipt.path!)).toEqual([sale.qr]);
    },
  );

  it('a kitchen reprint shows its REPRINT mark on paper', async () => {
    rig = await tcpRig('kitchen-reprint');
    const doc = kitchenTicket(
      { orderNo: 'MT-1', at: '2026-11-25T04:00:00Z', lines: [{ name: '宫保鸡丁', qty: 1 }] },
      { ...ZH, reprint: true },
    );
    expect(await rig.printer.print(encodeReceipt(doc, { paperWidth: 80, codec }))).toEqual({
      result: 'printed',
      confirmedBy: 'transmit-status',
    });
    expect(rig.sim.receipts[0]!.lines.filter((l) => l === '** 重打印 **')).toHaveLength(2);
  });
});
