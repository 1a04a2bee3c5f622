import type { LedgerRecord, OutboxSource, RecordReject } from '../core/ledger-record.js';
import { systemTimers, type TimerHandle, type Timers } from '../drivers/transport/timers.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';

/** What the uplink needs from the link (MqttLink implements it). */
export interface UplinkLink {
  readonly isConnected: boolean;
  readonly sendWindow: number;
  publish(topic: string, payload: string): Promise<void>;
}

export interface UplinkSettings {
  maxRecords: number;
  maxBytes: number;
  /** After a connect, how long to wait for the retained ack before sending. */
  ackWaitMs: number;
  /** If the ack has not advanced this long after a PUBACK, send again from the first unacked. */
  resendAfterMs: number;
}

export const DEFAULT_UPLINK: UplinkSettings = {
  maxRecords: 100,
  maxBytes: 256 * 1024,
  ackWaitMs: 2_000,
  resendAfterMs: 10_000,
};

export interface UplinkOptions {
  link: UplinkLink;
  outbox: OutboxSource & { markSent?(fromSeq: number, toSeq: number): void };
  topic: string;
  log: Logger;
  settings?: Partial<UplinkSettings>;
  now?: () => number;
  /** Timers (the simulation passes its own clock's). */
  timers?: Timers;
  /** The ledger moved to a new epoch (a restored copy was found out). */
  onNewEpoch?: (epoch: string) => void;
  /** A live ack synced or rejected records (the outbox figures moved). */
  onAcked?: () => void;
}

/**
 * Drains the ledger to the cloud (mqtt-v1 "Ledger uplink"): batches in seq order, at most the send
 * window unacknowledged; records become synced only by a live `down/ack` received after they were
 * sent. After a connect it waits (briefly) for the retained ack, which can only reveal a restored
 * copy, and sends from its own acked seq + 1; if the ack stalls after a PUBACK it
 * sends again from the first unacked record. Duplicates are harmless; gaps never happen.
 */
export class Uplink {
  private readonly s: UplinkSettings;
  private readonly now: () => number;
  private nextSeq = 1;
  private inflight = 0;
  private ready = false;
  private pumping = false;
  private generation = 0;
  /** PUBACK time of the oldest record sent but not yet acked, for the resend rule. */
  private unackedSince: number | undefined;
  private lastAckAdvance = 0;
  private ackWaiter: TimerHandle | undefined;
  private resendTimer: TimerHandle | undefined;
  private nextTurn: TimerHandle | undefined;
  private running = false;
  private readonly timers: Timers;
  /** The last ack of the current epoch, applied again as more of it is PUBACKed. */
  private lastAck: { ackedUpTo: number; rejected: readonly RecordReject[]; wiredUpTo: number } | undefined;
  /** The highest seq put on the wire in this epoch: an ack covers only what was sent before it. */
  private wiredUpTo = 0;
  private unsubscribe: (() => void) | undefined;
  private sentUpTo = 0;
  /**
   * The ack this database had when the link came up: what acks since then synced may be a lost
   * database's records at the same seqs (an ack with their SEQ_CONFLICT can be lost).
   */
  private ackedAtConnect = 0;
  private markedUpTo = 0;
  /** The epoch a CHAIN_BROKEN moved this database to (it moves once for that reason). */
  private chainMovedEpoch: string | undefined;
  /** The lowest live ack of this epoch heard by this process: what the cloud held at some point since. */
  private lowestAck: number | undefined;
  /** The highest first seq of a batch this process put on the wire in this epoch. */
  private highestFrom = 0;

  constructor(private readonly o: UplinkOptions) {
    this.s = { ...DEFAULT_UPLINK, ...o.settings };
    this.now = o.now ?? Date.now;
    this.timers = o.timers ?? systemTimers();
  }

  start(): void {
    this.unsubscribe = this.o.outbox.onAppend(() => this.pump());
    this.running = true;
    this.armStallCheck();
  }

  stop(): void {
    this.flushSent();
    this.unsubscribe?.();
    this.running = false;
    this.timers.clearTimeout(this.resendTimer);
    this.timers.clearTimeout(this.ackWaiter);
    this.timers.clearTimeout(this.nextTurn);
    this.nextTurn = undefined;
    this.ready = false;
  }

