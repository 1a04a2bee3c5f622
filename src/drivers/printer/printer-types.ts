import type { EventBus } from '../../bus.js';
import type { ErrorCode } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { DeviceSnapshot } from '../device.js';
import type { LinkHealth } from '../transport/reconnecting-transport.js';
import type { Timers } from '../transport/timers.js';
import type { Transport } from '../transport/transport.js';
import type { ConfirmationMemory, ConfirmMode } from './confirmation.js';
import type { PrinterStatus } from './status.js';

/** What became of one job; the print queue reprints `maybe-partial` jobs marked as reprints. */
export type PrintOutcome =
  | { result: 'printed'; confirmedBy: ConfirmMode }
  /** Nothing reached the paper: print it again as is. */
  | { result: 'not-started'; code: ErrorCode; reason: string }
  /** Part of it may be on paper (paper out, cover open, unplugged mid-job, no completion reply). */
  | { result: 'maybe-partial'; code: ErrorCode; reason: string };

export interface PrinterSnapshot extends DeviceSnapshot {
  paper: PrinterStatus['paper'];
  cover: PrinterStatus['cover'];
  online: boolean;
  error: boolean;
  /** Why the printer is not ready, if it is not. */
  reason?: string;
  /** Bytes from the printer that were neither status replies nor ASB (since start). */
  junkBytes: number;
  /** How jobs are confirmed (`unknown` until learnt). */
  confirmation: ConfirmMode | 'unknown';
}

declare module '../../bus.js' {
  interface PosEvents {
    'printer.status': PrinterSnapshot;
  }
}

/** A transport that reconnects by itself and says so (ReconnectingTransport). */
export interface SupervisedTransport extends Transport {
  readonly health: LinkHealth;
  readonly lastError?: Error | undefined;
  onHealth(listener: (health: LinkHealth, err?: Error) => void): () => void;
}

export interface EscPosPrinterOptions {
  transport: SupervisedTransport;
  bus: EventBus;
  log: Logger;
  timers?: Timers;
  /** Status poll while idle. */
  pollMs?: number;
  /** Status poll while waiting for a job to finish (catches paper-out without ASB). */
  jobPollMs?: number;
  replyTimeoutMs?: number;
  /** Longest a job may take from the last byte sent to the completion reply. */
  jobTimeoutMs?: number;
  /**
   * How a job is confirmed (see ConfirmMode). `probe` (default): what `memory` recalls, else learnt
   * once when the printer connects, before the first job, by sending `GS r 1` and waiting at most
   * `probeTimeoutMs` for its reply. A printer that stops answering `GS r` later is switched to
   * `realtime` after a job times out (that job counts as partial).
   */
  confirm?: 'probe' | ConfirmMode;
  /** Where what was learnt is kept (per printer); in memory only when absent. */
  memory?: ConfirmationMemory;
  /** How long an idle printer may take to answer the `GS r` probe. */
  probeTimeoutMs?: number;
  /** At most one warn per reason in this many ms for line noise (default 10 s); and its clock. */
  logIntervalMs?: number;
  now?: () => number;
}
