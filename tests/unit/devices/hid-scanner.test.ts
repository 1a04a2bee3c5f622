import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { type BusEvent, EventBus } from '../../../src/bus.js';
import { DeviceManager } from '../../../src/drivers/device-manager.js';
import { encodeHidPosReports } from '../../../src/drivers/scanner/hid-pos.js';
import type { HidBackend, HidDeviceInfo, HidHandle } from '../../../src/drivers/scanner/hid-transport.js';
import { typeAsKeyboard } from '../../../src/drivers/scanner/keyboard-encoder.js';
import { ManualTimers, settle } from '../../helpers/manual-timers.js';
import { silentLogger } from '../../helpers/test-log.js';

/** node-hid's shape: enumeration, and handles that emit one `data` per report. */
class FakeHid implements HidBackend {
  attached: HidDeviceInfo[] = [];
  readonly handles = new Map<string, EventEmitter & HidHandle>();
  devices(): HidDeviceInfo[] {
    return this.attached.map((d) => ({ ...d }));
  }
  open(path: string): HidHandle {
    if (!this.attached.some((d) => d.path === path)) throw new Error(`cannot open device with path ${path}`);
    const h = Object.assign(new EventEmitter(), { close: () => this.handles.delete(path) });
    this.handles.set(path, h);
    return h;
  }
  /** Unplug: node-hid reports a read error on the open handle. */
  unplug(path: string): void {
    this.attached = this.attached.filter((d) => d.path !== path);
    this.handles.get(path)?.emit('error', new Error('could not read from HID device'));
  }
}

const KEYBOARD = { vendorId: 0x0c2e, productId: 0x0b61, usagePage: 0x01, usage: 0x06, interface: 0 };
const POS = { vendorId: 0x0c2e, productId: 0x0b61, usagePage: 0x8c, usage: 0x02, interface: 1 };

function setup(hid: FakeHid, uri = 'hid://0c2e:0b61') {
  const timers = new ManualTimers();
  const bus = new EventBus();
  const scans: BusEvent[] = [];
  bus.on('scan', (e) => scans.push(e));
  const dm = new DeviceManager({
    bus,
    log: silentLogger(),
    scannerUri: uri,
    displayUri: 'none',
    classifyOptions: () => ({ couponPrefixes: [], memberPrefixes: [] }),
    timers,
    clock: () => timers.now,
    hid: async () => hid,
  });
  return { dm, timers, scans: () => scans.map((e) => e.data) };
}

describe('HID scanner adapter (fake node-hid backend, real decoders)', () => {
  it('feeds keyboard reports to the wedge decoder; unplug is offline; a replug on a new path is picked up within a poll', async () => {
    const hid = new FakeHid();
    hid.attached = [{ ...KEYBOARD, path: '/dev/hidraw3', serialNumber: 'S1' }];
    const { dm, timers, scans } = setup(hid);
    await dm.start();
    expect(dm.snapshot().scanner).toMatchObject({
      state: 'ready',
      mode: 'hid-keyboard',
      identity: 'hid://0c2e:0b61/S1',
    });
    for (const r of typeAsKeyboard('6901234567892'))
      hid.handles.get('/dev/hidraw3')!.emit('data', Buffer.from(r));
    expect(scans()).toEqual([{ code: '6901234567892', kind: 'product', symbology: 'ean-13' }]);

    hid.unplug('/dev/hidraw3');
    await settle();
    expect(dm.snapshot().scanner).toMatchObject({ state: 'offline', error: { code: 'DEVICE_DISCONNECTED' } });
    await timers.advanceSettled(3000);
    expect(dm.snapshot().scanner).toMatchObject({ state: 'offline' });
    hid.attached = [{ ...KEYBOARD, path: '/dev/hidraw7', serialNumber: 'S1' }];
    await timers.advanceSettled(1000);
    expect(dm.snapshot().scanner).toMatchObject({ state: 'ready', identity: 'hid://0c2e:0b61/S1' });
    for (const r of typeAsKeyboard('1')) hid.handles.get('/dev/hidraw7')!.emit('data', Buffer.from(r));
    expect(scans()).toHaveLength(2);
    await dm.stop();
  });

  it('prefers the HID-POS interface and decodes its reports', async () => {
    const hid = new FakeHid();
    hid.attached = [
      { ...KEYBOARD, path: '/dev/hidraw0' },
      { ...POS, path: '/dev/hidraw1' },
    ];
    const { dm, scans } = setup(hid);
    await dm.start();
    expect(dm.snapshot().scanner).toMatchObject({ mode: 'hid-pos' });
    for (const r of encodeHidPosReports(Buffer.from('6212345678901234567'), ']Q1')) {
      hid.handles.get('/dev/hidraw1')!.emit('data', Buffer.from(r));
    }
    expect(scans()).toEqual([
      { code: '6212345678901234567', kind: 'payment', channel: 'unionpay', symbology: 'qr' },
    ]);
    await dm.stop();
  });

  it('keeps to the scanner it first opened (by serial number) when another of the same model is present', async () => {
    const hid = new FakeHid();
    hid.attached = [{ ...KEYBOARD, path: '/dev/hidraw3', serialNumber: 'S1' }];
    const { dm, timers } = setup(hid);
    await dm.start();
    hid.unplug('/dev/hidraw3');
    hid.attached = [{ ...KEYBOARD, path: '/dev/hidraw4', serialNumber: 'S2' }];
    await timers.advanceSettled(5000);
    expect(dm.snapshot().scanner).toMatchObject({ state: 'offline' });
    hid.attached.push({ ...KEYBOARD, path: '/dev/hidraw5', serialNumber: 'S1' });
    await timers.advanceSettled(1000);
    expect(dm.snapshot().scanner).toMatchObject({ state: 'ready', identity: 'hid://0c2e:0b61/S1' });
    expect([...hid.handles.keys()]).toEqual(['/dev/hidraw5']);
    await dm.stop();
  });

  it('a HID backend that cannot load leaves the scanner offline, not the daemon down', async () => {
    const timers = new ManualTimers();
    const dm = new DeviceManager({
      bus: new EventBus(),
      log: silentLogger(),
      scannerUri: 'hid://0c2e:0b61?suffix=tab',
      displayUri: 'none',
      classifyOptions: () => ({ couponPrefixes: [], memberPrefixes: [] }),
      timers,
      clock: () => timers.now,
      hid: () => Promise.reject(new Error('no hidraw support')),
    });
    await dm.start();
    await timers.advanceSettled(2000);
    expect(dm.snapshot().scanner).toMatchObject({
      state: 'offline',
      error: { code: 'DEVICE_UNAVAILABLE', message: expect.stringContaining('no hidraw support') },
    });
    await dm.stop();
  });
});
