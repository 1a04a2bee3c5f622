// The cloud of the update self-test (selftest-update.mjs), inside the guest: an MQTT broker on
// 127.0.0.1 (aedes, as `posd demo` runs it), the reference cloud (posd's own dist/cloud, with its
// SQLite database on the data partition, so what it stored survives the reboots), a watcher of
// `P/up/state`, and an HTTP server for the bundles disk whose first bytes come at once and the rest
// only after `release()` (a sale is made while the download is under way).
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';

export const TENANT = 'selftest';
export const DEVICE = 'UPD-1';
export const MQTT_PORT = 1883;
export const HTTP_PORT = 8090;
const KEY = '/data/selftest-cloud-key.pem';
const DB = '/data/selftest-cloud.db';
const APP = '/opt/posd';
const req = createRequire(`${APP}/package.json`);
const load = async (name) => {
  const m = await import(pathToFileURL(req.resolve(name)).href);
  return m.default && !m.Aedes ? m.default : m;
};

/** The cloud's signing key (made once, on the data partition) and its public key for posd.json. */
export function cloudKey(keyFile = KEY) {
  if (!existsSync(keyFile)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  const privateKey = createPrivateKey(readFileSync(keyFile, 'utf8'));
  return {
    privateKey,
    publicPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * posd's config pointed at this cloud, as provisioning would make it. image/test-update.sh runs
 * this on the host before the first boot (`node selftest-cloud.mjs configure BASE OUT KEY`) and puts
 * the result on the data partition, so posd starts linked (no restart in the guest).
 */
export function configurePosd(base = '/etc/posd/posd.json', out = base, keyFile = KEY) {
  const c = JSON.parse(readFileSync(base, 'utf8'));
  c.device = { tenant: TENANT, id: DEVICE };
  c.mqtt = {
    url: `mqtt://127.0.0.1:${MQTT_PORT}`,
    protocolVersion: 4,
    reconnectMinMs: 500,
    reconnectMaxMs: 2000,
  };
  c.cloud = { publicKey: cloudKey(keyFile).publicPem };
  // In place: the file keeps its owner and mode (0640 root:posd).
  writeFileSync(out, JSON.stringify(c, null, 2));
}

/** posd's config names this cloud already. */
export const posdConfigured = (file = '/etc/posd/posd.json') =>
  JSON.parse(readFileSync(file, 'utf8')).device?.id === DEVICE;

export async function startCloud(bundleDir) {
  const { Aedes } = await load('aedes');
  const mqtt = await load('mqtt');
  const { CloudService } = await import(`${APP}/dist/cloud/cloud-service.js`);
  const broker = await Aedes.createBroker();
  const tcp = createNetServer(broker.handle);
  await new Promise((ok, ko) => tcp.once('error', ko).listen(MQTT_PORT, '127.0.0.1', ok));
  const cloud = new CloudService({
    brokerUrl: `mqtt://127.0.0.1:${MQTT_PORT}`,
    dbFile: DB,
    signingKey: cloudKey().privateKey,
    protocolVersion: 4,
    shared: false,
  });
  await cloud.start();
  // Every `update` and appVersion posd reported, in order.
  const states = [];
  const watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${MQTT_PORT}`, {
    clientId: 'selftest-watcher',
    protocolVersion: 4,
  });
  watcher.on('message', (_topic, payload) => {
    try {
      const s = JSON.parse(payload.toString());
      states.push({ ...s, at: Date.now() });
    } catch {
      // not a state
    }
  });
  await watcher.subscribeAsync(`pos/v1/${TENANT}/${DEVICE}/up/state`, { qos: 1 });

  // Bundles: the first 16 MiB at once, the rest after release() (HTTP Range honoured for resumes).
  let release;
  const released = new Promise((r) => (release = r));
  const GATE = 16 << 20;
  const http = createServer(async (rq, rs) => {
    try {
      const file = join(bundleDir, rq.url.replace(/^\/+/, '').replace(/[^a-z0-9.]/gi, ''));
      const size = statSync(file).size;
      const m = /^bytes=(\d+)-$/.exec(rq.headers.range ?? '');
      const from = m ? Number(m[1]) : 0;
      rs.writeHead(m ? 206 : 200, {
        'content-type': 'application/octet-stream',
        'content-length': String(size - from),
        ...(m ? { 'content-range': `bytes ${from}-${size - 1}/${size}` } : {}),
      });
      if (from < GATE) {
        await pipeline(createReadStream(file, { start: from, end: GATE - 1 }), rs, { end: false });
        await released;
      }
      await pipeline(createReadStream(file, { start: Math.max(from, GATE) }), rs);
    } catch {
      rs.destroy();
    }
  });
  await new Promise((ok, ko) => http.once('error', ko).listen(HTTP_PORT, '127.0.0.1', ok));
  return {
    cloud,
    states,
    release: () => release(),
    url: (name) => `http://127.0.0.1:${HTTP_PORT}/${name}`,
    /** The sale ids the cloud stored for this terminal (from its `sale.*` facts). */
    saleIds: () =>
      new Set(
        cloud.store
          .facts(TENANT, DEVICE)
          .map((r) => r.body?.saleId)
          .filter(Boolean),
      ),
    lastState: () => states.at(-1),
  };
}

// On the host: node selftest-cloud.mjs configure BASE_POSD_JSON OUT_POSD_JSON KEY_FILE
if (process.argv[2] === 'configure' && import.meta.url === pathToFileURL(process.argv[1]).href)
  configurePosd(process.argv[3], process.argv[4], process.argv[5]);
