import { describe, expect, it } from 'vitest';
import { type BusEvent, EventBus } from '../../../src/bus.js';
import type { DeviceSnapshot, PosDevice } from '../../../src/drivers/device.js';
import { DeviceLink } from '../../../src/drivers/device-link.js';
import { DeviceManager } from '../../../src/drivers/device-manager.js';
import { Listeners } from '../../../src/drivers/transport/listeners.js';
import type { Transport } from '../../../src/drivers/transport/transport.js';
import { PosError } from '../../../src/errors.js';
import { ManualTimers, settle } from '../../helpers/manual-timers.js';
import { silentLogger } from '../../helpers/test-log.js';
import { captureLog } from './helpers/capture-log.js';

const prefixes = () => ({ couponPrefixes: ['CP'], memberPrefixes: ['MB'] });

function manager(
  scannerUri = 'sim:',
  displayUri = 'sim:',
  extra: Partial<ConstructorParameters<typeof DeviceManager>[0]> = {},
) {
  const timers = new ManualTimers();
  const bus = new EventBus();
  const events: BusEvent[] = [];
  bus.onAny((e) => events.push(e));
  const dm = new DeviceManager({
    bus,
    log: silentLogger(),
    scannerUri,
    displayUri,
    classifyOptions: prefixes,
    timers,
    clock: () => timers.now,
    ...extra,
  });
  return { dm, bus, timers, events };
}

const of = (events: BusEvent[], type: string) => events.filter((e) => e.type === type).map((e) => e.data);

describe('device manager with simulated devices', () => {
  it('a sim scan goes through framing and classification to a scan event', async () => {
    const { dm, events } = manager();
    await dm.start();
    dm.injectScan('134567890123456789');
    dm.injectScan('6901234567892');
    dm.injectScan('CP0001');
    expect(of(events, 'scan')).toEqual([
      { code: '134567890123456789', kind: 'payment', channel: 'wechat' },
      { code: '6901234567892', kind: 'product', symbology: 'ean-13' },
      { code: 'CP0001', kind: 'coupon' },
    ]);
    expect(() => dm.injectScan('a\nb')).toThrow(PosError);
    await dm.stop();
  });

  it('never logs a full payment code', async () => {
    const { log, lines } = captureLog();
    const { dm } = manager('sim:', 'none', { log });
    await dm.start();
    dm.injectScan('284567890123456789');
    const text = lines.join('');
    expect(text).toContain('2845**********6789');
    expect(text).not.toContain('284567890123456789');
    await dm.stop();
  });

  it('snapshot: disabled, ready, and the printer slot takes any PosDevice', async () => {
    const printer: PosDevice = {
      kind: 'printer',
      state: 'idle',
      open: async () => {},
      close: async () => {},
      snapshot: (): DeviceSnapshot => ({ state: 'ready', paper: 'ok', cover: 'closed' }),
    };
    const { dm } = manager('sim:', 'none', { printer });
    await dm.start();
    const snap = dm.snapshot();
    expect(snap.printer).toEqual({ state: 'ready', paper: 'ok', cover: 'closed' });
    expect(snap.scanner).toMatchObject({ state: 'ready', uri: 'sim:', mode: 'serial-crlf', scans: 0 });
    expect(snap.display).toEqual({ state: 'disabled' });
    expect(manager('none', 'none').dm.snapshot().printer).toEqual({ state: 'disabled' });
    await dm.stop();
  });

  it('display.show events reach the display; an unplugged display is offline, then catches up on return', async () => {
    const { dm, bus, timers, events } = manager('none', 'sim:?commands=cd5220');
    await dm.start();
    const sim = dm.displaySim!;
    bus.emit('display.show', { screen: 'total', total: 3200 });
    await settle();
    expect(sim.lines()).toEqual(['TOTAL          32.00', ' '.repeat(20)]);
    sim.unplug();
    await settle();
    expect(dm.snapshot().display).toMatchObject({ state: 'offline', error: { code: 'DEVICE_DISCONNECTED' } });
    bus.emit('display.show', { screen: 'change', paid: 5000, change: 1800 });
    sim.powerCycle();
    sim.plug();
    await timers.advanceSettled(1000);
    expect(dm.snapshot().display).toMatchObject({ state: 'ready', commandSet: 'cd5220' });
    expect(sim.lines()).toEqual(['PAID           50.00', 'CHANGE         18.00']);
    const states = of(events, 'device.status').filter((s) => (s as { device: string }).device === 'display');
    expect(states.map((s) => (s as { state: string }).state)).toEqual(['ready', 'offline', 'ready']);
    expect(of(events, 'device.error')).toContainEqual(
      expect.objectContaining({ device: 'display', code: 'DEVICE_DISCONNECTED' }),
    );
    await dm.stop();
  });

  it('a scanner unplugged mid-code counts the partial as junk and scans again once back', async () => {
    const { dm, timers, events } = manager('sim:', 'none');
    await dm.start();
    const sim = dm.scannerSim!;
    sim.send(Buffer.from('69012'));
    sim.unplug();
    await settle();
    expect(dm.snapshot().scanner).toMatchObject({ state: 'offline', junk: { events: 1, bytes: 5 } });
    sim.plug();
    await timers.advanceSettled(1000);
    dm.injectScan('MB0001');
    expect(of(events, 'scan')).toEqual([{ code: 'MB0001', kind: 'member' }]);
    await dm.stop();
  });

  it('an unusable address is an error state, not an exception', async () => {
    const { dm } = manager('file:///dev/usb/lp0', 'hid://0c2e:0b61');
    await dm.start();
    expect(dm.snapshot().scanner).toMatchObject({ state: 'error', error: { code: 'DEVICE_URI_INVALID' } });
    expect(dm.snapshot().display).toMatchObject({ state: 'error', error: { code: 'DEVICE_URI_INVALID' } });
    expect(() => manager('hid://0c2e:0b61?suffix=bell').dm.snapshot()).not.toThrow();
    await dm.stop();
  });
});

