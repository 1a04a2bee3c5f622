import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

// image/files/provision.mjs (the image's first-boot provisioning), run here on files in a temp dir.
const SCRIPT = resolve(import.meta.dirname, '../../image/files/provision.mjs');

interface Pem {
  cert: string;
  key: string;
  otherKey: string;
  cloudPub: string;
  rsaPub: string;
}

let keys: Pem;
let dir: string;
let boot: string;
let etc: string;
const gid = process.getgid?.() ?? 0;

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'posd-provision-'));
  const f = (n: string) => join(dir, n);
  const ec = [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '30',
  ];
  openssl([...ec, '-subj', '/CN=T1', '-keyout', f('k.pem'), '-out', f('c.pem')]);
  openssl([...ec, '-subj', '/CN=T2', '-keyout', f('k2.pem'), '-out', f('c2.pem')]);
  openssl(['genpkey', '-algorithm', 'ed25519', '-out', f('cloud.pem')]);
  openssl(['genpkey', '-algorithm', 'rsa', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', f('rsa.pem')]);
  keys = {
    cert: readFileSync(f('c.pem'), 'utf8'),
    key: readFileSync(f('k.pem'), 'utf8'),
    otherKey: readFileSync(f('k2.pem'), 'utf8'),
    cloudPub: openssl(['pkey', '-in', f('cloud.pem'), '-pubout']),
    rsaPub: openssl(['pkey', '-in', f('rsa.pem'), '-pubout']),
  };
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(() => {
  const run = mkdtempSync(join(dir, 'run-'));
  boot = join(run, 'boot');
  etc = join(run, 'etc');
  mkdirSync(boot);
  mkdirSync(join(etc, 'tls'), { recursive: true });
  writeFileSync(
    join(etc, 'posd.json'),
    JSON.stringify({ device: { tenant: 'unprovisioned', id: 'unprovisioned' }, printer: { uri: 'none' } }),
  );
});

function good(): Record<string, unknown> {
  return {
    deviceId: 'T0001',
    tenant: 'acme',
    brokerUrl: 'mqtts://broker.example:8883',
    clientCert: keys.cert,
    clientKey: keys.key,
    cloudPublicKey: keys.cloudPub,
  };
}

function provision(doc: unknown): { status: number | null; out: string } {
  const file = join(boot, 'posd-provision.json');
  writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
  const r = spawnSync(process.execPath, [SCRIPT], {
    encoding: 'utf8',
    env: {
      ...process.env,
      POSD_PROVISION_FILE: file,
      POSD_PROVISION_ETC: etc,
      POSD_PROVISION_GID: String(gid),
    },
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const config = () => JSON.parse(readFileSync(join(etc, 'posd.json'), 'utf8'));

describe('first-boot provisioning', () => {
  it('installs a valid file with 0640 files and removes it', () => {
    const r = provision({ ...good(), config: { printer: { uri: 'tcp://10.0.0.9' } } });
    expect(r.out).toMatch(/provisioned device T0001 of tenant acme/);
    expect(r.status).toBe(0);
    expect(existsSync(join(boot, 'posd-provision.json'))).toBe(false);
    const cfg = config();
    expect(cfg.device).toEqual({ tenant: 'acme', id: 'T0001' });
    expect(cfg.mqtt).toEqual({
      url: 'mqtts://broker.example:8883',
      cert: join(etc, 'tls/client.crt'),
      key: join(etc, 'tls/client.key'),
    });
    expect(cfg.cloud.publicKey).toBe(keys.cloudPub.trim());
    expect(cfg.printer).toEqual({ uri: 'tcp://10.0.0.9' });
    for (const f of ['posd.json', 'tls/client.crt', 'tls/client.key']) {
      const st = statSync(join(etc, f));
      expect(st.mode & 0o777, f).toBe(0o640);
      expect(st.gid, f).toBe(gid);
    }
    expect(readFileSync(join(etc, 'tls/client.key'), 'utf8')).toBe(keys.key);
  });

  it('refuses a bad certificate and a missing field, lists both, changes nothing, sets the file aside', () => {
    const doc = good();
    doc.clientCert = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n';
    delete doc.cloudPublicKey;
    const before = readFileSync(join(etc, 'posd.json'), 'utf8');
    const r = provision(doc);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/REJECTED .*nothing was installed/);
    expect(r.out).toMatch(/clientCert: not a PEM certificate/);
    expect(r.out).toMatch(/cloudPublicKey: is required/);
    expect(readFileSync(join(etc, 'posd.json'), 'utf8')).toBe(before);
    expect(existsSync(join(etc, 'tls/client.key'))).toBe(false);
    expect(existsSync(join(boot, 'posd-provision.json'))).toBe(false);
    expect(existsSync(join(boot, 'posd-provision.rejected.json'))).toBe(true);
  });

  it.each([
    ['a key of another certificate', { clientKey: 'other' }, /clientKey: does not belong to clientCert/],
    ['an RSA cloud key', { cloudPublicKey: 'rsa' }, /cloudPublicKey: must be an Ed25519 key, got rsa/],
    ['a plain mqtt:// broker', { brokerUrl: 'mqtt://b:1883' }, /brokerUrl: must be an mqtts:\/\/ URL/],
    ['a bad device id', { deviceId: 'T 1/x' }, /deviceId: must be 1 to 64 letters/],
    ['an unknown key', { colour: 'red' }, /colour: unknown key/],
  ])('refuses %s', (_name, patch, message) => {
    const doc: Record<string, unknown> = { ...good(), ...patch };
    if (doc.clientKey === 'other') doc.clientKey = keys.otherKey;
    if (doc.cloudPublicKey === 'rsa') doc.cloudPublicKey = keys.rsaPub;
    const r = provision(doc);
    expect(r.out).toMatch(message);
    expect(r.status).toBe(1);
    expect(config().device.id).toBe('unprovisioned');
  });

  it('refuses a file that is not JSON', () => {
    const r = provision('{"deviceId": ');
    expect(r.out).toMatch(/\(file\): not valid JSON/);
    expect(r.status).toBe(1);
  });

  it('does nothing without a file', () => {
    const r = spawnSync(process.execPath, [SCRIPT], {
      encoding: 'utf8',
      env: { ...process.env, POSD_PROVISION_FILE: join(boot, 'none.json'), POSD_PROVISION_ETC: etc },
    });
    expect(r.stdout).toMatch(/nothing to provision/);
    expect(r.status).toBe(0);
  });
});
