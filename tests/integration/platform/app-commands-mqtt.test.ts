import { createHash, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/offline/chain.js';
import { topicsFor } from '../../../src/sync/topics.js';
import { appPackage } from '../../helpers/app-packages.js';
import { cloudKeys } from '../../helpers/cloud-fixture.js';
import { Mosquitto } from '../../helpers/mosquitto.js';
import { waitFor } from '../../helpers/wait.js';
import { type PlatformApp, startPlatformApp } from './platform-fixture.js';

/*
 * app.install / app.remove as signed cloud commands over a real broker (mqtt-v1 "Commands"): a
 * well-signed one installs and answers on P/up/resp; a badly signed one is refused, nothing
 * written, nothing installed.
 */

const broker = new Mosquitto();
const keys = cloudKeys();
const forger = cloudKeys();
const T = topicsFor('t1', 'D1');
let p: PlatformApp;
let cloud: MqttClient;
let files: Server;
const answers: Array<Record<string, unknown>> = [];
const pkg = appPackage({ id: 'com.example.signed', version: '1.0.0', scopes: ['print'] });

beforeAll(async () => {
  await broker.start();
  files = createServer((_req, res) => res.writeHead(200).end(pkg));
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  cloud = await mqtt.connectAsync(broker.url, { clientId: 'cloud-test', protocolVersion: 5 });
  cloud.on('message', (_t, payload) =>
    answers.push(JSON.parse(payload.toString()) as Record<string, unknown>),
  );
  await cloud.subscribeAsync(T.upResp, { qos: 1 });
  p = await startPlatformApp({
    mqtt: { url: broker.url, reconnectMinMs: 100, reconnectMaxMs: 300 },
    cloud: { publicKey: keys.publicPem },
  });
  await waitFor(() => (p.app.sync?.link.isConnected ? true : undefined), 'device connected', 20_000);
}, 60_000);

afterAll(async () => {
  await p?.stop();
  await cloud?.endAsync();
  files?.close();
  await broker.stop();
});

function command(name: string, args: Record<string, unknown>, key = keys.privateKey) {
  const fields = {
    cmdId: uuidv7(),
    name,
    args,
    issuedAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 60_000).toISOString(),
  };
  return { ...fields, sig: sign(null, Buffer.from(canonicalJson(fields)), key).toString('base64') };
}

const installArgs = () => ({
  appId: 'com.example.signed',
  version: '1.0.0',
  url: `http://127.0.0.1:${(files.address() as AddressInfo).port}/signed.tgz`,
  sha256: createHash('sha256').update(pkg).digest('hex'),
  scopes: ['print'],
});

describe('app commands over MQTT', () => {
  it('a badly signed app.install is refused: nothing written, nothing installed', async () => {
    const forged = command('app.install', installArgs(), forger.privateKey);
    await cloud.publishAsync(T.downCmd, JSON.stringify(forged), { qos: 1 });
    // A signed diagnostics after it: once that is answered, the forged one was seen first.
    const marker = command('diagnostics', {});
    await cloud.publishAsync(T.downCmd, JSON.stringify(marker), { qos: 1 });
    await waitFor(() => answers.find((a) => a.reqId === marker.cmdId), 'marker answered', 20_000);
    expect(answers.find((a) => a.reqId === forged.cmdId && a.ok === true)).toBeUndefined();
    expect(p.app.platform.registry?.get('com.example.signed')).toBeUndefined();
    expect(existsSync(join(p.stateDir, 'apps', 'com.example.signed'))).toBe(false);
  });

  it('a signed app.install installs, answers ok and is recorded; app.remove removes', async () => {
    const install = command('app.install', installArgs());
    await cloud.publishAsync(T.downCmd, JSON.stringify(install), { qos: 1 });
    const answer = await waitFor(
      () => answers.find((a) => a.reqId === install.cmdId),
      'install answered',
      20_000,
    );
    expect(answer).toMatchObject({ ok: true, result: { appId: 'com.example.signed', version: '1.0.0' } });
    expect(p.app.platform.registry?.get('com.example.signed')?.scopes).toEqual(['print']);
    const remove = command('app.remove', { appId: 'com.example.signed' });
    await cloud.publishAsync(T.downCmd, JSON.stringify(remove), { qos: 1 });
    expect(
      await waitFor(() => answers.find((a) => a.reqId === remove.cmdId), 'remove answered'),
    ).toMatchObject({
      ok: true,
      result: { removed: true },
    });
    const types: string[] = [];
    for (let seq = 1; p.app.ledger.get(seq); seq++) types.push(p.app.ledger.get(seq)!.type);
    expect(types).toEqual(expect.arrayContaining(['app.installed', 'app.removed', 'cmd.executed']));
  });
});