  /** The link is up: wait (briefly) for the retained ack, then send from what it says. */
  onConnected(): void {
    this.ackedAtConnect = this.o.outbox.ackedUpTo();
    this.generation += 1;
    this.ready = false;
    this.inflight = 0;
    this.unackedSince = undefined;
    this.timers.clearTimeout(this.ackWaiter);
    this.ackWaiter = this.timers.setTimeout(() => this.begin(), this.s.ackWaitMs);
  }

  onDisconnected(): void {
    this.generation += 1;
    this.ready = false;
    this.inflight = 0;
    this.timers.clearTimeout(this.ackWaiter);
  }

  /**
   * A validated `down/ack`. Another epoch's ack is ignored. A `SEQ_CONFLICT`, or an ack above
   * the last seq, says this database is a restored copy: it moves to a new epoch at once.
   * A `retained` ack (the broker's copy, handed over on subscribe) is old news: it may speak of
   * records a lost database sent at the same seqs, so it only detects a restored copy and never
   * marks records synced; sending starts from this database's own acked seq + 1.
   */
  onAck(epoch: string, ackedUpTo: number, rejected: readonly RecordReject[], retained = false): void {
    const outbox = this.o.outbox;
    if (epoch !== outbox.epoch) {
      this.o.log.warn({ epoch }, 'ack for another epoch ignored');
      return;
    }
    if (retained) {
      if (ackedUpTo > outbox.lastSeq()) {
        this.restored(`the cloud holds seq ${ackedUpTo}, this ledger ends at ${outbox.lastSeq()}`);
      } else {
        this.beginIfWaiting();
      }
      return;
    }
    const before = outbox.ackedUpTo();
    // A conflict is news of this batch (the cloud never repeats one), also at or below the ack: an
    // ack to a batch the cloud held already may have taken this copy's own records behind it as synced.
    const conflicts = rejected.filter((r) => r.code === 'SEQ_CONFLICT').map((r) => r.seq);
    if (conflicts.length > 0) {
      // Records below the conflict are the cloud's, byte for byte; those this process sent are synced.
      const first = Math.min(...conflicts);
      if (first > before + 1)
        outbox.applyAck(
          Math.min(ackedUpTo, first - 1),
          rejected.filter((r) => r.seq < first),
          this.sentUpTo,
        );
      // Moved from before what this connection synced: a fact the cloud does hold counts once.
      this.restored(`SEQ_CONFLICT at seq ${first}`, Math.min(first - 1, this.ackedAtConnect));
      return;
    }
    if (ackedUpTo > outbox.lastSeq()) {
      this.restored(`the cloud holds seq ${ackedUpTo}, this ledger ends at ${outbox.lastSeq()}`);
      return;
    }
    // Heard before this connection sent anything, and this process has had nothing PUBACKed in this
    // epoch: queued in the broker's session for an earlier process (the device's client id is a lost
    // database's too), delivered ahead of the retained ack. Old news like it: it syncs nothing, and
    // sending waits for the retained ack (the next of these may be older). After a reconnect such
    // an ack answers this process's own batches: taken, it spares resending them.
    if (!this.ready && this.sentUpTo === 0) return;
    // A chain broken right above a record not yet synced before this connection: the cloud may hold
    // another copy's record there (this copy's own went in a batch the broker dropped), and its ack
    // would sync a record it never had. Read as the conflict it may be, once per epoch: a genuine
    // break (the same records again) is then rejected as before, in the new epoch.
    const suspect = rejected
      .filter((r) => r.code === 'CHAIN_BROKEN' && r.seq - 1 > this.ackedAtConnect)
      .map((r) => r.seq - 1);
    if (suspect.length > 0 && this.chainMovedEpoch !== outbox.epoch) {
      const first = Math.min(...suspect);
      const was = outbox.epoch;
      this.restored(
        `CHAIN_BROKEN above seq ${first}, not synced before`,
        Math.min(first - 1, this.ackedAtConnect),
      );
      if (outbox.epoch !== was) this.chainMovedEpoch = outbox.epoch;
      return;
    }
    // A batch sent from above this ack may be what it answers, across a gap (the batches before it
    // dropped): then it only says what the cloud held, which for a restored copy may be the lost
    // database's records at these seqs. It syncs nothing, unless the count rose above one the cloud
    // gave this process before: what it stored since is this database's own, its chain tied to the
    // records below. The stall rule resends from the first unacked (a copy meets SEQ_CONFLICT).
    const rose = this.lowestAck !== undefined && ackedUpTo > this.lowestAck;
    this.lowestAck = Math.min(this.lowestAck ?? ackedUpTo, ackedUpTo);
    if (!rose && this.highestFrom > ackedUpTo + 1) {
      this.o.log.info(
        { ackedUpTo, from: this.highestFrom },
        'ack may answer a batch across a gap: not applied',
      );
      this.beginIfWaiting();
      return;
    }
    this.lastAck = { ackedUpTo, rejected, wiredUpTo: this.wiredUpTo };
    outbox.applyAck(ackedUpTo, rejected, this.sentUpTo);
    const after = outbox.ackedUpTo();
    if (after > before) {
      this.lastAckAdvance = this.now();
      // Records PUBACKed beyond this ack are still waiting: their stall clock starts again now.
      this.unackedSince = this.sentUpTo > after ? this.now() : undefined;
    }
    if (after > before || rejected.length > 0) this.o.onAcked?.();
    if (!this.beginIfWaiting()) {
      this.pump();
    }
  }

