import { mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../../src/app.js';
import { loadConfig } from '../../../src/config/load.js';
import { createRootLogger } from '../../../src/log.js';
import { freePort, tempDir } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/wait.js';

/** A client that aborts in the middle of its upload is not a daemon error. */
const lines: Array<{ level: string; msg: string }> = [];
let app: App;
let port: number;
let token: string;

beforeAll(async () => {
  const stateDir = join(tempDir('posd-abort-'), 'state');
  mkdirSync(stateDir, { recursive: true });
  port = await freePort();
  const { config } = loadConfig({
    base: { device: { tenant: 't1', id: 'D1' }, stateDir, ui: { port } },
    env: {},
  });
  const log = createRootLogger('debug', {
    write: (line: string) => {
      lines.push(JSON.parse(line) as { level: string; msg: string });
    },
  });
  app = new App({ config, log, mode: 'run' });
  await app.start();
  token = readFileSync(join(stateDir, 'ui-token'), 'utf8').trim();
});

afterAll(async () => {
  await app?.stop();
});

describe('a client aborting mid-upload', () => {
  it('is logged at debug, with no error line and no 500 attempt', async () => {
    const received = await new Promise<string>((resolve) => {
      let text = '';
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          `POST /api/v1/sales HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\n` +
            'Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"lines":[{"name":"Tea",',
          () => socket.destroy(),
        );
      });
      socket.on('data', (c) => {
        text += c.toString();
      });
      socket.on('close', () => resolve(text));
    });
    expect(received).toBe('');
    const line = await waitFor(
      () => lines.find((l) => l.msg === 'client went away mid-request' || l.level === 'error'),
      'the server to notice',
    );
    expect(line).toMatchObject({ level: 'debug', msg: 'client went away mid-request' });
    // The daemon carries on.
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
    expect(lines.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
  });
});
