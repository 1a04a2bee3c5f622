import type { ErrorCode } from '../../errors.js';
import { describeError, isPosError, PosError } from '../../errors.js';
import { LogLimiter } from '../../log-limit.js';
import { type DeviceState, type PosDevice, reportedState } from '../device.js';
import { Listeners } from '../transport/listeners.js';
import type { LinkHealth } from '../transport/reconnecting-transport.js';
import { systemTimers, type TimerHandle, type Timers } from '../transport/timers.js';
import { type ConfirmationMemory, type ConfirmMode, volatileConfirmation } from './confirmation.js';
import type { EscPosPrinterOptions, PrinterSnapshot, PrintOutcome } from './printer-types.js';
import {
  CLEAR_BUFFERS,
  ENABLE_ASB,
  type PrinterStatus,
  type StatusEvent,
  type StatusParser,
  type StatusQuery,
  TRANSMIT_PAPER_STATUS,
} from './status.js';
import { concat, StatusReplies } from './status-replies.js';

export type {
  EscPosPrinterOptions,
  PrinterSnapshot,
  PrintOutcome,
  SupervisedTransport,
} from './printer-types.js';

/**
 * An ESC/POS receipt printer over any transport: keeps its status (polling `DLE EOT` and listening
 * to ASB), sends jobs one at a time and says what became of each: printed, not started, or maybe
 * partly printed. Publishes `printer.status` on the bus whenever the snapshot changes.
 */
export class EscPosPrinter implements PosDevice {
  readonly kind = 'printer' as const;
  private readonly o: Required<Omit<EscPosPrinterOptions, 'timers' | 'memory'>> & {
    timers: Timers;
    memory: ConfirmationMemory;
  };
  private readonly replies: StatusReplies;
  private status: PrinterStatus = {
    paper: 'ok',
    cover: 'closed',
    offline: false,
    error: false,
    fatal: false,
    drawerPin3High: false,
  };
  private opened = false;
  private linkUp = false;
  private responsive = false;
  private printing = false;
  /** Undefined until learnt (probe at connect, or recalled). */
  private confirmMode: ConfirmMode | undefined;
  private jobInterrupt: ((code: ErrorCode, reason: string) => void) | undefined;
  private pollTimer: TimerHandle | undefined;
  private init: Promise<void> | undefined;
  private exclusive: Promise<unknown> = Promise.resolve();
  private lastSnapshot = '';
  private wasReady = false;
  private readonly ready = new Listeners<[]>();
  private unsubscribe: Array<() => void> = [];

  constructor(options: EscPosPrinterOptions) {
    this.o = {
      pollMs: 3_000,
      jobPollMs: 500,
      replyTimeoutMs: 2_000,
      jobTimeoutMs: 60_000,
      confirm: 'probe',
      probeTimeoutMs: 1_000,
      logIntervalMs: 10_000,
      now: Date.now,
      ...options,
      timers: options.timers ?? systemTimers(),
      memory: options.memory ?? volatileConfirmation(),
    };
    this.confirmMode = this.o.confirm === 'probe' ? this.o.memory.recall() : this.o.confirm;
    const noise = new LogLimiter(this.o.log, this.o.logIntervalMs, this.o.now);
    this.replies = new StatusReplies({
      write: (bytes) => this.o.transport.write(bytes),
      timers: this.o.timers,
      replyTimeoutMs: this.o.replyTimeoutMs,
      onStatus: (e) => this.onStatus(e),
      // The exact count stays in junkBytes (snapshot, devices API); the log gets a line per 10 s.
      onJunk: (bytes) =>
        noise.warn('unexpected bytes from the printer', { bytes, junkBytes: this.parser.junkBytes }),
    });
  }

  private get parser(): StatusParser {
    return this.replies.parser;
  }

  get state(): DeviceState {
    if (!this.opened) return 'closed';
    if (!this.linkUp || !this.responsive) return 'degraded';
    if (this.fault()) return 'error';
    return this.printing ? 'busy' : 'idle';
  }

