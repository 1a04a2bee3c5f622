/**
 * Simulated time for the money simulation: a monotonic clock that timers run on, a wall clock
 * that faults may jump, and a scheduler that runs due timers in time order (ties in the order
 * they were set). Between timers every pending promise continuation runs first, so a scenario
 * replays exactly: nothing depends on real time.
 */
interface Timer {
  at: number;
  seq: number;
  owner: string;
  fn: () => void;
}

export class SimClock {
  /** Milliseconds since the scenario began (timers run on this). */
  mono = 0;
  /** Wall clock = start + mono + jumps. */
  private wall = Date.parse('2026-06-01T08:00:00.000Z');
  private timers: Timer[] = [];
  private seq = 0;
  /** Owners whose timers were cancelled (a crashed daemon's sleeps never wake). */
  private readonly dead = new Set<string>();

  readonly now = (): Date => new Date(this.wall + this.mono);
  private readonly start = this.wall;

  /** The true time (the cloud's clock), which wall-clock faults on a terminal do not move. */
  trueNow(): number {
    return this.start + this.mono;
  }

  /** Runs `fn` after `delayMs` of simulated time, unless its owner is cancelled first. */
  at(delayMs: number, owner: string, fn: () => void): void {
    if (this.dead.has(owner)) return;
    const t: Timer = { at: this.mono + Math.max(0, delayMs), seq: this.seq++, owner, fn };
    // Sorted by (at, seq): binary search for the insertion point.
    let lo = 0;
    let hi = this.timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.timers[mid]!;
      if (m.at < t.at || (m.at === t.at && m.seq < t.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.timers.splice(lo, 0, t);
  }

  /** The services' `Sleep`, owned by one daemon incarnation. */
  sleeper(owner: string): (ms: number) => Promise<void> {
    return (ms) => new Promise<void>((resolve) => this.at(ms, owner, resolve));
  }

  cancelOwner(owner: string): void {
    this.dead.add(owner);
    this.timers = this.timers.filter((t) => t.owner !== owner);
  }

  /** The wall clock jumps (NTP step, battery-less RTC); timers keep their monotonic times. */
  jump(ms: number): void {
    this.wall += ms;
  }

  /** Lets every pending promise continuation run (no real I/O is involved, so one turn is all). */
  async settle(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Advances simulated time by `ms`, running every timer due on the way. */
  async run(ms: number): Promise<void> {
    const end = this.mono + ms;
    for (;;) {
      await this.settle();
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.mono = Math.max(this.mono, next.at);
      next.fn();
    }
    this.mono = end;
    await this.settle();
  }

  /** Timers still waiting (for the end-of-scenario check that everything ran out). */
  pending(): number {
    return this.timers.length;
  }
}

/** A small seeded PRNG (mulberry32): a scenario replays exactly from its seed. */
export class Prng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  /** Picks by weight: `[[weight, value], ...]`. */
  weighted<T>(items: ReadonlyArray<readonly [number, T]>): T {
    const total = items.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of items) {
      r -= w;
      if (r < 0) return v;
    }
    return items.at(-1)![1];
  }
}
