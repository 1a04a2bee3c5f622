import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OutboxSource } from '../../../src/core/ledger-record.js';
import { Uplink } from '../../../src/sync/uplink.js';
import { ManualTimers } from '../../helpers/manual-timers.js';
import { silentLogger } from '../../helpers/test-log.js';

/*
 * The uplink sending one batch per turn of the event loop, against a link that drops and comes back
 * between any two turns, PUBACKs in order, and a cloud that verifies the chain: never more batches
 * unacknowledged than the send window, never a gap at the cloud, and once the link stays up every
 * record reaches the cloud and is acked.
 */
type Op =
  | { op: 'append'; n: number }
  | { op: 'turn' }
  | { op: 'puback' }
  | { op: 'ack' }
  | { op: 'drop'; reject: boolean }
  | { op: 'connect'; retained: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('append' as const), n: fc.integer({ min: 1, max: 7 }) }),
  fc.constant({ op: 'turn' as const }),
  fc.constant({ op: 'puback' as const }),
  fc.constant({ op: 'ack' as const }),
  fc.record({ op: fc.constant('drop' as const), reject: fc.boolean() }),
  fc.record({ op: fc.constant('connect' as const), retained: fc.boolean() }),
);

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function run(window: number, maxRecords: number, ops: readonly Op[]): Promise<void> {
  const timers = new ManualTimers();
  const fire = (ms: number) => timers.fireSetFor(ms);
  let last = 0;
  let acked = 0;
  let cloudHas = 0;
  let connected = false;
  let conn = 0;
  const listeners = new Set<(n: number) => void>();
  type Wire = { from: number; to: number; conn: number; resolve: () => void; reject: (e: Error) => void };
  let wire: Wire[] = [];
  const outbox: OutboxSource = {
    epoch: 'e1',
    recordsAfter: () => [],
    recordsJsonAfter: (after, limit) =>
      Array.from({ length: Math.max(0, Math.min(limit, last - after)) }, (_, i) => ({
        seq: after + i + 1,
        json: `{"seq":${after + i + 1}}`,
      })),
    lastSeq: () => last,
    ackedUpTo: () => acked,
    applyAck: (upTo, _rejected, sentUpTo) => {
      acked = Math.max(acked, Math.min(upTo, sentUpTo ?? upTo));
    },
    onAppend: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  const uplink = new Uplink({
    link: {
      get isConnected() {
        return connected;
      },
      sendWindow: window,
      publish: (_topic, payload) => {
        expect(connected).toBe(true);
        const seqs = [...payload.matchAll(/"seq":(\d+)/g)].map((m) => Number(m[1]));
        return new Promise<void>((resolve, reject) => {
          wire.push({ from: seqs[0]!, to: seqs.at(-1)!, conn, resolve, reject });
        });
      },
    },
    outbox,
    topic: 'pos/v1/t/D/up/ledger',
    log: silentLogger(),
    timers,
    settings: { maxRecords, resendAfterMs: 1_000_000 },
  });
  const current = () => wire.filter((w) => w.conn === conn);
  /** The broker delivers the oldest batch of this connection to the cloud, then PUBACKs it. */
  const puback = () => {
    const w = current()[0];
    if (!w) return;
    wire = wire.filter((x) => x !== w);
    expect(w.from, `gap: the cloud holds ${cloudHas}, a batch starts at ${w.from}`).toBeLessThanOrEqual(
      cloudHas + 1,
    );
    cloudHas = Math.max(cloudHas, w.to);
    w.resolve();
  };
  uplink.start();
  for (const o of ops) {
    switch (o.op) {
      case 'append':
        last += o.n;
        for (const l of listeners) l(last);
        break;
      case 'turn':
        fire(0);
        break;
      case 'puback':
        if (connected) puback();
        break;
      case 'ack':
        if (connected) uplink.onAck('e1', cloudHas, []);
        break;
      case 'drop':
        if (!connected) break;
        connected = false;
        uplink.onDisconnected();
        for (const w of current()) if (o.reject) w.reject(new Error('connection closed'));
        wire = [];
        break;
      case 'connect':
        if (connected) break;
        connected = true;
        conn += 1;
        uplink.onConnected();
        if (o.retained) uplink.onAck('e1', cloudHas, [], true);
        else fire(2_000);
        break;
    }
    await flush();
    expect(current().length).toBeLessThanOrEqual(window);
  }
  // The link stays up from here: everything reaches the cloud and is acked.
  if (!connected) {
    connected = true;
    conn += 1;
    uplink.onConnected();
    fire(2_000);
    await flush();
  }
  for (let i = 0; i < 10_000 && (acked < last || current().length > 0); i++) {
    if (!fire(0)) {
      puback();
      await flush();
      uplink.onAck('e1', cloudHas, []);
    }
    await flush();
    expect(current().length).toBeLessThanOrEqual(window);
  }
  expect({ cloudHas, acked }).toEqual({ cloudHas: last, acked: last });
  uplink.stop();
}

describe('the uplink across link drops between its turns', () => {
  it('never exceeds the window, never leaves a gap, and delivers every record once the link stays up', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(opArb, { minLength: 1, maxLength: 60 }),
        (window, maxRecords, ops) => run(window, maxRecords, ops),
      ),
      { numRuns: 150 },
    );
  });
});
