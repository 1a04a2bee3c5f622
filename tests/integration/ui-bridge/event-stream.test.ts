import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EventBus } from '../../../src/bus.js';
import { createRootLogger } from '../../../src/log.js';
import { EventRing, type StreamFrame } from '../../../src/ui-bridge/event-ring.js';
import { EventStream } from '../../../src/ui-bridge/event-stream.js';
import { HttpServer } from '../../../src/ui-bridge/http-server.js';
import { checkOrigin, defaultOrigins } from '../../../src/ui-bridge/origin-guard.js';
import { waitFor } from '../../helpers/wait.js';

declare module '../../../src/bus.js' {
  interface PosEvents {
    'test.tick': { n: number };
  }
}

const TOKEN = 'test-token-0123456789';
let http: HttpServer;
let bus: EventBus;
let stream: EventStream;
let port: number;

beforeEach(async () => {
  const log = createRootLogger('silent');
  http = new HttpServer({ host: '127.0.0.1', port: 0, log, token: () => TOKEN });
  bus = new EventBus();
  stream = new EventStream({
    bus,
    log,
    capacity: 5,
    authorized: (req) => http.isAuthorized(req),
    checkOrigin: (req) => checkOrigin(req, () => defaultOrigins('127.0.0.1', port), true),
  });
  http.onUpgrade((req, socket, head) => stream.handleUpgrade(req, socket, head));
  await http.start();
  port = (http.address as AddressInfo).port;
});
afterEach(async () => {
  stream.close();
  await http.stop();
});

/** A client that collects frames; `query` is the reconnect's `afterSeq`/`bootId`. */
async function connect(query = ''): Promise<{ frames: StreamFrame[]; ws: WebSocket }> {
  const frames: StreamFrame[] = [];
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/events${query}`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  ws.on('message', (m) => frames.push(JSON.parse(String(m)) as StreamFrame));
  await waitFor(() => (frames.length > 0 ? true : undefined), 'hello');
  return { frames, ws };
}

function ticks(from: number, to: number): void {
  for (let n = from; n <= to; n++) bus.emit('test.tick', { n });
}

describe('event stream', () => {
  it('says hello with the boot, then streams bus events as {seq, type, at, data}', async () => {
    ticks(1, 2);
    const { frames, ws } = await connect();
    expect(frames[0]).toMatchObject({ seq: 0, type: 'hello', data: { bootId: stream.bootId, lastSeq: 2 } });
    ticks(3, 3);
    await waitFor(() => (frames.length === 2 ? true : undefined), 'a live frame');
    expect(frames[1]).toMatchObject({ seq: 3, type: 'test.tick', data: { n: 3 } });
    expect(Number.isNaN(Date.parse(frames[1]!.at))).toBe(false);
    ws.close();
  });

  it('replays exactly what a reconnecting client missed, once', async () => {
    const first = await connect();
    ticks(1, 2);
    await waitFor(() => (first.frames.length === 3 ? true : undefined), 'two frames');
    first.ws.close();
    ticks(3, 4);
    const again = await connect(`?afterSeq=2&bootId=${stream.bootId}`);
    await waitFor(() => (again.frames.length === 3 ? true : undefined), 'the replay');
    ticks(5, 5);
    await waitFor(() => (again.frames.length === 4 ? true : undefined), 'the live frame');
    expect(again.frames.map((f) => [f.type, f.seq])).toEqual([
      ['hello', 0],
      ['test.tick', 3],
      ['test.tick', 4],
      ['test.tick', 5],
    ]);
    again.ws.close();
  });

  it('tells a client of another boot, or one too far behind the ring, to resync', async () => {
    ticks(1, 9); // the ring holds 5..9
    const restarted = await connect('?afterSeq=9&bootId=another-boot');
    await waitFor(() => (restarted.frames.length === 2 ? true : undefined), 'resync');
    expect(restarted.frames[1]).toMatchObject({
      seq: 0,
      type: 'resync',
      data: { reason: 'restarted', lastSeq: 9 },
    });
    const behind = await connect(`?afterSeq=2&bootId=${stream.bootId}`);
    await waitFor(() => (behind.frames.length === 2 ? true : undefined), 'resync');
    expect(behind.frames[1]).toMatchObject({ type: 'resync', data: { reason: 'behind' } });
    const ahead = await connect(`?afterSeq=99&bootId=${stream.bootId}`);
    await waitFor(() => (ahead.frames.length === 2 ? true : undefined), 'resync');
    expect(ahead.frames[1]).toMatchObject({ type: 'resync', data: { reason: 'behind' } });
    const justInRing = await connect(`?afterSeq=4&bootId=${stream.bootId}`);
    await waitFor(() => (justInRing.frames.length === 6 ? true : undefined), 'replay of 5..9');
    expect(justInRing.frames.slice(1).map((f) => f.seq)).toEqual([5, 6, 7, 8, 9]);
    for (const c of [restarted, behind, ahead, justInRing]) c.ws.close();
  });

  it('closes its clients when the daemon stops, so they reconnect to the next boot', async () => {
    const { ws } = await connect();
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    stream.close();
    expect(await closed).toBe(1001);
  });
});

describe('event ring', () => {
  it('lists the pages connected now with their browser, for /healthz (the kiosk signed in)', async () => {
    expect(stream.uiClients()).toEqual([]);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/events`, {
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'user-agent': `Mozilla/5.0 (X11; Linux x86_64) Chrome/120 ${'x'.repeat(300)}`,
      },
    });
    await waitFor(() => (stream.uiClients().length === 1 ? true : undefined), 'the client listed');
    const [c] = stream.uiClients();
    expect(c?.userAgent).toMatch(/^Mozilla\/5\.0 \(X11; Linux x86_64\) Chrome\/120 x+$/);
    expect(c?.userAgent).toHaveLength(200);
    expect(Number.isNaN(Date.parse(c?.since ?? ''))).toBe(false);
    ws.close();
    await waitFor(() => (stream.uiClients().length === 0 ? true : undefined), 'the client gone');
  });

  it('keeps the last N events and knows when a gap cannot be filled', () => {
    const ring = new EventRing(3);
    expect(ring.since(0)).toEqual([]);
    for (let i = 1; i <= 5; i++) ring.push('t', 'at', i);
    expect(ring.oldestSeq).toBe(3);
    expect(ring.since(2)?.map((f) => f.seq)).toEqual([3, 4, 5]);
    expect(ring.since(1)).toBeUndefined();
    expect(ring.since(5)).toEqual([]);
    expect(ring.since(6)).toBeUndefined();
  });
});