  /** Ready for a job: connected, answering, no paper or cover problem, not printing. */
  isReady(): boolean {
    return this.state === 'idle';
  }

  /** Called each time the printer becomes ready (after paper is loaded, the cover closed, a replug). */
  onReady(listener: () => void): () => void {
    return this.ready.add(listener);
  }

  /** How a job gets confirmed now (`unknown` until the printer has been probed). */
  get confirmation(): ConfirmMode | 'unknown' {
    return this.confirmMode ?? 'unknown';
  }

  snapshot(): PrinterSnapshot {
    const reason = this.notReadyReason();
    return {
      state: reportedState(this.state, true),
      paper: this.status.paper,
      cover: this.status.cover,
      online: this.linkUp && this.responsive && !this.status.offline,
      error: this.status.error,
      junkBytes: this.parser.junkBytes,
      confirmation: this.confirmation,
      ...(reason ? { reason } : {}),
    };
  }

  async open(): Promise<void> {
    if (this.opened) return;
    this.opened = true;
    const t = this.o.transport;
    this.unsubscribe = [
      t.onData((chunk) => this.parser.push(chunk)),
      t.onHealth((health, err) => this.onHealth(health, err)),
    ];
    await t.open();
    if (t.health === 'open' && !this.linkUp) this.onHealth('open');
    await this.init;
    this.publish();
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    this.opened = false;
    this.o.timers.clearTimeout(this.pollTimer);
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.linkLost(new PosError('DEVICE_DISCONNECTED', 'printer closed'));
    await this.o.transport.close();
    this.publish();
  }

  /** Asks the printer for its status now (`DLE EOT` 1, 2, 4, and 3 when it reports an error). */
  async refreshStatus(): Promise<PrinterSnapshot> {
    await this.query([1, 2, 4]);
    if (this.status.error) await this.query([3]);
    return this.snapshot();
  }

  /** Prints one job. Never rejects: every failure is an outcome. Jobs run one at a time. */
  print(bytes: Uint8Array): Promise<PrintOutcome> {
    const run = this.exclusive.then(() => this.printNow(bytes));
    this.exclusive = run.catch(() => {});
    return run.catch((err: unknown) => ({
      result: 'maybe-partial' as const,
      code: 'INTERNAL' as const,
      reason: describeError(err),
    }));
  }

  private async printNow(bytes: Uint8Array): Promise<PrintOutcome> {
    await this.init; // the connect-time probe, so the first job knows how it is confirmed
    if (!this.opened || !this.linkUp)
      return notStarted('PRINTER_OFFLINE', this.notReadyReason() ?? 'not connected');
    try {
      await this.refreshStatus();
    } catch (err) {
      return notStarted('PRINTER_OFFLINE', `no status reply: ${describeError(err)}`);
    }
    const fault = this.fault();
    if (fault) return notStarted(fault.code, fault.reason);
    try {
      await this.learnConfirmation(); // not done at connect when the printer had a fault then
    } catch (err) {
      return notStarted('PRINTER_OFFLINE', `no reply to the GS r probe: ${describeError(err)}`);
    }
    this.printing = true;
    this.publish();
    try {
      return await this.send(bytes);
    } finally {
      this.printing = false;
      this.publish();
    }
  }

  private async send(bytes: Uint8Array): Promise<PrintOutcome> {
    const viaTransmit = this.confirmMode === 'transmit-status';
    let interrupted: { code: ErrorCode; reason: string } | undefined;
    this.jobInterrupt = (code, reason) => {
      interrupted ??= { code, reason };
    };
    let done: Promise<void> | undefined;
    if (viaTransmit) done = this.replies.expectTransmit();
    const job = viaTransmit ? concat(bytes, TRANSMIT_PAPER_STATUS) : bytes;
    try {
      await this.o.transport.write(job);
    } catch (err) {
      this.jobInterrupt = undefined;
      this.abandon();
      return partial(
        isPosError(err) ? err.code : 'DEVICE_DISCONNECTED',
        `sending failed: ${describeError(err)}`,
      );
    }
    if (!done) {
      this.jobInterrupt = undefined;
      if (interrupted) return partial(interrupted.code, interrupted.reason);
      try {
        await this.refreshStatus();
      } catch (err) {
        return partial('PRINTER_OFFLINE', `no status after the job: ${describeError(err)}`);
      }
      const fault = this.fault();
      return fault ? partial(fault.code, fault.reason) : printed('realtime');
    }
    return this.awaitCompletion(done, interrupted);
  }

