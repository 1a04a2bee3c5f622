import { deflateSync } from 'node:zlib';
import type { Raster } from '../printer/raster.js';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(parts: Buffer[]): number {
  let c = 0xffffffff;
  for (const b of parts) for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32([head.subarray(4), data]), 0);
  return Buffer.concat([head, data, crc]);
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * A printer raster as a 1-bit greyscale PNG (one pixel a dot, black on white). The raster's rows
 * are already packed bits, so this is a copy, an inversion and a deflate: about 20 times faster
 * than an 8-bit PNG through pngjs, which made the PNG most of a receipt's rendering time.
 */
export function rasterToPng1(r: Raster): Buffer {
  const rowBytes = Math.ceil(r.width / 8);
  const raw = Buffer.alloc((rowBytes + 1) * r.height);
  for (let y = 0; y < r.height; y++) {
    const o = y * (rowBytes + 1); // filter byte 0 (none), then the row with 1 = white
    for (let i = 0; i < rowBytes; i++) raw[o + 1 + i] = ~r.data[y * r.widthBytes + i]! & 0xff;
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(r.width, 0);
  ihdr.writeUInt32BE(r.height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 6 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
