import { createRequire } from 'node:module';
import type * as Pngjs from 'pngjs';
import type { QrMatrix } from './qr-matrix.js';

/** A 1-bit image as `GS v 0` takes it: rows of `widthBytes` bytes, MSB = leftmost dot, 1 = black. */
export interface Raster {
  width: number;
  height: number;
  widthBytes: number;
  data: Uint8Array;
}

/** pngjs, loaded on first use (a logo, the simulator's paper): off the daemon's start. */
let pngjs: typeof Pngjs | undefined;
function pngClass(): typeof Pngjs.PNG {
  pngjs ??= createRequire(import.meta.url)('pngjs') as typeof Pngjs;
  return pngjs.PNG;
}

export function emptyRaster(width: number, height: number): Raster {
  const widthBytes = Math.ceil(width / 8);
  return { width, height, widthBytes, data: new Uint8Array(widthBytes * height) };
}

export function setDot(r: Raster, x: number, y: number): void {
  const i = y * r.widthBytes + (x >>> 3);
  r.data[i] = r.data[i]! | (0x80 >>> (x & 7));
}

export function getDot(r: Raster, x: number, y: number): boolean {
  return ((r.data[y * r.widthBytes + (x >>> 3)]! >>> (7 - (x & 7))) & 1) === 1;
}

/** A QR matrix scaled to `moduleDots` per module, with the 4-module quiet zone the standard asks. */
export function rasterFromQr(qr: QrMatrix, moduleDots: number, quietModules = 4): Raster {
  const side = (qr.size + quietModules * 2) * moduleDots;
  const r = emptyRaster(side, side);
  for (let my = 0; my < qr.size; my++) {
    for (let mx = 0; mx < qr.size; mx++) {
      if (!qr.modules[my * qr.size + mx]) continue;
      const x0 = (mx + quietModules) * moduleDots;
      const y0 = (my + quietModules) * moduleDots;
      for (let dy = 0; dy < moduleDots; dy++)
        for (let dx = 0; dx < moduleDots; dx++) setDot(r, x0 + dx, y0 + dy);
    }
  }
  return r;
}

export type Dithering = 'floyd-steinberg' | 'ordered' | 'threshold';

const BAYER4 = [0, 8, 2, 10, 12, 4, 14, 6, 3, 11, 1, 9, 15, 7, 13, 5];

/**
 * A PNG (any colour type pngjs reads) to a printable raster no wider than `maxWidth` dots:
 * transparent pixels are paper, the image is scaled down by area averaging, then dithered.
 * Done once when the logo is configured, not per receipt.
 */
export function rasterFromPng(
  png: Buffer,
  maxWidth: number,
  dithering: Dithering = 'floyd-steinberg',
): Raster {
  const img = pngClass().sync.read(png);
  const scale = Math.min(1, maxWidth / img.width);
  const width = Math.max(1, Math.round(img.width * scale));
  const height = Math.max(1, Math.round(img.height * scale));
  // Luminance 0 (black) .. 255 (white), alpha composited on white paper.
  const gray = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const sy0 = Math.floor(y / scale);
    const sy1 = Math.max(sy0 + 1, Math.floor((y + 1) / scale));
    for (let x = 0; x < width; x++) {
      const sx0 = Math.floor(x / scale);
      const sx1 = Math.max(sx0 + 1, Math.floor((x + 1) / scale));
      let sum = 0;
      let n = 0;
      for (let sy = sy0; sy < sy1 && sy < img.height; sy++) {
        for (let sx = sx0; sx < sx1 && sx < img.width; sx++) {
          const i = (sy * img.width + sx) * 4;
          const a = img.data[i + 3]! / 255;
          const lum = 0.299 * img.data[i]! + 0.587 * img.data[i + 1]! + 0.114 * img.data[i + 2]!;
          sum += lum * a + 255 * (1 - a);
          n++;
        }
      }
      gray[y * width + x] = n ? sum / n : 255;
    }
  }
  const r = emptyRaster(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const old = gray[i]!;
      let black: boolean;
      if (dithering === 'ordered') black = old < ((BAYER4[(y % 4) * 4 + (x % 4)]! + 0.5) / 16) * 255;
      else black = old < 128;
      if (black) setDot(r, x, y);
      if (dithering !== 'floyd-steinberg') continue;
      const err = old - (black ? 0 : 255);
      if (x + 1 < width) gray[i + 1] = gray[i + 1]! + (err * 7) / 16;
      if (y + 1 < height) {
        if (x > 0) gray[i + width - 1] = gray[i + width - 1]! + (err * 3) / 16;
        gray[i + width] = gray[i + width]! + (err * 5) / 16;
        if (x + 1 < width) gray[i + width + 1] = gray[i + width + 1]! + err / 16;
      }
    }
  }
  return r;
}

/** A raster as a PNG (black on white), for the simulator and for people to look at. */
export function rasterToPng(r: Raster, scale = 1): Buffer {
  const png = new (pngClass())({
    width: r.width * scale,
    height: r.height * scale,
    colorType: 0,
    inputColorType: 0,
  });
  const out = Buffer.alloc(r.width * scale * r.height * scale, 255);
  for (let y = 0; y < r.height; y++) {
    for (let x = 0; x < r.width; x++) {
      if (!getDot(r, x, y)) continue;
      for (let dy = 0; dy < scale; dy++) {
        const row = (y * scale + dy) * r.width * scale;
        out.fill(0, row + x * scale, row + x * scale + scale);
      }
    }
  }
  png.data = out;
  return pngClass().sync.write(png, { colorType: 0, inputColorType: 0 });
}
