import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PosError } from '../../../src/errors.js';
import { createRootLogger } from '../../../src/log.js';
import { canonicalJson } from '../../../src/offline/chain.js';
import type { CommandResult } from '../../../src/services/command-service.js';
import { Downlink } from '../../../src/sync/downlink.js';
import type { MqttLink } from '../../../src/sync/mqtt-link.js';
import type { RequestClient } from '../../../src/sync/request-client.js';
import { topicsFor } from '../../../src/sync/topics.js';
import type { Uplink } from '../../../src/sync/uplink.js';
import { waitFor } from '../../helpers/wait.js';

const keys = generateKeyPairSync('ed25519');
const T = topicsFor('t1', 'D1');

function command(name: string, expiresInMs = 60_000) {
  const fields = {
    cmdId: `c-${name}-${expiresInMs}`,
    name,
    args: {},
    issuedAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
  };
  return Buffer.from(
    JSON.stringify({
      ...fields,
      sig: sign(null, Buffer.from(canonicalJson(fields)), keys.privateKey).toString('base64'),
    }),
  );
}

function rig(run: (name: string) => Promise<CommandResult>) {
  const published: Array<{ topic: string; body: Record<string, unknown> }> = [];
  const logs: Array<{ level: string; msg: string; cmdId?: string }> = [];
  const handlers = new Map<string, (p: Buffer) => void>();
  const link = {
    version: 5,
    on: (topic: string, h: (p: Buffer) => void) => handlers.set(topic, h),
    publish: async (topic: string, payload: string) => {
      published.push({ topic, body: JSON.parse(payload) as Record<string, unknown> });
    },
  } as unknown as MqttLink;
  const log = createRootLogger('warn', {
    write: (line: string) => {
      logs.push(JSON.parse(line) as { level: string; msg: string });
    },
  });
  const downlink = new Downlink({
    link,
    topics: T,
    uplink: {} as Uplink,
    requests: {} as RequestClient,
    cloudKey: keys.publicKey,
    log,
    config: {
      version: 0,
      apply: () => ({ outcome: 'applied', version: 1 }),
      reject: () => {},
      rejectUnverified: () => {},
    },
    orders: { receive: () => ({ duplicate: false }) },
    commands: { run: (_id, name) => run(name) },
    notify: () => {},
  });
  downlink.install();
  return { published, logs, deliver: (p: Buffer) => handlers.get(T.downCmd)!(p) };
}

describe('downlink commands', () => {
  it('a storage failure while a command runs is answered with its code and logged, never an unhandled rejection', async () => {
    const r = rig(async () => {
      throw new PosError('STORAGE_FULL', 'disk full');
    });
    r.deliver(command('diagnostics'));
    const answer = await waitFor(() => r.published[0], 'the answer');
    expect(answer.topic).toBe(T.upResp);
    expect(answer.body).toMatchObject({ ok: false, error: { code: 'STORAGE_FULL', message: 'disk full' } });
    expect(r.logs).toContainEqual(expect.objectContaining({ level: 'error', msg: 'command could not run' }));
  });

  it('an expired command is answered and logged at warn', async () => {
    const r = rig(async () => ({ ok: true, result: {} }));
    r.deliver(command('diagnostics', -1_000));
    const answer = await waitFor(() => r.published[0], 'the answer');
    expect(answer.body).toMatchObject({ ok: false, error: { code: 'CMD_EXPIRED' } });
    expect(r.logs).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'expired command refused' }));
  });
});
