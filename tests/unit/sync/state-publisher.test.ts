import { describe, expect, it } from 'vitest';
import { StatePublisher } from '../../../src/sync/state-publisher.js';
import { ManualTimers, settle } from '../../helpers/manual-timers.js';

function setup() {
  const timers = new ManualTimers();
  const sent: Array<Record<string, unknown>> = [];
  const state = { ackedUpTo: 0, updatedAt: '' };
  let connected = true;
  let failNext = false;
  const publisher = new StatePublisher({
    isConnected: () => connected,
    state: () => ({ ...state, updatedAt: new Date(timers.now).toISOString() }),
    publish: async (json) => {
      if (failNext) {
        failNext = false;
        throw new Error('not connected');
      }
      sent.push(JSON.parse(json));
    },
    timers,
    now: () => timers.now,
  });
  return {
    timers,
    sent,
    state,
    publisher,
    disconnect: () => {
      connected = false;
    },
    failNext: () => {
      failNext = true;
    },
  };
}

describe('reported state publisher (P/up/state)', () => {
  it('a forced publish goes at once; the changes after it within the second go as one publish at its end', () => {
    const t = setup();
    t.publisher.request(true);
    t.timers.advance(0);
    expect(t.sent).toHaveLength(1);
    t.timers.advance(100);
    for (let i = 1; i <= 50; i++) {
      t.state.ackedUpTo = i;
      t.publisher.request(false);
    }
    t.timers.advance(899);
    expect(t.sent).toHaveLength(1);
    t.timers.advance(1);
    expect(t.sent.map((s) => s.ackedUpTo)).toEqual([0, 50]);
  });

  it('a change asked for with nothing changed in the state (updatedAt aside) publishes nothing', () => {
    const t = setup();
    t.publisher.request(true);
    t.timers.advance(0);
    t.publisher.request(false);
    t.timers.advance(5_000);
    expect(t.sent).toHaveLength(1);
    t.state.ackedUpTo = 3;
    t.publisher.request(false);
    t.timers.advance(0);
    expect(t.sent.map((s) => s.ackedUpTo)).toEqual([0, 3]);
  });

  it('a forced publish goes even unchanged (a new connection), and overrides a change waiting', () => {
    const t = setup();
    t.publisher.request(true);
    t.timers.advance(0);
    t.state.ackedUpTo = 1;
    t.publisher.request(false);
    t.publisher.request(true);
    t.timers.advance(0);
    t.publisher.request(false); // a change asked for while nothing moved: no storm behind the forced one
    t.publisher.request(true);
    t.timers.advance(0);
    t.timers.advance(2_000);
    expect(t.sent.map((s) => s.ackedUpTo)).toEqual([0, 1, 1]);
  });

  it('a state that was not delivered goes again on the next change asked for', async () => {
    const t = setup();
    t.failNext();
    t.publisher.request(true);
    t.timers.advance(0);
    await settle();
    expect(t.sent).toHaveLength(0);
    t.publisher.request(false);
    t.timers.advance(1_000);
    await settle();
    expect(t.sent).toHaveLength(1);
  });

  it('publishes nothing while offline', () => {
    const t = setup();
    t.disconnect();
    t.publisher.request(true);
    t.publisher.request(false);
    t.timers.advance(2_000);
    expect(t.sent).toHaveLength(0);
  });
});
