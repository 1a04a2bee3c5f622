import { bytesToText, type DecoderEvent, junk, type ScanDecoder } from './decoder.js';
import { symbologyName } from './symbology.js';

export interface HidPosOptions {
  /** The report id of the barcode input report (2 on the scanners we know). */
  reportId?: number;
  /** A multi-report barcode whose next part does not come within this many ms is junk. */
  interReportTimeoutMs?: number;
  /** Longest barcode kept, in data bytes (as the serial framer and the keyboard wedge); longer is junk. */
  maxLength?: number;
}

/**
 * The HID Point of Sale barcode scanner input report (usage page 0x8C; Symbology Identifier 1–3,
 * Decoded Data, Decoded Data Continued), as hidraw hands it over, report id first:
 *
 *   byte  0      report id (2)
 *   byte  1      number of data bytes in this report, 0–56
 *   bytes 2–4    AIM symbology identifier: ']' + code character + modifier (e.g. "]E0" EAN-13,
 *                "]Q1" QR), or three zero bytes when the scanner sends none
 *   bytes 5–60   decoded data, left-justified, zero-padded after the length
 *   byte  61     vendor symbology identifier (not used)
 *   byte  62     reserved
 *   byte  63     bit 0: decoded data continued (more reports of this barcode follow)
 *
 * A barcode longer than 56 bytes spans reports: every one but the last has the continued bit, the
 * symbology is taken from the first. A report that breaks the layout (size, id, length over 56,
 * non-zero padding, a malformed identifier, reserved flag bits) is junk, and so is the whole
 * barcode it was part of: its remaining parts are consumed up to the one without the continued bit.
 */
export const HID_POS_REPORT_SIZE = 64;
const DATA_OFFSET = 5;
const DATA_MAX = 56;
const FLAGS_OFFSET = 63;

export class HidPosDecoder implements ScanDecoder {
  private readonly reportId: number;
  private readonly timeoutMs: number;
  private readonly maxLength: number;
  private dataBytes = 0;
  private parts: Uint8Array[] = [];
  private symbology: string | undefined;
  private taint: string | undefined;
  private runBytes = 0;
  private lastAt: number | undefined;

  constructor(options: HidPosOptions = {}) {
    this.reportId = options.reportId ?? 2;
    this.timeoutMs = options.interReportTimeoutMs ?? 200;
    this.maxLength = options.maxLength ?? 4096;
  }

  push(report: Uint8Array, atMs: number): DecoderEvent[] {
    const out: DecoderEvent[] = this.expire(atMs);
    this.lastAt = atMs;
    const problem = checkHidPosReport(report, this.reportId);
    if (problem) {
      out.push(junk(problem, report.length));
      // Only a barcode in progress is tainted: its later parts must not pass for a whole code.
      if (this.pending()) this.taint ??= problem;
      return out;
    }
    const length = report[1]!;
    const continued = (report[FLAGS_OFFSET]! & 0x01) !== 0;
    if (!this.pending()) this.symbology = symbologyName(report.subarray(2, 5));
    this.dataBytes += length;
    if (this.dataBytes > this.maxLength) {
      // Not kept: an endless run of continued reports must not grow one scan without bound.
      this.taint ??= `barcode over ${this.maxLength} bytes`;
      this.parts = [];
    } else if (this.taint === undefined) {
      this.parts.push(report.subarray(DATA_OFFSET, DATA_OFFSET + length));
    }
    this.runBytes += report.length;
    if (continued) return out;
    const bytes = this.runBytes;
    const data = Buffer.concat(this.parts);
    const symbology = this.symbology;
    const taint = this.taint;
    this.clear();
    if (taint !== undefined) out.push(junk(`barcode discarded: ${taint}`, bytes));
    else if (data.length === 0) out.push(junk('barcode report without data', bytes));
    else
      out.push(
        symbology
          ? { type: 'code', code: bytesToText(data), symbology }
          : { type: 'code', code: bytesToText(data) },
      );
    return out;
  }

  expire(atMs: number): DecoderEvent[] {
    if (this.lastAt === undefined || atMs - this.lastAt <= this.timeoutMs || !this.pending()) return [];
    const out = [junk('barcode cut off: its next report never came', this.runBytes)];
    this.clear();
    return out;
  }

  deadline(): number | undefined {
    return this.lastAt !== undefined && this.pending() ? this.lastAt + this.timeoutMs + 1 : undefined;
  }

  reset(): DecoderEvent[] {
    const out = this.pending() ? [junk('device closed during a barcode', this.runBytes)] : [];
    this.clear();
    this.lastAt = undefined;
    return out;
  }

  private pending(): boolean {
    return this.parts.length > 0 || this.taint !== undefined;
  }

  private clear(): void {
    this.parts = [];
    this.symbology = undefined;
    this.taint = undefined;
    this.runBytes = 0;
    this.dataBytes = 0;
  }
}

/** Why a report breaks the layout above, or undefined when it fits. */
export function checkHidPosReport(report: Uint8Array, reportId: number): string | undefined {
  if (report.length !== HID_POS_REPORT_SIZE) {
    return `report of ${report.length} bytes (a HID-POS barcode report has ${HID_POS_REPORT_SIZE})`;
  }
  if (report[0] !== reportId) return `report id ${report[0]} (expected ${reportId})`;
  const length = report[1]!;
  if (length > DATA_MAX) return `data length ${length} over ${DATA_MAX}`;
  const s0 = report[2]!;
  const s1 = report[3]!;
  const s2 = report[4]!;
  const none = s0 === 0 && s1 === 0 && s2 === 0;
  if (!none && !(s0 === 0x5d && isAlnum(s1) && isAlnum(s2))) return 'malformed symbology identifier';
  for (let i = DATA_OFFSET + length; i < DATA_OFFSET + DATA_MAX; i++) {
    if (report[i] !== 0) return 'non-zero bytes after the data';
  }
  if ((report[FLAGS_OFFSET]! & 0xfe) !== 0) return 'reserved flag bits set';
  return undefined;
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** Builds the reports of one barcode in the layout above (for simulators, tests and benches). */
export function encodeHidPosReports(data: Uint8Array, aim = ']E0', reportId = 2): Uint8Array[] {
  const reports: Uint8Array[] = [];
  let offset = 0;
  do {
    const chunk = data.subarray(offset, offset + DATA_MAX);
    offset += chunk.length;
    const r = new Uint8Array(HID_POS_REPORT_SIZE);
    r[0] = reportId;
    r[1] = chunk.length;
    if (aim !== '') r.set(Buffer.from(aim, 'latin1').subarray(0, 3), 2);
    r.set(chunk, DATA_OFFSET);
    r[FLAGS_OFFSET] = offset < data.length ? 1 : 0;
    reports.push(r);
  } while (offset < data.length);
  return reports;
}