  /** Waits for the `GS r` reply, a fault (ASB or poll), a lost link or the job timeout. */
  private awaitCompletion(
    done: Promise<void>,
    already: { code: ErrorCode; reason: string } | undefined,
  ): Promise<PrintOutcome> {
    return new Promise<PrintOutcome>((resolve) => {
      let settled = false;
      let pollTimer: TimerHandle | undefined;
      const finish = (outcome: PrintOutcome) => {
        if (settled) return;
        settled = true;
        this.jobInterrupt = undefined;
        this.o.timers.clearTimeout(deadline);
        this.o.timers.clearTimeout(pollTimer);
        if (outcome.result !== 'printed') this.abandon();
        resolve(outcome);
      };
      this.jobInterrupt = (code, reason) => finish(partial(code, reason));
      const deadline = this.o.timers.setTimeout(() => {
        const fault = this.fault();
        if (!fault && this.responsive) this.learnt('realtime', 'printer stopped answering GS r');
        finish(partial('DEVICE_TIMEOUT', `no completion reply in ${this.o.jobTimeoutMs} ms`));
      }, this.o.jobTimeoutMs);
      const poll = () => {
        pollTimer = this.o.timers.setTimeout(() => {
          this.query([2, 4])
            .catch(() => {}) // a busy printer may answer late; the deadline decides
            .finally(() => {
              if (!settled) poll();
            });
        }, this.o.jobPollMs);
      };
      done.then(
        () => finish(printed('transmit-status')),
        (err: unknown) =>
          finish(partial(isPosError(err) ? err.code : 'DEVICE_DISCONNECTED', describeError(err))),
      );
      if (already) finish(partial(already.code, already.reason));
      else {
        const fault = this.fault();
        if (fault) finish(partial(fault.code, fault.reason));
        else poll();
      }
    });
  }

  /** Once per printer: recalled, or asks `GS r 1` on an idle printer and sees if it answers. */
  private async learnConfirmation(): Promise<void> {
    if (this.confirmMode) return;
    const answered = await this.replies.probeTransmit(this.o.probeTimeoutMs);
    if (answered) this.learnt('transmit-status', 'printer answers GS r: jobs are confirmed when done');
    else this.learnt('realtime', 'printer does not answer GS r: jobs are confirmed by real-time status');
  }

  private learnt(mode: ConfirmMode, why: string): void {
    if (this.confirmMode === mode) return;
    this.confirmMode = mode;
    this.o.memory.remember(mode);
    this.o.log.info({ confirmation: mode }, why);
    this.publish();
  }

  /** A job given up: stop the rest printing after the fault clears, and forget its reply. */
  private abandon(): void {
    this.replies.dropTransmits(new PosError('PRINTER_ERROR', 'job abandoned'));
    if (this.linkUp) this.o.transport.write(CLEAR_BUFFERS).catch(() => {});
  }

  /** Sends `DLE EOT n` for each n and waits for all replies; keeps `responsive` up to date. */
  private async query(ns: StatusQuery[]): Promise<void> {
    if (!this.linkUp) throw new PosError('DEVICE_DISCONNECTED', 'printer not connected');
    try {
      await this.replies.query(ns);
    } catch (err) {
      if (this.responsive && isPosError(err, 'DEVICE_TIMEOUT')) {
        this.responsive = false;
        this.o.log.warn('printer does not answer status queries');
        this.publish();
      }
      throw err;
    }
    if (!this.responsive) {
      this.responsive = true;
      this.publish();
    }
  }

