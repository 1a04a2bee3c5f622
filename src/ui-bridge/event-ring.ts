/** One frame of the event stream, as the contract names it. */
export interface StreamFrame {
  seq: number;
  type: string;
  at: string;
  data: unknown;
}

/**
 * The last `capacity` bus events, numbered 1, 2, 3 … from this boot, so a client that reconnects
 * can ask for what it missed. Older events are forgotten: such a client is told to resync.
 */
export class EventRing {
  private readonly frames: StreamFrame[] = [];
  private seq = 0;

  constructor(private readonly capacity = 1000) {}

  push(type: string, at: string, data: unknown): StreamFrame {
    this.seq += 1;
    const frame = { seq: this.seq, type, at, data };
    this.frames.push(frame);
    if (this.frames.length > this.capacity) this.frames.shift();
    return frame;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** The oldest seq still held (lastSeq + 1 when empty). */
  get oldestSeq(): number {
    return this.frames[0]?.seq ?? this.seq + 1;
  }

  /** Frames after `afterSeq`, or undefined when some of them are already forgotten. */
  since(afterSeq: number): StreamFrame[] | undefined {
    if (afterSeq > this.seq) return undefined;
    if (afterSeq + 1 < this.oldestSeq) return undefined;
    return this.frames.filter((f) => f.seq > afterSeq);
  }
}
