/** What the device remembers per broker: when it was found to speak MQTT 3.1.1 only (persisted). */
export interface VersionMemory {
  /** When the broker was last found to speak 3.1.1 only (ms since the epoch; 0: long ago). */
  get(url: string): number | undefined;
  remember(url: string, at: number): void;
}

/**
 * A broker remembered as 3.1.1-only is offered MQTT 5 again once this long has passed: a v5 CONNECT
 * cut during an outage (or by a hostile network) does not take MQTT 5 away for ever. A true 3.1.1
 * broker costs one hung-up attempt a day, and is remembered again.
 */
export const REPROBE_V5_MS = 24 * 3600_000;

/** The broker's identity for the memory: scheme, host and port (credentials and path are not). */
export function brokerKey(url: string): string {
  try {
    const u = new URL(url);
    const port = u.port || (u.protocol === 'mqtts:' ? '8883' : '1883');
    return `${u.protocol}//${u.hostname}:${port}`;
  } catch {
    return url;
  }
}

/**
 * Which broker to try next and with which MQTT version. Several URLs are tried in turn: a failed
 * attempt or a lost connection moves to the next, and the backoff grows only once every URL has
 * failed at the current step (a dead node costs one attempt, not a round of waiting). Each URL has
 * its own version: MQTT 5 unless forced, remembered as 3.1.1, or on trial as 3.1.1 after the broker
 * hung up on a v5 CONNECT.
 */
export class BrokerRotation {
  private index = 0;
  private failures = 0;
  /** URLs whose v5 CONNECT was dropped: the next attempt there is 3.1.1. */
  private readonly trying311 = new Set<string>();

  constructor(
    readonly urls: readonly string[],
    private readonly forced: 4 | 5 | undefined,
    private readonly memory: VersionMemory | undefined,
    private readonly backoff: { initialMs: number; maxMs: number },
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
  ) {
    if (urls.length === 0) throw new Error('no broker URL');
  }

  get url(): string {
    return this.urls[this.index] ?? this.urls[0] ?? '';
  }

  /** The version for the next attempt on the current URL. */
  get version(): 4 | 5 {
    if (this.forced) return this.forced;
    const url = this.url;
    if (this.trying311.has(url)) return 4;
    const at = this.memory?.get(brokerKey(url));
    return at !== undefined && this.now() - at < REPROBE_V5_MS ? 4 : 5;
  }

  /** Whether a v5 refusal on the current URL may fall back (the version is not forced or known). */
  get mayFallBack(): boolean {
    return this.forced === undefined && this.version === 5;
  }

  /** The broker hung up on (or refused) MQTT 5: the same URL again, at once, as 3.1.1. */
  fallBack(): void {
    this.trying311.add(this.url);
  }

  /** A CONNACK: remembers (again) a 3.1.1 that worked where 5 did not; true when newly learnt. */
  connected(version: 4 | 5): boolean {
    const url = this.url;
    if (version !== 4 || !this.trying311.delete(url)) return false;
    const known = this.memory?.get(brokerKey(url)) !== undefined;
    this.memory?.remember(brokerKey(url), this.now());
    return !known;
  }

  /**
   * An attempt failed (`lost`: a connection that was up went down): moves to the next URL and
   * returns the delay before the next attempt. A 3.1.1 trial that failed too goes back to 5 there.
   */
  failed(lost: boolean): number {
    this.trying311.delete(this.url);
    this.index = (this.index + 1) % this.urls.length;
    // A link that was up starts the backoff again; a CONNACK alone does not (a broker that then
    // denies the subscription is a failed attempt).
    if (lost) this.failures = 0;
    const step = Math.floor(this.failures / this.urls.length);
    this.failures = Math.min(this.failures + 1, 20 * this.urls.length);
    const { initialMs, maxMs } = this.backoff;
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(step, 16));
    // Jitter: terminals that lost the same node do not all come back in the same instant.
    return Math.round(base * (0.5 + this.random() / 2));
  }
}
