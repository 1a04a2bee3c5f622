import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, refusedPort } from '../../helpers/daemon.js';

const ephemeralLow = Number(
  readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
);

function listenOn(port: number): Promise<void> {
  return new Promise((resolveListen, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolveListen()));
  });
}

describe('ports the tests listen on', () => {
  it('come from below the ephemeral range, never twice, and can be listened on', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 40; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) {
      expect(port).toBeLessThan(ephemeralLow);
      await listenOn(port);
    }
  });

  it('refused ports are apart from them', async () => {
    const listen: number[] = [];
    const refused: number[] = [];
    for (let i = 0; i < 20; i++) {
      listen.push(await freePort());
      refused.push(await refusedPort());
    }
    expect(Math.max(...refused)).toBeLessThan(Math.min(...listen));
    expect(Math.max(...listen)).toBeLessThan(ephemeralLow);
  });
});