  /**
   * This database is a restored copy: a new epoch now, and every record the cloud has not
   * acknowledged to this database goes there again (a fact it does hold under the old epoch is
   * recognised by its id and counted once).
   */
  private restored(why: string, storedUpTo = this.o.outbox.ackedUpTo()): void {
    const move = this.o.outbox.moveToNewEpoch;
    if (!move) {
      this.o.log.error({ why }, 'restored database detected, but this outbox cannot move to a new epoch');
      return;
    }
    this.ready = false;
    this.generation += 1;
    let moved: { epoch: string; resent: number };
    try {
      moved = move.call(this.o.outbox, Math.min(storedUpTo, this.o.outbox.ackedUpTo()), 'restored');
    } catch (err) {
      // Nothing moved (one transaction): sending again brings the conflict back, and another try.
      this.o.log.error({ why, err: describeError(err) }, 'restored database: could not move to a new epoch');
      this.begin();
      return;
    }
    const { epoch, resent } = moved;
    this.o.log.warn({ why, epoch, resent }, 'restored database: moved to a new epoch');
    this.inflight = 0;
    this.unackedSince = undefined;
    this.sentUpTo = 0;
    this.wiredUpTo = 0;
    this.markedUpTo = 0;
    this.lastAck = undefined;
    this.ackedAtConnect = 0;
    this.lowestAck = undefined;
    this.highestFrom = 0;
    this.o.onNewEpoch?.(epoch);
    this.timers.clearTimeout(this.ackWaiter);
    this.begin();
  }

  /** Connected and waiting for the cloud's ack before sending: it has come, so sending begins. */
  private beginIfWaiting(): boolean {
    if (this.ready || !this.o.link.isConnected) return false;
    this.timers.clearTimeout(this.ackWaiter);
    this.begin();
    return true;
  }

  private begin(): void {
    if (!this.o.link.isConnected) return;
    this.nextSeq = this.o.outbox.ackedUpTo() + 1;
    this.ready = true;
    this.pump();
  }

  /**
   * Marks PUBACKed records `sent` (informational: only the cloud's ack syncs them), coalesced
   * into one write per tick rather than one per batch.
   */
  private flushSent(): void {
    const from = Math.max(this.markedUpTo, this.o.outbox.ackedUpTo()) + 1;
    if (this.sentUpTo < from) return;
    try {
      this.o.outbox.markSent?.(from, this.sentUpTo);
      this.markedUpTo = this.sentUpTo;
    } catch (err) {
      this.o.log.warn({ err: describeError(err) }, 'could not mark records sent');
    }
  }

  /** The cloud asks for records again (`ledger.resync`): send from `fromSeq` on. */
  resendFrom(fromSeq: number): void {
    this.generation += 1;
    this.inflight = 0;
    this.nextSeq = Math.max(1, Math.min(fromSeq, this.o.outbox.ackedUpTo() + 1));
    this.pump();
  }

