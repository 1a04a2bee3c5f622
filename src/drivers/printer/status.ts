/** What the printer says about itself. */
export interface PrinterStatus {
  paper: 'ok' | 'near-end' | 'out';
  cover: 'closed' | 'open';
  /** The printer says it is offline (cover open, paper out, error, feeding). */
  offline: boolean;
  /** A mechanical, cutter or head error (recoverable or not). */
  error: boolean;
  /** Unrecoverable: needs a power cycle or service. */
  fatal: boolean;
  drawerPin3High: boolean;
}

export type StatusQuery = 1 | 2 | 3 | 4;

export type StatusEvent =
  | { kind: 'realtime'; query: StatusQuery; byte: number; status: Partial<PrinterStatus> }
  | { kind: 'transmit'; byte: number; status: Partial<PrinterStatus> }
  | { kind: 'asb'; bytes: number[]; status: PrinterStatus };

/** `DLE EOT n`: transmit real-time status n (1 printer, 2 offline cause, 3 error cause, 4 paper). */
export function statusQuery(n: StatusQuery): Uint8Array {
  return Uint8Array.of(0x10, 0x04, n);
}

/**
 * `GS r 1`: transmit paper sensor status. Unlike `DLE EOT` it waits its turn in the print buffer,
 * so its reply means everything sent before it has been processed: the job is on paper.
 */
export const TRANSMIT_PAPER_STATUS = Uint8Array.of(0x1d, 0x72, 0x01);

/** `DLE DC4 8`: clear the receive and print buffers, so a job cut short by paper-out does not resume. */
export const CLEAR_BUFFERS = Uint8Array.of(0x10, 0x14, 0x08, 0x01, 0x03, 0x14, 0x01, 0x06, 0x02, 0x08);

/** `GS a n`: enable automatic status back (drawer, online, error, paper sensors). */
export const ENABLE_ASB = Uint8Array.of(0x1d, 0x61, 0x0f);

const bit = (b: number, n: number) => ((b >> n) & 1) === 1;

/** A real-time status byte: bits 1 and 4 set, bits 0 and 7 clear. */
export function isRealtimeByte(b: number): boolean {
  return (b & 0x93) === 0x12;
}

/** The first byte of an ASB block: bit 4 set, bits 0, 1 and 7 clear. */
function isAsbFirst(b: number): boolean {
  return (b & 0x93) === 0x10;
}

/** Bytes 2..4 of an ASB block: bits 4 and 7 clear. */
function isAsbRest(b: number): boolean {
  return (b & 0x90) === 0;
}

export function decodeRealtime(n: StatusQuery, b: number): Partial<PrinterStatus> {
  switch (n) {
    case 1:
      return { drawerPin3High: bit(b, 2), offline: bit(b, 3) };
    case 2: {
      const s: Partial<PrinterStatus> = { cover: bit(b, 2) ? 'open' : 'closed', error: bit(b, 6) };
      if (bit(b, 5)) s.paper = 'out';
      return s;
    }
    case 3:
      return { error: bit(b, 2) || bit(b, 3) || bit(b, 5) || bit(b, 6), fatal: bit(b, 3) || bit(b, 5) };
    case 4:
      return { paper: (b & 0x60) === 0x60 ? 'out' : (b & 0x0c) === 0x0c ? 'near-end' : 'ok' };
  }
}

/** `GS r 1` reply: bits 0-1 paper near end, bits 2-3 paper end. */
export function decodeTransmit(b: number): Partial<PrinterStatus> {
  return { paper: (b & 0x0c) === 0x0c ? 'out' : (b & 0x03) === 0x03 ? 'near-end' : 'ok' };
}

export function decodeAsb(bytes: number[]): PrinterStatus {
  const [b1 = 0, b2 = 0, b3 = 0] = bytes;
  return {
    drawerPin3High: bit(b1, 2),
    offline: bit(b1, 3),
    cover: bit(b1, 5) ? 'open' : 'closed',
    error: bit(b2, 2) || bit(b2, 3) || bit(b2, 5) || bit(b2, 6),
    fatal: bit(b2, 3) || bit(b2, 5),
    paper: (b3 & 0x0c) === 0x0c ? 'out' : (b3 & 0x03) === 0x03 ? 'near-end' : 'ok',
  };
}

/**
 * Parses the printer's back channel: replies to `DLE EOT n` (one byte each, matched to the queries
 * in the order they were sent) and 4-byte ASB blocks, from a stream split or merged arbitrarily.
 * Anything else is junk: counted and reported, never silently dropped.
 */
export class StatusParser {
  private readonly queries: StatusQuery[] = [];
  private transmits = 0;
  private asb: number[] = [];
  private junk = 0;

  constructor(
    private readonly onStatus: (event: StatusEvent) => void,
    private readonly onJunk: (bytes: number[]) => void = () => {},
  ) {}

  /** Bytes that were neither a reply nor part of an ASB block, since the start. */
  get junkBytes(): number {
    return this.junk;
  }

  /** Queries sent and not yet answered. */
  get outstanding(): number {
    return this.queries.length;
  }

  /** Call when a `DLE EOT n` is sent: its reply is the next real-time byte. */
  expect(n: StatusQuery): void {
    this.queries.push(n);
  }

  /** Call when a `GS r 1` is sent: its reply (bits 4 and 7 clear) comes once the buffer before it is done. */
  expectTransmit(): void {
    this.transmits += 1;
  }

  /** Forget unanswered `DLE EOT` queries (timed out): a late reply is then junk. */
  reset(): void {
    this.queries.length = 0;
  }

  /** Forget one unanswered `GS r` (a probe that timed out). */
  forgetTransmit(): void {
    if (this.transmits > 0) this.transmits -= 1;
  }

  /** Forget an unanswered `GS r` too (job abandoned, or the link was reset). */
  resetAll(): void {
    this.reset();
    this.transmits = 0;
    if (this.asb.length) this.discard(this.asb);
    this.asb = [];
  }

  push(chunk: Uint8Array): void {
    for (const b of chunk) this.byte(b);
  }

  private byte(b: number): void {
    if (this.asb.length > 0) {
      if (isAsbRest(b)) {
        this.asb.push(b);
        if (this.asb.length === 4) {
          const bytes = this.asb;
          this.asb = [];
          this.onStatus({ kind: 'asb', bytes, status: decodeAsb(bytes) });
        }
        return;
      }
      // Not an ASB block after all: its start was junk; look at this byte afresh.
      this.discard(this.asb);
      this.asb = [];
    }
    if (isRealtimeByte(b) && this.queries.length > 0) {
      const query = this.queries.shift()!;
      this.onStatus({ kind: 'realtime', query, byte: b, status: decodeRealtime(query, b) });
      return;
    }
    if (isAsbFirst(b)) {
      this.asb = [b];
      return;
    }
    if (this.transmits > 0 && isAsbRest(b)) {
      this.transmits -= 1;
      this.onStatus({ kind: 'transmit', byte: b, status: decodeTransmit(b) });
      return;
    }
    this.discard([b]);
  }

  private discard(bytes: number[]): void {
    this.junk += bytes.length;
    this.onJunk(bytes);
  }
}
