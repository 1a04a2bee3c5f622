import { describe, expect, it } from 'vitest';
import type { OutboxSource } from '../../../src/core/ledger-record.js';
import { Uplink } from '../../../src/sync/uplink.js';
import { ManualTimers } from '../../helpers/manual-timers.js';
import { silentLogger } from '../../helpers/test-log.js';

/** Timers the test fires by hand. */
function manualTimers() {
  const timers = new ManualTimers();
  return { timers, fire: (ms: number) => timers.fireSetFor(ms) };
}

function backlog(n: number): OutboxSource {
  const json = (seq: number) =>
    `{"seq":${seq},"id":"r${seq}","type":"sale.completed","at":"x","body":{},"chain":"c"}`;
  return {
    epoch: 'e1',
    recordsAfter: () => [],
    recordsJsonAfter: (after, limit) =>
      Array.from({ length: Math.max(0, Math.min(limit, n - after)) }, (_, i) => ({
        seq: after + i + 1,
        json: json(after + i + 1),
      })),
    lastSeq: () => n,
    ackedUpTo: () => 0,
    applyAck: () => {},
    onAppend: () => () => {},
  };
}

// Issue 18 item 4: when the window opened, the uplink read and published its 32 batches in one turn
// of the event loop (device lag p99 26–48 ms during a drain). Now one batch per turn: a sale, a
// scan or a keep-alive waits for one batch at most.
describe('the uplink filling its window', () => {
  it('sends one batch per turn of the event loop until the window is full', () => {
    const { timers, fire } = manualTimers();
    let published = 0;
    const uplink = new Uplink({
      link: {
        isConnected: true,
        sendWindow: 32,
        publish: () => {
          published += 1;
          return new Promise(() => {});
        },
      },
      outbox: backlog(100_000),
      topic: 'pos/v1/t/D/up/ledger',
      log: silentLogger(),
      timers,
    });
    uplink.start();
    uplink.onConnected();
    expect(fire(2_000)).toBe(true); // no retained ack: it begins
    expect(published).toBe(1);
    for (let turn = 2; turn <= 32; turn++) {
      expect(fire(0)).toBe(true);
      expect(published).toBe(turn);
    }
    expect(fire(0)).toBe(false); // the window is full: nothing more scheduled
    expect(published).toBe(32);
    uplink.stop();
  });

  it('PUBACKs that arrive together free the window, and the batches behind them still go one per turn', async () => {
    const { timers, fire } = manualTimers();
    const pubacks: Array<() => void> = [];
    const uplink = new Uplink({
      link: {
        isConnected: true,
        sendWindow: 32,
        publish: () => new Promise<void>((resolve) => pubacks.push(resolve)),
      },
      outbox: backlog(100_000),
      topic: 'pos/v1/t/D/up/ledger',
      log: silentLogger(),
      timers,
    });
    uplink.start();
    uplink.onConnected();
    fire(2_000);
    while (fire(0));
    expect(pubacks).toHaveLength(32);
    // One read of the socket brings all 32 PUBACKs: their callbacks run in the same turn.
    for (const puback of pubacks.splice(0)) puback();
    await Promise.resolve();
    await Promise.resolve();
    expect(pubacks).toHaveLength(0); // nothing sent in the PUBACKs' turn
    for (let turn = 1; turn <= 32; turn++) {
      expect(fire(0)).toBe(true);
      expect(pubacks).toHaveLength(turn);
    }
    expect(fire(0)).toBe(false);
    uplink.stop();
  });
});
