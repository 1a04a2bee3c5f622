import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import type { EventBus } from '../bus.js';
import { describeError, isPosError } from '../errors.js';
import type { Logger } from '../log.js';
import { EventRing, type StreamFrame } from './event-ring.js';

export const EVENTS_PATH = '/api/v1/events';
const MAX_BUFFERED_BYTES = 1024 * 1024;
const PING_EVERY_MS = 20_000;

export interface EventStreamOptions {
  bus: EventBus;
  log: Logger;
  /** The router's auth (token or session cookie). */
  authorized: (req: IncomingMessage) => boolean;
  /** Throws a PosError for a foreign origin. */
  checkOrigin: (req: IncomingMessage) => void;
  capacity?: number;
  now?: () => Date;
  /** Resolves once every commit so far is on disk: events go out only after what they tell of. */
  durable?: () => Promise<void>;
  /**
   * Who this client is (a store app sees only what its scopes grant); undefined: everything.
   * Throws a PosError to refuse the client.
   */
  audience?: (req: IncomingMessage) => StreamAudience | undefined;
}

/** What one client may see; `open()` turns false when its session ends (the stream closes it). */
export interface StreamAudience {
  allows(frame: StreamFrame): boolean;
  open(): boolean;
}

/** A page connected to the event stream: its browser's User-Agent (cut to 200 characters), since when. */
export interface UiClient {
  userAgent: string;
  since: string;
}

/**
 * `GET /api/v1/events`: bus events as `{seq, type, at, data}`. Each connection starts with a `hello`
 * (seq 0) naming this boot; `?afterSeq=N&bootId=B` replays what came after N in the same boot.
 * A client from another boot, or too far behind for the ring, gets `resync` (seq 0): reload state.
 */
export class EventStream {
  readonly bootId = randomUUID();
  private readonly ring: EventRing;
  /** ws, loaded at the first client: off the daemon's start. */
  private wss: WebSocketServer | undefined;
  private wssLoading: Promise<WebSocketServer> | undefined;
  private closed = false;
  private readonly alive = new WeakMap<WebSocket, boolean>();
  private readonly audiences = new WeakMap<WebSocket, StreamAudience>();
  private readonly agents = new WeakMap<WebSocket, UiClient>();
  private readonly ping: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private readonly now: () => Date;
  /**
   * Events whose commit no flush has covered yet (not in the ring: a replay must not send them),
   * each with its wait, taken when it came.
   */
  private readonly outgoing: Array<{
    e: { type: string; at: string; data: unknown };
    onDisk: Promise<void>;
  }> = [];
  private flushing = false;

  constructor(private readonly o: EventStreamOptions) {
    this.ring = new EventRing(o.capacity ?? 1000);
    this.now = o.now ?? (() => new Date());
    this.unsubscribe = o.bus.onAny((e) => this.broadcast(e));
    this.ping = setInterval(() => this.heartbeat(), PING_EVERY_MS);
    this.ping.unref();
  }

