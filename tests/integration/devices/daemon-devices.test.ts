import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { VfdInterpreter } from '../../../src/drivers/sim/vfd-interpreter.js';
import { createTransport, parseDeviceUri } from '../../../src/drivers/transport/index.js';
import type { Transport } from '../../../src/drivers/transport/transport.js';
import { apiClient } from '../../helpers/api.js';
import {
  type DaemonProcess,
  spawnPosd,
  type TestConfig,
  waitHealthy,
  writeTestConfig,
} from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/wait.js';

/*
 * The daemon's serial scanner and VFD pole display, each on a real kernel pty pair (socat) whose
 * device end has a stable link, like /dev/serial/by-id: scans reach the event stream classified,
 * sales reach the glass, and a device unplugged (the pty closed) and plugged back is picked up.
 */

interface LinkedPty {
  device: string;
  host: string;
  stop(): Promise<void>;
}

async function linkedPty(dir: string, name: string): Promise<LinkedPty> {
  const device = join(dir, name);
  const host = join(dir, `${name}-host`);
  const child: ChildProcess = spawn(
    'socat',
    [`pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${host}`],
    { stdio: 'ignore' },
  );
  await waitFor(() => (existsSync(device) && existsSync(host) ? true : undefined), `${name} pty`);
  return {
    device,
    host,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

async function hostEnd(path: string): Promise<Transport> {
  const t = createTransport(parseDeviceUri(`serial://${path}?baud=9600`));
  await t.open();
  return t;
}

// Serial addresses live under /dev (as /dev/serial/by-id links do): the links go there too.
const dir = mkdtempSync('/dev/posd-test-');
let scannerPty: LinkedPty;
let displayPty: LinkedPty;
let scannerHost: Transport;
let displayHost: Transport;
const vfd = new VfdInterpreter();
let daemon: DaemonProcess;
let cfg: TestConfig;
let api: ReturnType<typeof apiClient>;
const events: Array<{ type: string; data: Record<string, unknown> }> = [];
let ws: WebSocket;

type Devices = Record<'printer' | 'scanner' | 'display', { state: string; identity?: string }>;

async function devices(): Promise<Devices> {
  return (await api.call<Devices>('GET', '/api/v1/devices')).body;
}

beforeAll(async () => {
  scannerPty = await linkedPty(dir, 'scanner');
  displayPty = await linkedPty(dir, 'display');
  displayHost = await hostEnd(displayPty.host);
  displayHost.onData((chunk) => vfd.feed(chunk));
  scannerHost = await hostEnd(scannerPty.host);
  cfg = await writeTestConfig({
    scanner: { uri: `serial://${scannerPty.device}?baud=9600` },
    display: { uri: `serial://${displayPty.device}?baud=9600&commands=cd5220` },
  });
  daemon = spawnPosd(['run', '--config', cfg.file]);
  await waitHealthy(cfg.port);
  api = apiClient(cfg.port, cfg.stateDir);
  await waitFor(async () => {
    const d = await devices();
    return d.scanner.state === 'ready' && d.display.state === 'ready' ? true : undefined;
  }, 'devices ready');
  ws = new WebSocket(`ws://127.0.0.1:${cfg.port}/api/v1/events`, {
    headers: { authorization: `Bearer ${api.token}` },
  });
  ws.on('message', (m) => {
    const frame = JSON.parse(String(m)) as { type: string; data: Record<string, unknown> };
    if (frame.type) events.push(frame);
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
}, 30_000);

afterAll(async () => {
  ws?.close();
  daemon?.child.kill('SIGTERM');
  await daemon?.exited;
  await scannerHost?.close();
  await displayHost?.close();
  await scannerPty?.stop();
  await displayPty?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const scans = () => events.filter((e) => e.type === 'scan').map((e) => e.data);

describe('serial scanner and pole display in the daemon, over real ptys', () => {
  it('reports both devices ready in GET /api/v1/devices; no printer configured is disabled', async () => {
    const d = await devices();
    expect(d.printer.state).toBe('disabled');
    expect(d.scanner.state).toBe('ready');
    expect(d.display.state).toBe('ready');
  });

  it('scans arrive on the event stream classified: payment code with channel, product, coupon, member', async () => {
    await scannerHost.write(Buffer.from('134567890123456789\r\n6901234567892\r\nCP2024\r\nMB88886666\r\n'));
    const got = await waitFor(() => (scans().length >= 4 ? scans() : undefined), 'four scans');
    expect(got.slice(0, 4)).toEqual([
      expect.objectContaining({ code: '134567890123456789', kind: 'payment', channel: 'wechat' }),
      expect.objectContaining({ code: '6901234567892', kind: 'product' }),
      expect.objectContaining({ code: 'CP2024', kind: 'coupon' }),
      expect.objectContaining({ code: 'MB88886666', kind: 'member' }),
    ]);
    // A payment code never reaches the logs in full.
    expect(daemon.stdout()).not.toContain('134567890123456789');
  });

  it('a cash sale shows its paid and change on the pole display', async () => {
    const r = await api.call<{ status: string }>('POST', '/api/v1/sales', {
      lines: [{ name: 'Tea', qty: 2, unitPrice: 650 }],
      tenders: [{ method: 'cash', amount: 2000 }],
    });
    expect(r.status).toBe(201);
    await waitFor(() => (vfd.lines()[1].includes('CHANGE') ? true : undefined), 'change on the glass');
    expect(vfd.lines()[0]).toMatch(/^PAID\s+20\.00$/);
    expect(vfd.lines()[1]).toMatch(/^CHANGE\s+7\.00$/);
    expect(vfd.junkBytes).toBe(0);
  });

  it('the display unplugged (pty closed) goes offline, and shows the next sale once plugged back', async () => {
    await displayHost.close();
    await displayPty.stop();
    await waitFor(async () => ((await devices()).display.state === 'offline' ? true : undefined), 'offline');
    displayPty = await linkedPty(dir, 'display');
    displayHost = await hostEnd(displayPty.host);
    const glass = new VfdInterpreter();
    displayHost.onData((chunk) => glass.feed(chunk));
    await waitFor(
      async () => ((await devices()).display.state === 'ready' ? true : undefined),
      'back',
      10_000,
    );
    const r = await api.call<{ status: string }>('POST', '/api/v1/sales', {
      lines: [{ name: 'Cake', qty: 1, unitPrice: 1_250 }],
      tenders: [{ method: 'cash', amount: 1_250 }],
    });
    expect(r.status).toBe(201);
    await waitFor(() => (/^PAID\s+12\.50$/.test(glass.lines()[1]) ? true : undefined), 'paid on the glass');
    expect(glass.lines()[0]).toMatch(/^TOTAL\s+12\.50$/);
    expect(glass.junkBytes).toBe(0);
  });

  it('the scanner unplugged (pty closed) goes offline, and scans again once plugged back', async () => {
    await scannerHost.close();
    await scannerPty.stop();
    await waitFor(async () => ((await devices()).scanner.state === 'offline' ? true : undefined), 'offline');
    const status = events.filter((e) => e.type === 'device.status' && e.data.device === 'scanner');
    expect(status.at(-1)?.data.state).toBe('offline');

    scannerPty = await linkedPty(dir, 'scanner');
    scannerHost = await hostEnd(scannerPty.host);
    await waitFor(
      async () => ((await devices()).scanner.state === 'ready' ? true : undefined),
      'back',
      10_000,
    );
    const before = scans().length;
    await scannerHost.write(Buffer.from('6901234567892\r\n'));
    await waitFor(() => (scans().length > before ? true : undefined), 'scan after return');
    expect(scans().at(-1)).toMatchObject({ code: '6901234567892', kind: 'product' });
  });
});