  private onStatus(e: StatusEvent): void {
    this.status = { ...this.status, ...e.status };
    if (e.kind === 'asb') this.responsive = true;
    const fault = this.fault();
    if (fault && this.jobInterrupt) this.jobInterrupt(fault.code, fault.reason);
    this.publish();
  }

  private onHealth(health: LinkHealth, err?: Error): void {
    if (!this.opened) return;
    if (health === 'open') {
      this.linkUp = true;
      this.responsive = false;
      this.init = this.initialise();
      return;
    }
    if (this.linkUp) this.linkLost(err ?? new PosError('DEVICE_DISCONNECTED', 'printer link lost'));
    this.publish();
  }

  /** After each (re)connect: ASB on, status now, then poll. */
  private async initialise(): Promise<void> {
    this.parser.resetAll();
    try {
      await this.o.transport.write(ENABLE_ASB);
      await this.refreshStatus();
      // Probed only while the printer is fine: one with paper out holds `GS r` until reloaded.
      if (!this.fault()) await this.learnConfirmation();
      this.o.log.info({ status: this.snapshot() }, 'printer connected');
    } catch (err) {
      this.o.log.warn({ err: describeError(err) }, 'printer connected but does not answer');
    }
    this.publish();
    this.schedulePoll();
  }

  private schedulePoll(): void {
    this.o.timers.clearTimeout(this.pollTimer);
    if (!this.opened || !this.linkUp) return;
    this.pollTimer = this.o.timers.setTimeout(() => {
      const run = this.printing ? Promise.resolve() : this.refreshStatus().then(() => {});
      run.catch(() => {}).finally(() => this.schedulePoll());
    }, this.o.pollMs);
  }

  private linkLost(err: Error): void {
    this.linkUp = false;
    this.responsive = false;
    this.o.timers.clearTimeout(this.pollTimer);
    const error = isPosError(err) ? err : new PosError('DEVICE_DISCONNECTED', describeError(err));
    this.replies.failAll(error);
    this.jobInterrupt?.('DEVICE_DISCONNECTED', `connection lost: ${error.message}`);
  }

  private fault(): { code: ErrorCode; reason: string } | undefined {
    const s = this.status;
    if (s.paper === 'out') return { code: 'PRINTER_PAPER_OUT', reason: 'paper out' };
    if (s.cover === 'open') return { code: 'PRINTER_COVER_OPEN', reason: 'cover open' };
    if (s.error)
      return { code: 'PRINTER_ERROR', reason: s.fatal ? 'printer error (needs service)' : 'printer error' };
    if (s.offline) return { code: 'PRINTER_OFFLINE', reason: 'printer offline' };
    return undefined;
  }

  private notReadyReason(): string | undefined {
    if (!this.opened) return 'closed';
    if (!this.linkUp) {
      const why = this.o.transport.lastError;
      return why ? `not connected: ${why.message}` : 'not connected';
    }
    if (!this.responsive) return 'no status reply';
    return this.fault()?.reason;
  }

  /** Emits `printer.status` when the snapshot changed, and `ready` listeners when it became ready. */
  private publish(): void {
    const snap = this.snapshot();
    const key = JSON.stringify(snap);
    if (key !== this.lastSnapshot) {
      this.lastSnapshot = key;
      this.o.bus.emit('printer.status', snap);
    }
    const ready = this.isReady();
    if (ready && !this.wasReady) {
      this.wasReady = true;
      this.ready.emit();
    } else if (!ready && !this.printing) this.wasReady = false;
  }
}

function printed(confirmedBy: ConfirmMode): PrintOutcome {
  return { result: 'printed', confirmedBy };
}

function notStarted(code: ErrorCode, reason: string): PrintOutcome {
  return { result: 'not-started', code, reason };
}

function partial(code: ErrorCode, reason: string): PrintOutcome {
  return { result: 'maybe-partial', code, reason };
}
