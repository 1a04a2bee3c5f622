import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudService } from '../../../cloud/cloud-service.js';
import { apiClient } from '../../helpers/api.js';
import { cloudKeys, deviceLedger } from '../../helpers/cloud-fixture.js';
import {
  type DaemonProcess,
  spawnPosd,
  tempDir,
  waitHealthy,
  writeTestConfig,
} from '../../helpers/daemon.js';
import { Mosquitto } from '../../helpers/mosquitto.js';
import { waitFor } from '../../helpers/wait.js';

const dir = tempDir('posd-tls-');
const file = (name: string) => join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

let broker: Mosquitto;
let daemon: DaemonProcess | undefined;

beforeAll(async () => {
  // A CA, a server certificate for 127.0.0.1 and a client certificate for the device.
  const pkiArgs = (name: string, ext: string) => {
    execFileSync(
      'openssl',
      [
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-subj',
        `/CN=${name}`,
        '-keyout',
        file(`${name}.key`),
        '-out',
        file(`${name}.csr`),
      ],
      { stdio: 'pipe' },
    );
    writeFileSync(file(`${name}.ext`), `${ext}\n`);
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      file(`${name}.ext`),
      '-out',
      file(`${name}.crt`),
    );
  };
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=posd test CA',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
  );
  pkiArgs('server', 'subjectAltName=IP:127.0.0.1');
  pkiArgs('device', 'extendedKeyUsage=clientAuth');
  broker = new Mosquitto({
    tls: {
      cafile: file('ca.crt'),
      certfile: file('server.crt'),
      keyfile: file('server.key'),
      requireCertificate: true,
    },
  });
  await broker.start();
});

afterAll(async () => {
  daemon?.child.kill('SIGKILL');
  await broker?.stop();
});

describe('TLS with client certificates', () => {
  it('the daemon connects with its client certificate and uplinks', async () => {
    const keys = cloudKeys();
    const cfg = await writeTestConfig({
      mqtt: {
        url: broker.url,
        ca: file('ca.crt'),
        cert: file('device.crt'),
        key: file('device.key'),
        reconnectMinMs: 100,
        reconnectMaxMs: 500,
      },
      cloud: { publicKey: keys.publicPem },
    });
    daemon = spawnPosd(['run', '--config', cfg.file]);
    await waitHealthy(cfg.port);
    // A monitor with its own client certificate sees the device's birth message.
    const monitor = await mqtt.connectAsync(broker.url, {
      ca: readFileSync(file('ca.crt')),
      cert: readFileSync(file('device.crt')),
      key: readFileSync(file('device.key')),
      clientId: 'monitor',
      protocolVersion: 5,
    });
    const births: string[] = [];
    monitor.on('message', (_t, p) => births.push(p.toString()));
    await monitor.subscribeAsync('pos/v1/t1/D1/status');
    await waitFor(() => (births.some((b) => b.includes('"online"')) ? true : undefined), 'birth over TLS');
    const api = apiClient(cfg.port, cfg.stateDir);
    const sale = await api.call('POST', '/api/v1/sales', {
      lines: [{ name: 'tls', qty: 1, unitPrice: 100 }],
      tenders: [{ method: 'cash', amount: 100 }],
    });
    expect(sale.status).toBe(201);
    // A cloud over TLS too: the sale reaches it and the device marks it synced.
    const cloud = new CloudService({
      brokerUrl: broker.url,
      dbFile: join(tempDir(), 'cloud.db'),
      signingKey: keys.privateKey,
      tls: {
        ca: readFileSync(file('ca.crt')),
        cert: readFileSync(file('device.crt')),
        key: readFileSync(file('device.key')),
      },
    });
    await cloud.start();
    // The sale may have left before the cloud subscribed: the uplink's resend rule (10 s without
    // an ack after a PUBACK) sends it again, so allow for that.
    await waitFor(
      async () => ((await deviceLedger(api)).every((r) => r.sync === 'synced') ? true : undefined),
      'synced over TLS',
      30_000,
    );
    expect(cloud.store.records('t1', 'D1').some((r) => r.type === 'sale.completed')).toBe(true);
    await cloud.stop();
    await monitor.endAsync();
  });

  it('a client without a certificate is refused', async () => {
    const attempt = mqtt.connectAsync(broker.url, {
      ca: readFileSync(file('ca.crt')),
      clientId: 'no-cert',
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    await expect(attempt).rejects.toThrow();
  });
});