describe('event stream under a group commit', () => {
  it('an event goes out only after a flush that started after it, live and on replay', async () => {
    const log = createRootLogger('silent');
    const flushes: Array<() => void> = [];
    const held = new EventStream({
      bus,
      log,
      authorized: (req) => http.isAuthorized(req),
      checkOrigin: (req) => checkOrigin(req, () => defaultOrigins('127.0.0.1', port), true),
      // Each call is one flush covering what was committed before it; the test completes them.
      durable: () => new Promise<void>((resolve) => flushes.push(resolve)),
    });
    http.onUpgrade((req, socket, head) => held.handleUpgrade(req, socket, head));
    try {
      const live = await connect();
      ticks(1, 1);
      await waitFor(() => (flushes.length === 1 ? true : undefined), 'the first flush');
      ticks(2, 2); // committed while the first flush runs: not covered by it
      flushes[0]!();
      await waitFor(() => (live.frames.length >= 2 ? true : undefined), 'tick 1');
      // A client reconnecting now is replayed only what is on disk.
      const again = await connect(`?afterSeq=0&bootId=${held.bootId}`);
      await new Promise<void>((resolve) => {
        again.ws.once('pong', () => resolve());
        again.ws.ping();
      });
      expect(again.frames.map((f) => (f.data as { n?: number }).n)).toEqual([undefined, 1]);
      expect(live.frames.map((f) => (f.data as { n?: number }).n)).toEqual([undefined, 1]);
      await waitFor(() => (flushes.length === 2 ? true : undefined), 'a flush covering tick 2');
      flushes[1]!();
      await waitFor(() => (live.frames.length === 3 ? true : undefined), 'tick 2');
      expect(live.frames[2]).toMatchObject({ type: 'test.tick', data: { n: 2 } });
      live.ws.close();
      again.ws.close();
    } finally {
      held.close();
    }
  });

  it('each event’s wait starts when it comes: one behind a running flush is not held for a window of its own after it', async () => {
    const log = createRootLogger('silent');
    const waits: Array<{ n: number; resolve: () => void }> = [];
    let committed = 0;
    const held = new EventStream({
      bus,
      log,
      authorized: (req) => http.isAuthorized(req),
      checkOrigin: (req) => checkOrigin(req, () => defaultOrigins('127.0.0.1', port), true),
      // The ledger's commit count when the wait was taken (a `durableSoon` covers it, no more).
      durable: () => new Promise<void>((resolve) => waits.push({ n: committed, resolve })),
    });
    http.onUpgrade((req, socket, head) => held.handleUpgrade(req, socket, head));
    try {
      const live = await connect();
      committed = 1;
      ticks(1, 1);
      committed = 2;
      ticks(2, 2); // while tick 1 still waits
      committed = 3; // a commit nobody's event tells of
      expect(waits.map((w) => w.n)).toEqual([1, 2]);
      waits[0]!.resolve();
      await waitFor(() => (live.frames.length === 2 ? true : undefined), 'tick 1');
      expect(waits).toHaveLength(2); // tick 2 took no new wait (one that would also cover commit 3)
      waits[1]!.resolve();
      await waitFor(() => (live.frames.length === 3 ? true : undefined), 'tick 2');
      expect(live.frames.map((f) => (f.data as { n?: number }).n)).toEqual([undefined, 1, 2]);
      live.ws.close();
    } finally {
      held.close();
    }
  });

  it('a flush that fails: the screens are told to reload; an event that cannot be sent stops no other', async () => {
    const log = createRootLogger('silent');
    const waits: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
    const held = new EventStream({
      bus,
      log,
      authorized: (req) => http.isAuthorized(req),
      checkOrigin: (req) => checkOrigin(req, () => defaultOrigins('127.0.0.1', port), true),
      durable: () => new Promise<void>((resolve, reject) => waits.push({ resolve, reject })),
    });
    http.onUpgrade((req, socket, head) => held.handleUpgrade(req, socket, head));
    try {
      const live = await connect();
      ticks(1, 1);
      waits[0]!.reject(new Error('STORAGE_FAILED'));
      await waitFor(() => (live.frames.length === 2 ? true : undefined), 'the resync');
      expect(live.frames[1]).toMatchObject({
        seq: 0,
        type: 'resync',
        data: { reason: 'storage', lastSeq: 0 },
      });
      bus.emit('test.tick', { n: 2n } as unknown as { n: number }); // JSON cannot carry it
      ticks(3, 3);
      for (const w of waits.slice(1)) w.resolve();
      await waitFor(() => (waits.length === 3 ? true : undefined), 'both waits');
      for (const w of waits.slice(1)) w.resolve();
      await waitFor(() => (live.frames.length === 3 ? true : undefined), 'tick 3');
      expect(live.frames[2]).toMatchObject({ type: 'test.tick', data: { n: 3 } });
      live.ws.close();
    } finally {
      held.close();
    }
  });
});
