import type { Logger } from './log.js';

/**
 * At most one log line per reason per interval, with the count of the ones held back since the
 * last line: noise on a device link (10,000 junk bytes) must not become 10,000 log lines.
 */
export class LogLimiter {
  private readonly last = new Map<string, { at: number; held: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(reason: string, fields: Record<string, unknown> = {}): void {
    const t = this.now();
    const seen = this.last.get(reason);
    if (seen && t - seen.at < this.intervalMs) {
      seen.held += 1;
      return;
    }
    const suppressed = seen?.held ?? 0;
    this.last.set(reason, { at: t, held: 0 });
    this.log.warn(suppressed > 0 ? { ...fields, suppressed } : fields, reason);
  }
}
