import { PosError } from '../../errors.js';
import type { TimerHandle, Timers } from '../transport/timers.js';
import {
  type StatusEvent,
  StatusParser,
  type StatusQuery,
  statusQuery,
  TRANSMIT_PAPER_STATUS,
} from './status.js';

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface StatusRepliesOptions {
  write: (bytes: Uint8Array) => Promise<void>;
  timers: Timers;
  replyTimeoutMs: number;
  /** Every status the printer sent (replies and ASB), before any waiter hears of it. */
  onStatus: (e: StatusEvent) => void;
  onJunk: (bytes: number[]) => void;
}

/**
 * The printer's back channel as questions and answers: `DLE EOT` queries and `GS r` replies matched
 * to who waits for them, with timeouts; what is unanswered is forgotten so a late byte is junk.
 */
export class StatusReplies {
  readonly parser: StatusParser;
  private realtime: Waiter[] = [];
  private transmit: Waiter[] = [];
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: StatusRepliesOptions) {
    this.parser = new StatusParser((e) => {
      o.onStatus(e);
      if (e.kind === 'realtime') this.realtime.shift()?.resolve();
      if (e.kind === 'transmit') this.transmit.shift()?.resolve();
    }, o.onJunk);
  }

  /** Sends `DLE EOT n` for each n and waits for all replies; one query batch at a time. */
  query(ns: StatusQuery[]): Promise<void> {
    const run = this.chain.then(() => this.queryNow(ns));
    this.chain = run.catch(() => {});
    return run;
  }

  /** Call just before sending `GS r 1` after a job: resolves on its reply. */
  expectTransmit(): Promise<void> {
    this.parser.expectTransmit();
    const done = new Promise<void>((resolve, reject) => this.transmit.push({ resolve, reject }));
    done.catch(() => {}); // observed by the caller; never an unhandled rejection
    return done;
  }

  /** True when `GS r 1` is answered within `timeoutMs`; rejects when the link drops meanwhile. */
  async probeTransmit(timeoutMs: number): Promise<boolean> {
    let waiter: Waiter | undefined;
    const reply = new Promise<'reply'>((resolve, reject) => {
      waiter = { resolve: () => resolve('reply'), reject };
      this.transmit.push(waiter);
    });
    reply.catch(() => {});
    let timer: TimerHandle | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = this.o.timers.setTimeout(() => resolve('timeout'), timeoutMs);
    });
    this.parser.expectTransmit();
    try {
      await this.o.write(TRANSMIT_PAPER_STATUS);
      if ((await Promise.race([reply, timeout])) === 'reply') return true;
      // Unanswered: forgotten, so a late reply is junk and not a later job's confirmation.
      this.transmit = this.transmit.filter((w) => w !== waiter);
      this.parser.forgetTransmit();
      return false;
    } finally {
      this.o.timers.clearTimeout(timer);
    }
  }

  /** Every `GS r` reply awaited is given up (a job abandoned); the parser starts afresh. */
  dropTransmits(err: Error): void {
    for (const w of this.transmit.splice(0)) w.reject(err);
    this.parser.resetAll();
  }

  /** The link is gone (or new): every waiter fails with `err`, the parser starts afresh. */
  failAll(err: Error): void {
    this.parser.resetAll();
    for (const w of this.realtime.splice(0)) w.reject(err);
    for (const w of this.transmit.splice(0)) w.reject(err);
  }

  private async queryNow(ns: StatusQuery[]): Promise<void> {
    const replies = ns.map((n) => {
      this.parser.expect(n);
      return new Promise<void>((resolve, reject) => this.realtime.push({ resolve, reject }));
    });
    const all = Promise.all(replies);
    all.catch(() => {});
    let timer: TimerHandle | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.o.timers.setTimeout(
        () => reject(new PosError('DEVICE_TIMEOUT', `no status reply in ${this.o.replyTimeoutMs} ms`)),
        this.o.replyTimeoutMs,
      );
    });
    timeout.catch(() => {});
    try {
      await this.o.write(concat(...ns.map(statusQuery)));
      await Promise.race([all, timeout]);
    } catch (err) {
      this.parser.reset();
      for (const w of this.realtime.splice(0)) w.reject(err as Error);
      throw err;
    } finally {
      this.o.timers.clearTimeout(timer);
    }
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
