import { createHash } from 'node:crypto';
import type { EventBus } from '../bus.js';
import {
  type BusinessConfig,
  type BusinessDoc,
  businessProblems,
  DEFAULT_BUSINESS,
  resolveBusiness,
} from '../config/business.js';
import { canonicalJson } from '../offline/chain.js';
import type { Db } from '../offline/db.js';
import type { Ledger } from '../offline/ledger.js';

declare module '../bus.js' {
  interface PosEvents {
    'config.applied': { version: number };
    /** An unverified envelope refused without a record (rate limit): the reported state changed. */
    'config.rejection-suppressed': { total: number };
  }
}

/** Why an envelope that never reached validation was refused: the key of the rate limit. */
export type UnverifiedReason = 'malformed' | 'bad-signature' | 'no-key';

/** One `config.rejected` record per reason per hour for envelopes no one signed. */
const UNVERIFIED_RECORD_INTERVAL_MS = 3_600_000;

/** The signed envelope of `P/down/config` (mqtt-v1 "Config push"). */
export interface ConfigEnvelope {
  version: number;
  issuedAt: string;
  doc: unknown;
  sig: string;
}

export type ConfigOutcome =
  | { outcome: 'applied'; version: number }
  | { outcome: 'ignored'; version: number; applied: number }
  | { outcome: 'rejected'; version: number; problems: string[] };

/**
 * The business config from the cloud: validated in full, applied atomically (one transaction with
 * its `config.applied` record), persisted; anything invalid changes nothing and is recorded once.
 */
export class ConfigService {
  private current: { version: number; config: BusinessConfig };
  private readonly stmt;
  private readonly lastUnverifiedRecord = new Map<UnverifiedReason, number>();
  private suppressed = 0;

  constructor(
    readonly db: Db,
    private readonly ledger: Ledger,
    private readonly bus: EventBus,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.stmt = {
      get: db.prepare<[], { version: number; doc: string }>(
        'SELECT version, doc FROM business_config WHERE one = 1',
      ),
      put: db.prepare<[number, string, string, string]>(
        `INSERT INTO business_config (one, version, issued_at, doc, applied_at) VALUES (1, ?, ?, ?, ?)
         ON CONFLICT (one) DO UPDATE SET version = excluded.version, issued_at = excluded.issued_at,
           doc = excluded.doc, applied_at = excluded.applied_at`,
      ),
      rejectedBefore: db.prepare<[string], { n: number }>(
        'SELECT count(*) AS n FROM config_rejections WHERE envelope_hash = ?',
      ),
      rememberRejection: db.prepare<[string, number | null, string]>(
        'INSERT INTO config_rejections (envelope_hash, version, at) VALUES (?, ?, ?)',
      ),
    };
    const row = this.stmt.get.get();
    this.current = row
      ? { version: row.version, config: resolveBusiness(JSON.parse(row.doc) as BusinessDoc) }
      : { version: 0, config: DEFAULT_BUSINESS };
  }

  get version(): number {
    return this.current.version;
  }

  get config(): BusinessConfig {
    return this.current.config;
  }

  /** A correctly signed envelope: ignored when not newer, else validated in full and applied. */
  apply(envelope: ConfigEnvelope): ConfigOutcome {
    if (envelope.version <= this.current.version) {
      return { outcome: 'ignored', version: envelope.version, applied: this.current.version };
    }
    const problems = businessProblems(envelope.doc);
    if (problems.length > 0) {
      this.reject(envelope, problems);
      return { outcome: 'rejected', version: envelope.version, problems };
    }
    const doc = envelope.doc as BusinessDoc;
    const resolved = resolveBusiness(doc);
    this.ledger.transact(() => {
      this.stmt.put.run(envelope.version, envelope.issuedAt, JSON.stringify(doc), this.now().toISOString());
      this.ledger.append('config.applied', { version: envelope.version, issuedAt: envelope.issuedAt });
    });
    this.current = { version: envelope.version, config: resolved };
    this.bus.emit('config.applied', { version: envelope.version });
    return { outcome: 'applied', version: envelope.version };
  }

  /** Unverified rejections not recorded since start (the reported state carries it). */
  get suppressedRejections(): number {
    return this.suppressed;
  }

  /**
   * An envelope refused before its doc was looked at (malformed, badly signed, no key): anyone on
   * the broker can send those, so a flood must not grow the ledger. At most one `config.rejected`
   * per reason per hour; the others are counted.
   */
  rejectUnverified(envelope: unknown, reason: UnverifiedReason, reasons: string[]): void {
    const now = this.now().getTime();
    const last = this.lastUnverifiedRecord.get(reason);
    if (last !== undefined && now - last < UNVERIFIED_RECORD_INTERVAL_MS) {
      this.suppressed += 1;
      this.bus.emit('config.rejection-suppressed', { total: this.suppressed });
      return;
    }
    this.lastUnverifiedRecord.set(reason, now);
    this.reject(envelope, reasons);
  }

  /** Records `config.rejected` once per distinct envelope (a retained message comes back often). */
  reject(envelope: unknown, reasons: string[]): void {
    const hash = createHash('sha256').update(safeCanonical(envelope)).digest('hex');
    const version =
      typeof (envelope as { version?: unknown })?.version === 'number'
        ? (envelope as { version: number }).version
        : null;
    this.ledger.transact(() => {
      if (this.stmt.rejectedBefore.get(hash)!.n > 0) return;
      this.stmt.rememberRejection.run(hash, version, this.now().toISOString());
      this.ledger.append('config.rejected', { version, reasons: reasons.slice(0, 20), envelopeHash: hash });
    });
  }
}

function safeCanonical(value: unknown): string {
  try {
    return canonicalJson(value ?? null);
  } catch {
    return String(value);
  }
}
