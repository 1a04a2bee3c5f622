/**
 * What the money flows need from the cloud link (`P/up/req` → `P/down/resp`). A request whose reply
 * does not arrive in time is `unknown`, never a failure: the money may have moved.
 */
export type CloudReply<T = Record<string, unknown>> =
  | { kind: 'ok'; result: T }
  | { kind: 'error'; code: string; message: string }
  | { kind: 'unknown'; reason: string };

export interface CloudPort {
  /** Whether a cloud link is configured at all (an offline-only terminal has none). */
  readonly configured: boolean;
  isOnline(): boolean;
  /** When the link was last up; persisted across restarts by the link. */
  lastOnlineAt(): Date | undefined;
  request<T = Record<string, unknown>>(
    op: string,
    args: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<CloudReply<T>>;
  /** Called each time the link comes (back) up. */
  onOnline(listener: () => void): () => void;
}

/** A cloud that is never there: the terminal sells cash offline. */
export const OFFLINE_CLOUD: CloudPort = {
  configured: false,
  isOnline: () => false,
  lastOnlineAt: () => undefined,
  request: async () => ({ kind: 'unknown', reason: 'no cloud link configured' }),
  onOnline: () => () => {},
};

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
