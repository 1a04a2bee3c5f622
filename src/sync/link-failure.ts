import type { Logger } from '../log.js';
import { redactBrokerUrl } from './broker-url.js';

/** Why a connection attempt to a broker failed, in words an operator acts on. */
export type LinkFailureReason =
  | 'connection refused'
  | 'host not found'
  | 'closed without CONNACK'
  | 'no CONNACK in time'
  | 'TLS error'
  | 'not authorized'
  | 'refused by broker'
  | 'refused after CONNACK'
  | 'connection lost'
  | 'error';

export interface LinkFailure {
  reason: LinkFailureReason;
  /** The error's own text or code, for the log (never credentials: mqtt.js errors carry none). */
  detail?: string;
  /** The CONNACK return / reason code, when the broker answered with a refusal. */
  connackCode?: number;
}

/** CONNACK codes that mean "who you are is not accepted": 3.1.1 4, 5; MQTT 5 0x86, 0x87, 0x8A, 0x8C. */
const NOT_AUTHORIZED = new Set([4, 5, 134, 135, 138, 140]);
/** "Unacceptable protocol version": 3.1.1 return code 1, MQTT 5 reason 0x84. */
export const UNSUPPORTED_VERSION = new Set([1, 132]);

const TLS_CODE =
  /^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|HOSTNAME_MISMATCH|ERR_OSSL|EPROTO$)/;

/** Classifies an mqtt.js `error` event: a socket error, a TLS failure or a CONNACK refusal. */
export function classifyLinkError(err: unknown, transportUp: boolean): LinkFailure {
  const e = err as { code?: unknown; message?: unknown; library?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const code = e?.code;
  if (typeof code === 'number') {
    if (UNSUPPORTED_VERSION.has(code))
      return { reason: 'refused by broker', detail: message, connackCode: code };
    if (NOT_AUTHORIZED.has(code)) return { reason: 'not authorized', detail: message, connackCode: code };
    return { reason: 'refused by broker', detail: message, connackCode: code };
  }
  const text = typeof code === 'string' ? code : '';
  const detail = text ? `${text}: ${message}` : message;
  if (TLS_CODE.test(text) || e?.library === 'SSL routines' || /certificate|\bTLS\b|\bSSL\b/i.test(message)) {
    return { reason: 'TLS error', detail };
  }
  if (text === 'ECONNREFUSED') return { reason: 'connection refused', detail };
  if (text === 'ENOTFOUND' || text === 'EAI_AGAIN') return { reason: 'host not found', detail };
  if (message === 'connack timeout') return { reason: 'no CONNACK in time', detail };
  // The broker hung up on the CONNECT (RabbitMQ's MQTT plugin does so on a version it cannot parse).
  if (transportUp && (text === 'ECONNRESET' || text === 'EPIPE')) {
    return { reason: 'closed without CONNACK', detail };
  }
  return { reason: 'error', detail };
}

interface UrlTrouble {
  reason: LinkFailureReason;
  count: number;
  loggedAt: number;
}

/**
 * A failing link says why at warn level: once when a broker's failure reason changes, then at
 * most once per interval with the count so far, not one line per retry. The next CONNACK ends it
 * and the "link up" line carries the number of failed attempts.
 */
export class LinkTrouble {
  private readonly byUrl = new Map<string, UrlTrouble>();
  private attempts = 0;

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Failed attempts since the link was last up. */
  get failedAttempts(): number {
    return this.attempts;
  }

  failed(url: string, failure: LinkFailure, mqttVersion: 4 | 5): void {
    this.attempts += 1;
    const t = this.now();
    const seen = this.byUrl.get(url);
    const fields = {
      url: redactBrokerUrl(url),
      reason: failure.reason,
      mqtt: mqttVersion,
      ...(failure.detail ? { detail: failure.detail.slice(0, 200) } : {}),
      ...(failure.connackCode !== undefined ? { connackCode: failure.connackCode } : {}),
    };
    if (!seen || seen.reason !== failure.reason) {
      this.byUrl.set(url, { reason: failure.reason, count: 1, loggedAt: t });
      this.log.warn({ ...fields, failures: 1 }, `cloud link failing: ${failure.reason}`);
      return;
    }
    seen.count += 1;
    if (t - seen.loggedAt < this.intervalMs) return;
    seen.loggedAt = t;
    this.log.warn({ ...fields, failures: seen.count }, `cloud link still failing: ${failure.reason}`);
  }

  /** A CONNACK: the trouble is over. Returns the failed attempts since the link was last up. */
  up(): number {
    const n = this.attempts;
    this.attempts = 0;
    this.byUrl.clear();
    return n;
  }
}
