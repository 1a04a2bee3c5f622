/** What a scanner decoder turns bytes or reports into. */
export type DecoderEvent =
  | { type: 'code'; code: string; symbology?: string }
  /** Bytes or reports that could not be used; `bytes` says how many were given up. */
  | { type: 'junk'; reason: string; bytes: number };

/**
 * A pure decoder: no timers, no I/O. Time is passed in (milliseconds on any monotonic clock), so
 * inter-key and inter-byte timeouts replay exactly in tests.
 */
export interface ScanDecoder {
  /** One HID report, or any chunk of a serial byte stream. */
  push(chunk: Uint8Array, atMs: number): DecoderEvent[];
  /** Ends what is pending if its time is up (timeout framing, stale partial scans). */
  expire(atMs: number): DecoderEvent[];
  /** When `expire` has something to do, or undefined when nothing is pending. */
  deadline(): number | undefined;
  /** The device went away: whatever is pending is junk. */
  reset(): DecoderEvent[];
}

export function junk(reason: string, bytes: number): DecoderEvent {
  return { type: 'junk', reason, bytes };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Scanner payload bytes as text: UTF-8 when valid (QR codes), else Latin-1 byte for byte. */
export function bytesToText(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  }
}

/** Control characters a barcode may legitimately carry: EOT, GS, RS (GS1 / ISO 15434). */
export function isAllowedControl(c: number): boolean {
  return c === 0x04 || c === 0x1d || c === 0x1e;
}
