import type { KeyObject } from 'node:crypto';
import { sanitizeJsonText } from '../core/safe-text.js';
import { describeError, isPosError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CommandResult } from '../services/command-service.js';
import type { ConfigEnvelope, ConfigOutcome, UnverifiedReason } from '../services/config-service.js';
import type { MqttLink } from './mqtt-link.js';
import {
  AckPayload,
  CommandPayload,
  type ConfigEnvelopeMessage,
  ConfigEnvelopePayload,
  NotifyPayload,
  OrderPushPayload,
  type Parsed,
  parsePayload,
  parseValue,
  type Response,
  ResponsePayload,
} from './payloads.js';
import type { RequestClient } from './request-client.js';
import { commandSignedFields, configSignedFields, verifySignature } from './signature.js';
import type { Topics } from './topics.js';
import type { Uplink } from './uplink.js';

export interface DownlinkPorts {
  config: {
    readonly version: number;
    apply(e: ConfigEnvelope): ConfigOutcome;
    reject(e: unknown, reasons: string[]): void;
    rejectUnverified(e: unknown, reason: UnverifiedReason, reasons: string[]): void;
  };
  orders: {
    receive(downSeq: number | null, order: unknown): { duplicate: boolean };
    /** The contiguous downSeq watermark (every order up to it taken). */
    lastDownSeq?(): number;
    /** `orders.pull` from `since` answered in full up to `upTo`. */
    pulled?(since: number, upTo: number): void;
  };
  commands: { run(cmdId: string, name: string, args: Record<string, unknown>): Promise<CommandResult> };
  notify: (paymentId: string) => void;
}

export interface DownlinkOptions extends DownlinkPorts {
  link: MqttLink;
  topics: Topics;
  uplink: Uplink;
  requests: RequestClient;
  cloudKey: KeyObject | undefined;
  log: Logger;
  now?: () => Date;
  /** A pushed order left a gap below it: pull. */
  onOrderGap?: () => void;
}

/**
 * Everything the cloud sends, each payload validated first: a malformed one is logged (no secrets)
 * and, where a reply channel exists, answered with `{code, message}`; it is never applied and never
 * crashes the daemon.
 */
export class Downlink {
  private readonly now: () => Date;
  /** Counts of refused payloads per topic kind, for diagnostics. */
  readonly refused = new Map<string, number>();

  constructor(private readonly o: DownlinkOptions) {
    this.now = o.now ?? (() => new Date());
  }

  install(): void {
    const { link, topics } = this.o;
    link.on(topics.downAck, (p, packet) => this.onAck(p, packet.retain === true));
    link.on(topics.downConfig, (p) => this.onConfig(p));
    link.on(topics.downOrder, (p) => this.onOrder(p));
    link.on(topics.downCmd, (p) => void this.onCommand(p));
    link.on(topics.downResp, (p) => this.onResponse(p));
    link.on(topics.downNotify, (p) => this.onNotify(p));
  }

  private refuse(kind: string, message: string): void {
    this.refused.set(kind, (this.refused.get(kind) ?? 0) + 1);
    this.o.log.warn({ topic: kind, problem: message.slice(0, 200) }, 'malformed downlink payload refused');
  }

  /** `retained`: the broker's stored copy, delivered on subscribe (old news, see Uplink.onAck). */
  private onAck(payload: Buffer, retained: boolean): void {
    const p = parsePayload(AckPayload, payload);
    if (!p.ok) {
      this.refuse('ack', p.message);
      return;
    }
    this.o.uplink.onAck(p.value.epoch, p.value.ackedUpTo, p.value.rejected ?? [], retained);
  }

  private onConfig(payload: Buffer): void {
    if (payload.length === 0) return; // a cleared retained message
    this.takeConfig(parsePayload(ConfigEnvelopePayload, payload), 'config push');
  }

  /**
   * `config.current {haveVersion}` after every connect: a broker may never hand over the retained
   * config (a cluster keeps it on one node), so the device asks. The envelope goes the same way as
   * one pushed on `P/down/config`: version check, signature, validation.
   */
  async fetchConfig(timeoutMs = 10_000): Promise<void> {
    const reply = await this.o.requests.request<{ envelope?: unknown }>(
      'config.current',
      { haveVersion: this.o.config.version },
      timeoutMs,
    );
    if (reply.kind !== 'ok') {
      this.o.log.info({ reply: reply.kind }, 'config.current not answered; the next connect asks again');
      return;
    }
    const envelope = reply.result.envelope;
    if (envelope === null || envelope === undefined) return;
    this.takeConfig(parseValue(ConfigEnvelopePayload, envelope), 'config.current');
  }

