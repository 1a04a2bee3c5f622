import { describe, expect, it } from 'vitest';
import { Listeners } from '../../../src/drivers/transport/listeners.js';
import { ReconnectingTransport } from '../../../src/drivers/transport/reconnecting-transport.js';
import type { Transport, TransportState } from '../../../src/drivers/transport/transport.js';
import type { DeviceUri } from '../../../src/drivers/transport/uri.js';
import { PosError } from '../../../src/errors.js';
import { ManualTimers } from '../../helpers/manual-timers.js';
import { silentLogger } from '../../helpers/test-log.js';

const uri: DeviceUri = { kind: 'file', path: '/dev/usb/lp0' };

/** A device that is absent until `plugged` is set. */
class FlakyTransport implements Transport {
  state: TransportState = 'closed';
  readonly uri = uri;
  readonly closed = new Listeners<[Error | undefined]>();
  constructor(private readonly world: { plugged: boolean; opened: FlakyTransport[] }) {}
  async open(): Promise<void> {
    if (!this.world.plugged) throw new PosError('DEVICE_NOT_FOUND', 'no lp0');
    this.state = 'open';
    this.world.opened.push(this);
  }
  async write(): Promise<void> {}
  async close(): Promise<void> {
    this.state = 'closed';
  }
  onData(): () => void {
    return () => {};
  }
  onClose(listener: (err?: Error) => void): () => void {
    return this.closed.add(listener);
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe('ReconnectingTransport', () => {
  it('backs off exponentially up to the cap while the device is missing, then opens', async () => {
    const timers = new ManualTimers();
    const world = { plugged: false, opened: [] as FlakyTransport[] };
    const link = new ReconnectingTransport(uri, {
      create: () => new FlakyTransport(world),
      log: silentLogger(),
      timers,
      initialDelayMs: 100,
      maxDelayMs: 1_000,
    });
    await link.open();
    expect(link.health).toBe('degraded');
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      const [delay] = timers.delays();
      seen.push(delay!);
      timers.advance(delay!);
      await settle();
    }
    expect(seen).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    world.plugged = true;
    timers.advance(timers.delays()[0]!);
    await settle();
    expect(link.health).toBe('open');
    expect(timers.delays()).toEqual([]);

    // Unplugged: degraded, and the backoff starts again from the first step.
    world.plugged = false;
    world.opened[0]!.closed.emit(new PosError('DEVICE_DISCONNECTED', 'gone'));
    expect(link.health).toBe('degraded');
    expect(timers.delays()).toEqual([100]);
    await link.close();
    expect(timers.delays()).toEqual([]);
    expect(link.health).toBe('closed');
  });
});
