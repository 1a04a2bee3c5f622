import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createTransport,
  parseDeviceUri,
  ReconnectingTransport,
} from '../../../src/drivers/transport/index.js';
import { systemTimers } from '../../../src/drivers/transport/timers.js';
import type { Transport } from '../../../src/drivers/transport/transport.js';
import { isPosError } from '../../../src/errors.js';
import { silentLogger } from '../../helpers/test-log.js';
import { waitFor } from '../../helpers/wait.js';
import { type PtyPair, startPtyPair } from './helpers/socat.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function collect(t: Transport): { bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  t.onData((c) => chunks.push(c));
  return { bytes: () => Buffer.concat(chunks) };
}

async function listen(onSocket: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const open: Socket[] = [];
  const server = createServer((s) => {
    open.push(s);
    onSocket(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  cleanups.push(() => new Promise((r) => server.close(r)));
  cleanups.push(() =>
    open.forEach((s) => {
      s.destroy();
    }),
  );
  return { server, port: address.port };
}

describe('tcp transport', () => {
  it('carries bytes both ways and reports a peer that goes away', async () => {
    const sockets: Socket[] = [];
    const received: Buffer[] = [];
    const { port } = await listen((s) => {
      sockets.push(s);
      s.on('data', (d) => {
        received.push(d);
        s.write(Buffer.from([0x12, 0x34]));
      });
    });
    const t = createTransport(parseDeviceUri(`tcp://127.0.0.1:${port}`));
    cleanups.push(() => t.close());
    const got = collect(t);
    const closed: Error[] = [];
    t.onClose((err) => closed.push(err!));
    await t.open();
    expect(t.state).toBe('open');
    await t.write(Uint8Array.from([0x1b, 0x40]));
    await waitFor(() => (got.bytes().length === 2 ? true : undefined), 'reply');
    expect([...Buffer.concat(received)]).toEqual([0x1b, 0x40]);
    expect([...got.bytes()]).toEqual([0x12, 0x34]);
    sockets[0]!.destroy();
    await waitFor(() => closed[0], 'close event');
    expect(isPosError(closed[0], 'DEVICE_DISCONNECTED')).toBe(true);
    await expect(t.write(Uint8Array.from([1]))).rejects.toMatchObject({ code: 'DEVICE_DISCONNECTED' });
  });

  it('refuses to open a port nobody listens on, with a stable code', async () => {
    const { server, port } = await listen(() => {});
    await new Promise((r) => server.close(r));
    const t = createTransport(parseDeviceUri(`tcp://127.0.0.1:${port}`));
    await expect(t.open()).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
    expect(t.state).toBe('error');
  });
});

describe('serial and file transports over a real pty pair', () => {
  let pty: PtyPair;

  it('serial on one end, file (lp-style) on the other', async () => {
    pty = await startPtyPair();
    cleanups.push(() => pty.stop());
    const serial = createTransport(parseDeviceUri(`serial://${pty.a}?baud=19200`));
    const file = createTransport(parseDeviceUri(`file://${pty.b}`), { pollMs: 5 });
    cleanups.push(
      () => serial.close(),
      () => file.close(),
    );
    await serial.open();
    await file.open();
    const atSerial = collect(serial);
    const atFile = collect(file);
    const big = Buffer.alloc(20_000, 0x41);
    await serial.write(big);
    await file.write(Uint8Array.from([0x10, 0x04, 0x01]));
    await waitFor(() => (atFile.bytes().length === big.length ? true : undefined), 'bytes at the file end');
    await waitFor(() => (atSerial.bytes().length === 3 ? true : undefined), 'bytes at the serial end');
    expect(atFile.bytes().equals(big)).toBe(true);
    expect([...atSerial.bytes()]).toEqual([0x10, 0x04, 0x01]);

    const closed: Error[] = [];
    file.onClose((err) => closed.push(err!));
    await pty.stop();
    await waitFor(() => closed[0], 'file transport notices the hang-up');
    expect(isPosError(closed[0])).toBe(true);
  });

  it('a missing device file or serial port is DEVICE_NOT_FOUND', async () => {
    const file = createTransport(parseDeviceUri('file:///dev/usb/lp-missing'));
    await expect(file.open()).rejects.toMatchObject({ code: 'DEVICE_NOT_FOUND' });
    const serial = createTransport(parseDeviceUri('serial:///dev/ttyMISSING0'));
    await expect(serial.open()).rejects.toMatchObject({ code: expect.stringMatching(/^DEVICE_/) });
  });
});

describe('reconnecting transport over tcp', () => {
  it('is degraded while nothing listens, opens when the printer comes, reopens after a drop', async () => {
    const probe = await listen(() => {});
    const port = probe.port;
    await new Promise((r) => probe.server.close(r));
    const uri = parseDeviceUri(`tcp://127.0.0.1:${port}`);
    const link = new ReconnectingTransport(uri, {
      create: () => createTransport(uri),
      log: silentLogger(),
      timers: systemTimers(),
      initialDelayMs: 10,
      maxDelayMs: 40,
    });
    cleanups.push(() => link.close());
    const health: string[] = [];
    link.onHealth((h) => health.push(h));
    await link.open(); // does not reject
    expect(link.health).toBe('degraded');
    expect(link.lastError).toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
    await expect(link.write(Uint8Array.from([1]))).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });

    const sockets: Socket[] = [];
    const server = createServer((s) => sockets.push(s));
    server.listen(port, '127.0.0.1');
    cleanups.push(() => new Promise((r) => server.close(r)));
    cleanups.push(() =>
      sockets.forEach((s) => {
        s.destroy();
      }),
    );
    await waitFor(() => (link.health === 'open' && sockets.length === 1 ? true : undefined), 'link open');
    const before = health.length;
    sockets[0]!.destroy();
    await waitFor(() => (link.health === 'open' && sockets.length === 2 ? true : undefined), 'reopened');
    expect(health.slice(before)).toEqual(['degraded', 'connecting', 'open']);
    expect(health[0]).toBe('connecting');
  });
});
