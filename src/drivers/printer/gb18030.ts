import iconv from 'iconv-lite';
import type { ByteWriter } from './byte-writer.js';

/**
 * GB18030 through iconv-lite, with a per-code-point cache: GB18030 is stateless, so encoding a
 * character once and reusing its bytes is exact, and far cheaper than one iconv call per string.
 * Build one per process and pass it to the encoders (it is only a cache).
 */
export class Gb18030Codec {
  private readonly code = new Uint32Array(0x10000);
  private readonly size = new Uint8Array(0x10000);

  /** Appends the GB18030 bytes of `text`. */
  encodeInto(text: string, out: ByteWriter): void {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) {
        out.byte(c);
        continue;
      }
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        // Outside the BMP: rare, so straight through iconv.
        out.array(iconv.encode(text.slice(i, i + 2), 'gb18030'));
        i += 1;
        continue;
      }
      let n = this.size[c]!;
      if (n === 0) n = this.learn(c);
      const v = this.code[c]!;
      if (n === 2) out.bytes(v >>> 8, v & 0xff);
      else out.bytes(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    }
  }

  /**
   * Builds iconv's GB18030 tables now (~30–40 ms, ~1–2 MB kept), so the first receipt does not pay
   * for them and the memory they keep is part of the idle daemon, not growth after its sales.
   */
  warm(): void {
    iconv.getCodec('gb18030');
  }

  encode(text: string): Uint8Array {
    return iconv.encode(text, 'gb18030');
  }

  private learn(c: number): number {
    const b = iconv.encode(String.fromCharCode(c), 'gb18030');
    let v = 0;
    for (const x of b) v = ((v << 8) | x) >>> 0;
    this.code[c] = v;
    this.size[c] = b.length;
    return b.length;
  }
}

export function decodeGb18030(bytes: Uint8Array): string {
  return iconv.decode(Buffer.from(bytes), 'gb18030');
}