  get lastSeq(): number {
    return this.ring.lastSeq;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== EVENTS_PATH) {
      refuse(socket, 404, 'Not Found');
      return;
    }
    try {
      this.o.checkOrigin(req);
    } catch (err) {
      if (!isPosError(err)) throw err;
      refuse(socket, 403, 'Forbidden');
      return;
    }
    if (!this.o.authorized(req)) {
      refuse(socket, 401, 'Unauthorized');
      return;
    }
    let audience: StreamAudience | undefined;
    try {
      audience = this.o.audience?.(req);
    } catch (err) {
      if (!isPosError(err)) throw err;
      if (err.code === 'UNAUTHORIZED') refuse(socket, 401, 'Unauthorized');
      else refuse(socket, 403, 'Forbidden');
      return;
    }
    const afterSeq = Number(url.searchParams.get('afterSeq') ?? '');
    const bootId = url.searchParams.get('bootId');
    const client = {
      userAgent: String(req.headers['user-agent'] ?? '').slice(0, 200),
      since: this.now().toISOString(),
    };
    this.server().then(
      (wss) => {
        if (socket.destroyed || this.closed) return void socket.destroy();
        wss.handleUpgrade(req, socket, head, (ws) => {
          if (audience) this.audiences.set(ws, audience);
          this.agents.set(ws, client);
          this.attach(ws, bootId, afterSeq);
        });
      },
      (err: unknown) => {
        this.o.log.error({ err: describeError(err) }, 'event stream unavailable');
        refuse(socket, 503, 'Service Unavailable');
      },
    );
  }

  private server(): Promise<WebSocketServer> {
    this.wssLoading ??= import('ws').then(({ WebSocketServer }) => {
      this.wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
      return this.wss;
    });
    return this.wssLoading;
  }

  /** The pages connected now (the kiosk's, a back office tab), for /healthz. */
  uiClients(): UiClient[] {
    return [...this.clients].flatMap((ws) => {
      const c = this.agents.get(ws);
      return c && ws.readyState === ws.OPEN ? [c] : [];
    });
  }

  private get clients(): Iterable<WebSocket> {
    return this.wss?.clients ?? [];
  }

  private attach(ws: WebSocket, bootId: string | null, afterSeq: number): void {
    this.alive.set(ws, true);
    ws.on('pong', () => this.alive.set(ws, true));
    ws.on('message', () => {}); // the stream is one-way; anything sent is ignored
    ws.on('error', (err) => this.o.log.debug({ err: describeError(err) }, 'event stream client error'));
    const at = this.now().toISOString();
    const hello = { bootId: this.bootId, lastSeq: this.ring.lastSeq, oldestSeq: this.ring.oldestSeq };
    this.send(ws, { seq: 0, type: 'hello', at, data: hello });
    if (bootId === null) return; // a fresh client loads its state first
    if (bootId !== this.bootId) {
      this.send(ws, { seq: 0, type: 'resync', at, data: { reason: 'restarted', lastSeq: hello.lastSeq } });
      return;
    }
    const missed = Number.isSafeInteger(afterSeq) && afterSeq >= 0 ? this.ring.since(afterSeq) : undefined;
    if (!missed) {
      this.send(ws, { seq: 0, type: 'resync', at, data: { reason: 'behind', lastSeq: hello.lastSeq } });
      return;
    }
    for (const frame of missed) this.send(ws, frame);
  }

  private broadcast(e: { type: string; at: string; data: unknown }): void {
    if (!this.o.durable) {
      this.deliver(e);
      return;
    }
    const onDisk = this.o.durable();
    onDisk.catch(() => {}); // handled when released, maybe after other events' waits
    this.outgoing.push({ e, onDisk });
    if (!this.flushing) this.release();
  }

  /**
   * In order, each once a flush that started after it came is done: the events ready together go
   * out together; those that came meanwhile follow.
   */
  private release(): void {
    const events = this.outgoing.splice(0);
    if (events.length === 0) {
      this.flushing = false;
      return;
    }
    this.flushing = true;
    Promise.all(events.map((x) => x.onDisk))
      .then(
        () => {
          for (const { e } of events) this.deliver(e);
        },
        (err: unknown) => {
          // Not on disk: the clients reload their state (a fresh look at what did survive).
          this.o.log.warn({ err: describeError(err) }, 'events held back: the ledger flush failed');
          const at = this.now().toISOString();
          const data = { reason: 'storage', lastSeq: this.ring.lastSeq };
          for (const ws of this.clients) this.send(ws, { seq: 0, type: 'resync', at, data });
        },
      )
      .finally(() => this.release());
  }

  /** One event numbered and sent; one that cannot be sent costs only itself, never the stream. */
  private deliver(e: { type: string; at: string; data: unknown }): void {
    try {
      const frame = this.ring.push(e.type, e.at, e.data);
      for (const ws of this.clients) this.send(ws, frame);
    } catch (err) {
      this.o.log.error({ err: describeError(err), type: e.type }, 'event not sent');
    }
  }

  /** Closes the clients whose session has ended (a removed app): at once, not at the next event. */
  closeEnded(): void {
    for (const ws of this.clients) {
      if (this.audiences.get(ws)?.open() === false) ws.close(4401, 'session ended');
    }
  }

  private send(ws: WebSocket, frame: StreamFrame): void {
    if (ws.readyState !== ws.OPEN) return;
    const audience = this.audiences.get(ws);
    if (audience) {
      if (!audience.open()) {
        ws.close(4401, 'session ended');
        return;
      }
      if (!audience.allows(frame)) return;
    }
    // A client that cannot keep up is dropped; it reconnects and replays or resyncs.
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify(frame));
  }

  private heartbeat(): void {
    for (const ws of this.clients) {
      if (this.alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      this.alive.set(ws, false);
      ws.ping();
    }
  }

  /** Going away: clients reconnect to the next boot. */
  close(): void {
    clearInterval(this.ping);
    this.unsubscribe();
    for (const ws of this.clients) {
      ws.close(1001, 'daemon stopping');
      setTimeout(() => ws.terminate(), 500).unref();
    }
    this.closed = true;
    this.wss?.close();
  }
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