/** A transport whose open succeeds or fails as the test says, counting attempts. */
class FlakyTransport implements Transport {
  readonly uri = { kind: 'tcp' as const, host: 'x', port: 1 };
  state: Transport['state'] = 'closed';
  readonly closed = new Listeners<[Error | undefined]>();
  constructor(private readonly ok: () => boolean) {}
  open(): Promise<void> {
    if (!this.ok()) return Promise.reject(new PosError('DEVICE_BUSY', 'busy'));
    this.state = 'open';
    return Promise.resolve();
  }
  write = () => Promise.resolve();
  close = () => Promise.resolve();
  onData = () => () => {};
  onClose = (l: (err?: Error) => void) => this.closed.add(l);
}

describe('device link', () => {
  it('retries a present device that fails to open with backoff, and at once when it returns after being gone', async () => {
    const timers = new ManualTimers();
    const attempts: number[] = [];
    let present = true;
    let ok = false;
    const link = new DeviceLink({
      target: 'test',
      create: () => {
        attempts.push(timers.now);
        return new FlakyTransport(() => ok);
      },
      present: () => present,
      log: silentLogger(),
      timers,
      pollMs: 1000,
      maxBackoffMs: 8000,
    });
    await link.open();
    await timers.advanceSettled(30_000);
    expect(attempts).toEqual([0, 1000, 3000, 7000, 15000, 23000]);
    expect(link.state).toBe('offline');
    expect(link.lastError?.code).toBe('DEVICE_BUSY');
    // Unplugged, then back (and now it works): picked up at the next poll, not after the backoff.
    present = false;
    await timers.advanceSettled(2000);
    present = true;
    ok = true;
    await timers.advanceSettled(1000);
    expect(attempts.at(-1)).toBe(33_000);
    expect(link.state).toBe('open');
    await link.close();
    expect(link.state).toBe('closed');
    await timers.advanceSettled(10_000);
    expect(attempts.at(-1)).toBe(33_000);
  });
});
