import { v7 as uuidv7 } from 'uuid';
import { systemTimers, type TimerHandle, type Timers } from '../drivers/transport/timers.js';
import type { Logger } from '../log.js';
import type { CloudPort, CloudReply } from '../services/cloud-port.js';
import type { MqttLink } from './mqtt-link.js';
import type { Response } from './payloads.js';
import type { Topics } from './topics.js';

interface Waiting {
  resolve: (reply: CloudReply) => void;
  timer: TimerHandle;
}

/**
 * Requests to the cloud (`P/up/req` → `P/down/resp`). MQTT 5 sets Response Topic and Correlation
 * Data; with 3.1.1 the reply is matched on `reqId` alone. A reply that misses its deadline makes
 * the outcome unknown, never failed.
 */
export class RequestClient implements CloudPort {
  readonly configured = true;
  private readonly waiting = new Map<string, Waiting>();
  private readonly onlineListeners = new Set<() => void>();

  constructor(
    private readonly link: MqttLink,
    private readonly topics: Topics,
    private readonly log: Logger,
    private readonly lastOnline: () => Date | undefined,
    private readonly timers: Timers = systemTimers(),
    private readonly now: () => number = Date.now,
  ) {
    link.onConnect(() => {
      for (const l of this.onlineListeners) {
        try {
          l();
        } catch (err) {
          this.log.warn({ err }, 'online listener failed');
        }
      }
    });
  }

  isOnline(): boolean {
    return this.link.isConnected;
  }

  lastOnlineAt(): Date | undefined {
    return this.lastOnline();
  }

  onOnline(listener: () => void): () => void {
    this.onlineListeners.add(listener);
    return () => this.onlineListeners.delete(listener);
  }

  async request<T = Record<string, unknown>>(
    op: string,
    args: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<CloudReply<T>> {
    if (!this.link.isConnected) return { kind: 'unknown', reason: 'the cloud link is down' };
    const reqId = uuidv7();
    const deadline = new Date(this.now() + timeoutMs).toISOString();
    const reply = new Promise<CloudReply>((resolve) => {
      const timer = this.timers.setTimeout(() => {
        this.waiting.delete(reqId);
        resolve({ kind: 'unknown', reason: `no reply within ${timeoutMs} ms` });
      }, timeoutMs);
      this.waiting.set(reqId, { resolve, timer });
    });
    const v5 = this.link.version === 5;
    try {
      await this.link.publish(this.topics.upReq, JSON.stringify({ reqId, op, args, deadline }), {
        ...(v5
          ? { properties: { responseTopic: this.topics.downResp, correlationData: Buffer.from(reqId) } }
          : {}),
      });
    } catch (err) {
      // It may or may not have left: still unknown, and the reply may yet come.
      this.log.info({ op, err: err instanceof Error ? err.message : String(err) }, 'request publish failed');
    }
    return (await reply) as CloudReply<T>;
  }

  /** A validated `down/resp`. */
  onResponse(resp: Response): boolean {
    const w = this.waiting.get(resp.reqId);
    if (!w) return false;
    this.waiting.delete(resp.reqId);
    this.timers.clearTimeout(w.timer);
    w.resolve(
      resp.ok
        ? { kind: 'ok', result: (resp.result ?? {}) as Record<string, unknown> }
        : { kind: 'error', code: resp.error?.code ?? 'ERROR', message: resp.error?.message ?? '' },
    );
    return true;
  }
}
