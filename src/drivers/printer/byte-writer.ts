/** A growable byte buffer: one allocation per receipt instead of one per command. */
export class ByteWriter {
  private buf: Uint8Array;
  private len = 0;

  constructor(initialSize = 4096) {
    this.buf = new Uint8Array(initialSize);
  }

  get length(): number {
    return this.len;
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  bytes(...values: number[]): void {
    this.ensure(values.length);
    for (const v of values) this.buf[this.len++] = v;
  }

  array(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
  }

  /** Repeats one byte (padding spaces, divider lines). */
  fill(b: number, count: number): void {
    if (count <= 0) return;
    this.ensure(count);
    this.buf.fill(b, this.len, this.len + count);
    this.len += count;
  }

  /** A copy of what was written. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