  /** The stall check runs every half resend period (at most each second) while started. */
  private armStallCheck(): void {
    if (!this.running) return;
    this.resendTimer = this.timers.setTimeout(
      () => {
        this.checkStall();
        this.armStallCheck();
      },
      Math.min(1_000, this.s.resendAfterMs / 2),
    );
  }

  /** If the ack has not advanced `resendAfterMs` after a PUBACK, go back to the first unacked. */
  private checkStall(): void {
    this.flushSent();
    if (!this.ready || this.unackedSince === undefined) return;
    const now = this.now();
    if (now - this.unackedSince < this.s.resendAfterMs) return;
    if (now - this.lastAckAdvance < this.s.resendAfterMs) return;
    const from = this.o.outbox.ackedUpTo() + 1;
    this.o.log.info({ from }, 'ack stalled: sending again from the first unacked record');
    this.unackedSince = undefined;
    this.generation += 1;
    this.inflight = 0;
    this.nextSeq = from;
    this.pump();
  }

  /** The next batch: at most `maxRecords`, and at most `maxBytes` of payload. */
  private batch(): Array<{ seq: number; json: string }> {
    const after = this.nextSeq - 1;
    const records =
      this.o.outbox.recordsJsonAfter?.(after, this.s.maxRecords) ??
      this.o.outbox
        .recordsAfter(after, this.s.maxRecords)
        .map((r: LedgerRecord) => ({ seq: r.seq, json: JSON.stringify(r) }));
    const out: Array<{ seq: number; json: string }> = [];
    let bytes = 64;
    for (const r of records) {
      const size = Buffer.byteLength(r.json) + 1;
      if (out.length > 0 && bytes + size > this.s.maxBytes) break;
      out.push(r);
      bytes += size;
    }
    return out;
  }

  /**
   * Sends the next batch, if the window has room; the one after it goes in a later turn of the
   * event loop (a timer of 0), so a window opening never holds the loop for all its batches.
   */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      if (this.ready && this.o.link.isConnected && this.inflight < this.o.link.sendWindow) {
        const records = this.batch();
        if (records.length === 0) return;
        const from = records[0]!.seq;
        const to = records.at(-1)!.seq;
        this.nextSeq = to + 1;
        this.wiredUpTo = Math.max(this.wiredUpTo, to);
        this.highestFrom = Math.max(this.highestFrom, from);
        this.inflight += 1;
        const generation = this.generation;
        const payload = `{"epoch":${JSON.stringify(this.o.outbox.epoch)},"records":[${records.map((r) => r.json).join(',')}]}`;
        this.o.link.publish(this.o.topic, payload).then(
          () => {
            if (generation !== this.generation) return;
            this.inflight -= 1;
            this.unackedSince ??= this.now();
            this.sentUpTo = Math.max(this.sentUpTo, to);
            // The cloud's ack may have come before this PUBACK: apply what it now covers.
            const ack = this.lastAck;
            if (ack && ack.ackedUpTo > this.o.outbox.ackedUpTo()) {
              const was = this.o.outbox.ackedUpTo();
              // Bounded by what was on the wire when the ack came, whatever the sent watermark says
              // now: an ack heard before this process sent (queued for a lost database) covers none.
              const upTo = Math.min(ack.ackedUpTo, ack.wiredUpTo);
              this.o.outbox.applyAck(upTo, ack.rejected, this.sentUpTo);
              if (this.o.outbox.ackedUpTo() > was) {
                this.lastAckAdvance = this.now();
                this.o.onAcked?.();
              }
            }
            // PUBACKs read together resolve in one turn: their batches go one per turn too.
            this.pumpNextTurn();
          },
          (err: unknown) => {
            if (generation !== this.generation) return;
            // Dropped with the connection (the next connect starts from the ack) or refused by
            // the broker: send it again, duplicates are harmless.
            this.inflight -= 1;
            this.nextSeq = Math.min(this.nextSeq, from);
            this.o.log.info({ from, to, err: describeError(err) }, 'batch not acknowledged by the broker');
          },
        );
        if (this.inflight < this.o.link.sendWindow) this.pumpNextTurn();
      }
    } finally {
      this.pumping = false;
    }
  }

  private pumpNextTurn(): void {
    if (this.nextTurn) return;
    this.nextTurn = this.timers.setTimeout(() => {
      this.nextTurn = undefined;
      this.pump();
    }, 0);
  }
}
