export interface Frame {
  seq: number;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

export interface EventClientHandlers {
  /** A new event, each exactly once per boot; `replayed` when it was missed while disconnected. */
  onEvent(frame: Frame, replayed: boolean): void;
  /** The daemon restarted or the client fell too far behind: reload state from the API. */
  onResync(reason: string): void;
  onConnection(connected: boolean): void;
}

const MAX_BACKOFF_MS = 5_000;

/**
 * The event stream with reconnects. It remembers the boot and the last seq it saw and asks for what
 * came after; frames at or below that seq are dropped, so nothing is applied twice. A `resync`
 * (restart or gap) makes the page reload its state and start from the new boot's seq.
 */
export class EventClient {
  private ws: WebSocket | undefined;
  private bootId: string | undefined;
  private lastSeq = 0;
  private helloSeq = 0;
  private backoff = 250;
  private stopped = false;
  private timer: number | undefined;

  constructor(private readonly handlers: EventClientHandlers) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws?.close();
  }

  get state(): { bootId: string | undefined; lastSeq: number } {
    return { bootId: this.bootId, lastSeq: this.lastSeq };
  }

  private connect(): void {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const query = this.bootId ? `?afterSeq=${this.lastSeq}&bootId=${encodeURIComponent(this.bootId)}` : '';
    const ws = new WebSocket(`${proto}//${location.host}/api/v1/events${query}`);
    this.ws = ws;
    ws.onmessage = (msg) => this.receive(JSON.parse(String(msg.data)) as Frame);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.handlers.onConnection(false);
      if (this.stopped) return;
      this.timer = window.setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(MAX_BACKOFF_MS, this.backoff * 2);
    };
  }

  private receive(frame: Frame): void {
    if (frame.type === 'hello') {
      this.backoff = 250;
      const data = frame.data as { bootId: string; lastSeq: number };
      this.helloSeq = data.lastSeq;
      this.handlers.onConnection(true);
      if (this.bootId !== data.bootId) {
        // First connection, or the daemon restarted: its seq started again, so load state afresh.
        const reason = this.bootId === undefined ? 'initial' : 'restarted';
        this.bootId = data.bootId;
        this.lastSeq = data.lastSeq;
        this.handlers.onResync(reason);
      }
      return;
    }
    if (frame.type === 'resync') {
      const data = frame.data as { reason: string; lastSeq: number };
      if (data.reason === 'restarted') return; // already handled on the hello
      this.lastSeq = Math.max(this.lastSeq, data.lastSeq);
      this.handlers.onResync(data.reason);
      return;
    }
    if (frame.seq <= this.lastSeq) return;
    this.lastSeq = frame.seq;
    this.handlers.onEvent(frame, frame.seq <= this.helloSeq);
  }
}