  private takeConfig(p: Parsed<ConfigEnvelopeMessage>, via: string): void {
    if (!p.ok) {
      this.refuse('config', p.message);
      if (p.raw !== undefined) this.o.config.rejectUnverified(p.raw, 'malformed', [p.message]);
      return;
    }
    const e = p.value;
    if (e.version <= this.o.config.version) return; // not newer: ignored, also before checking the signature
    if (!this.o.cloudKey) {
      this.o.config.rejectUnverified(e, 'no-key', ['no cloud public key is provisioned on this terminal']);
      return;
    }
    if (!verifySignature(this.o.cloudKey, configSignedFields(e), e.sig)) {
      this.refuse('config', 'bad signature');
      this.o.config.rejectUnverified(e, 'bad-signature', ['signature does not verify']);
      return;
    }
    const outcome = this.o.config.apply(e);
    this.o.log.info({ version: e.version, outcome: outcome.outcome, via }, 'config received');
  }

  private onOrder(payload: Buffer): void {
    const p = parsePayload(OrderPushPayload, payload);
    if (!p.ok) {
      this.refuse('order', p.message);
      return;
    }
    try {
      // Order text (lines, note, customer) prints and shows: control characters never pass. The id
      // stays as sent: it is the cloud's key, and the encoder makes it safe on paper.
      this.o.orders.receive(p.value.downSeq, { ...sanitizeJsonText(p.value.order), id: p.value.order.id });
      const mark = this.o.orders.lastDownSeq?.();
      if (mark !== undefined && mark < p.value.downSeq) this.o.onOrderGap?.();
    } catch (err) {
      this.refuse('order', err instanceof Error ? err.message : String(err));
    }
  }

  private async onCommand(payload: Buffer): Promise<void> {
    const p = parsePayload(CommandPayload, payload);
    const raw = (p.ok ? p.value : p.raw) as { cmdId?: unknown } | undefined;
    const cmdId = typeof raw?.cmdId === 'string' ? raw.cmdId.slice(0, 100) : undefined;
    const answer = (result: CommandResult) => {
      if (!cmdId) return;
      const body = result.ok
        ? { reqId: cmdId, ok: true, result: result.result }
        : { reqId: cmdId, ok: false, error: result.error };
      // Always `P/up/resp`: a Response Topic of the sender's choosing is ignored, so the device
      // publishes only under its own prefix (a wildcard there would cost it the connection).
      this.o.link
        .publish(this.o.topics.upResp, JSON.stringify(body))
        .catch((err: unknown) => this.o.log.warn({ err, cmdId }, 'command answer not sent'));
    };
    if (!p.ok) {
      this.refuse('cmd', p.message);
      answer({ ok: false, error: { code: 'BAD_COMMAND', message: p.message } });
      return;
    }
    const c = p.value;
    if (
      !this.o.cloudKey ||
      !verifySignature(this.o.cloudKey, commandSignedFields({ ...c, args: c.args }), c.sig)
    ) {
      this.refuse('cmd', 'bad signature');
      answer({ ok: false, error: { code: 'BAD_SIGNATURE', message: 'command signature does not verify' } });
      return;
    }
    const expires = Date.parse(c.expiresAt);
    if (!Number.isFinite(expires) || expires <= this.now().getTime()) {
      this.o.log.warn({ cmdId: c.cmdId, name: c.name, expiresAt: c.expiresAt }, 'expired command refused');
      answer({ ok: false, error: { code: 'CMD_EXPIRED', message: `command expired at ${c.expiresAt}` } });
      return;
    }
    let result: CommandResult;
    try {
      result = await this.o.commands.run(c.cmdId, c.name, c.args ?? {});
    } catch (err) {
      // Storage trouble while claiming or recording the command: answered, logged, never fatal.
      const code = isPosError(err) ? err.code : 'CMD_FAILED';
      this.o.log.error(
        { cmdId: c.cmdId, name: c.name, code, err: describeError(err) },
        'command could not run',
      );
      result = { ok: false, error: { code, message: describeError(err) } };
    }
    answer(result);
  }

  private onResponse(payload: Buffer): void {
    const p = parsePayload(ResponsePayload, payload);
    if (!p.ok) {
      this.refuse('resp', p.message);
      return;
    }
    this.o.requests.onResponse(sanitizeResponse(p.value));
  }

  private onNotify(payload: Buffer): void {
    const p = parsePayload(NotifyPayload, payload);
    if (!p.ok) {
      this.refuse('notify', p.message);
      return;
    }
    this.o.notify(p.value.paymentId);
  }
}

/**
 * Text in answers (orders looked up, member names, coupon details) made printable. A config
 * envelope is left as signed: its signature covers it, and config validation refuses control text.
 */
function sanitizeResponse(resp: Response): Response {
  const result = resp.result;
  if (result && typeof result === 'object' && !Array.isArray(result) && 'envelope' in result) {
    const { envelope, ...rest } = result as Record<string, unknown>;
    return {
      ...sanitizeJsonText({ ...resp, result: rest }),
      result: { ...sanitizeJsonText(rest), envelope },
    };
  }
  return sanitizeJsonText(resp);
}
