import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { provisioningSigningText } from '../../src/config/provisioning.js';

// image/files/provision.mjs (the image's first-boot provisioning), run here on files in a temp dir.
const SCRIPT = resolve(import.meta.dirname, '../../image/files/provision.mjs');
// The decision rules come from posd's build (dist/, as on the device from /opt/posd).
const APP = resolve(import.meta.dirname, '../..');

interface Pem {
  cert: string;
  key: string;
  otherKey: string;
  cloudPub: string;
  rsaPub: string;
  rogueCloudPub: string;
}

let keys: Pem;
let dir: string;
let boot: string;
let etc: string;
let state: string;
let sysroot: string;
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
    rogueCloudPub: generateKeyPairSync('ed25519')
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString(),
  };
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(() => {
  const run = mkdtempSync(join(dir, 'run-'));
  boot = join(run, 'boot');
  etc = join(run, 'etc');
  state = join(run, 'state');
  mkdirSync(boot);
  mkdirSync(state);
  mkdirSync(join(etc, 'tls'), { recursive: true });
  // A system root for the technician account (provision.mjs --root): the files sysusers would leave.
  sysroot = join(run, 'root');
  mkdirSync(join(sysroot, 'etc'), { recursive: true });
  mkdirSync(join(sysroot, 'bin'));
  mkdirSync(join(sysroot, 'home'));
  writeFileSync(join(sysroot, 'bin/bash'), '');
  writeFileSync(
    join(sysroot, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/bash\nposd:x:900:900:posd point-of-sale daemon:/var/lib/posd:/usr/sbin/nologin\n',
  );
  writeFileSync(join(sysroot, 'etc/shadow'), 'root:*:20000:0:99999:7:::\nposd:!*:20000::::::\n', {
    mode: 0o640,
  });
  writeFileSync(
    join(sysroot, 'etc/group'),
    'root:x:0:\nsudo:x:27:\nsystemd-journal:x:999:\nposd:x:900:\nposd-hid:x:901:posd\n',
  );
  writeFileSync(
    join(sysroot, 'etc/gshadow'),
    'root:*::\nsudo:*::\nsystemd-journal:!*::\nposd:!*::\nposd-hid:!*::posd\n',
    { mode: 0o640 },
  );
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
  return runScript(file);
}

function runScript(file: string, extraEnv: NodeJS.ProcessEnv = {}): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [SCRIPT, '--root', sysroot], {
    encoding: 'utf8',
    env: {
      ...process.env,
      ...extraEnv,
      POSD_PROVISION_FILE: file,
      POSD_PROVISION_ETC: etc,
      POSD_PROVISION_GID: String(gid),
      POSD_PROVISION_STATE: state,
      POSD_APP_DIR: APP,
    },
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const config = () => JSON.parse(readFileSync(join(etc, 'posd.json'), 'utf8'));
const sys = (f: string) => readFileSync(join(sysroot, 'etc', f), 'utf8');
const entry = (f: string, name: string) =>
  sys(f)
    .split('\n')
    .find((l) => l.startsWith(`${name}:`))
    ?.split(':');
/** A technician reset as `posd-provisioning-reset` makes it on the device (mtime: when). */
function allowReset(when = new Date()): void {
  const dir = join(etc, 'technician');
  mkdirSync(dir, { recursive: true });
  const f = join(dir, 'allow-provisioning');
  writeFileSync(f, `${when.toISOString()}\n`);
  utimesSync(f, when, when);
}

const HASH6 = `$6$${'saltsalt'}$${'a'.repeat(86)}`;
const HASHY = `$y$j9T$${'F5Jx5fExrKuPp53xLKQ..1'}$${'b'.repeat(43)}`;

describe('first-boot provisioning', () => {
  it('installs a valid file with 0640 files, the client key root-only, and removes it', () => {
    const r = provision({ ...good(), config: { printer: { uri: 'tcp://10.0.0.9' } } });
    expect(r.out).toMatch(/provisioned device T0001 of tenant acme/);
    expect(r.status).toBe(0);
    expect(existsSync(join(boot, 'posd-provision.json'))).toBe(false);
    const cfg = config();
    expect(cfg.device).toEqual({ tenant: 'acme', id: 'T0001' });
    expect(cfg.mqtt).toEqual({
      url: 'mqtts://broker.example:8883',
      cert: join(etc, 'tls/client.crt'),
      key: 'credential:posd_mqtt-client.key',
    });
    expect(cfg.cloud.publicKey).toBe(keys.cloudPub.trim());
    expect(cfg.printer).toEqual({ uri: 'tcp://10.0.0.9' });
    for (const f of ['posd.json', 'tls/client.crt', 'provisioned.json']) {
      const st = statSync(join(etc, f));
      expect(st.mode & 0o777, f).toBe(0o640);
      expect(st.gid, f).toBe(gid);
    }
    // The key: root only, in a directory the technician (group posd) cannot even list.
    expect(readFileSync(join(etc, 'private/mqtt-client.key'), 'utf8')).toBe(keys.key);
    expect(statSync(join(etc, 'private/mqtt-client.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(etc, 'private')).mode & 0o777).toBe(0o700);
    expect(existsSync(join(etc, 'tls/client.key'))).toBe(false);
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
    expect(existsSync(join(etc, 'private/mqtt-client.key'))).toBe(false);
    expect(existsSync(join(boot, 'posd-provision.json'))).toBe(false);
    expect(existsSync(join(boot, 'posd-provision.rejected.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(state, 'provisioning-refused.json'), 'utf8'))).toMatchObject({
      code: 'INVALID',
      reasons: expect.arrayContaining([expect.stringMatching(/cloudPublicKey: is required/)]),
    });
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
      env: {
        ...process.env,
        POSD_PROVISION_FILE: join(boot, 'none.json'),
        POSD_PROVISION_ETC: etc,
        POSD_APP_DIR: APP,
      },
    });
    expect(r.stdout).toMatch(/nothing to provision/);
    expect(r.status).toBe(0);
  });
});

describe('technician login', () => {
  it.each([
    ['SHA-512 ($6$)', HASH6],
    ['yescrypt ($y$)', HASHY],
  ])('a valid %s hash makes the user tech with journal and posd groups, not sudo', (_n, hash) => {
    const r = provision({ ...good(), technician: { passwordHash: hash } });
    expect(r.out).toMatch(/technician login tech enabled/);
    expect(r.out).not.toContain(hash);
    expect(r.status).toBe(0);
    expect(entry('passwd', 'tech')).toEqual([
      'tech',
      'x',
      '1000',
      '1000',
      'posd technician',
      '/home/tech',
      '/bin/bash',
    ]);
    expect(entry('shadow', 'tech')?.[1]).toBe(hash);
    expect(entry('group', 'tech')?.slice(0, 3)).toEqual(['tech', 'x', '1000']);
    expect(entry('group', 'systemd-journal')?.[3]).toBe('tech');
    expect(entry('group', 'posd')?.[3]).toBe('tech');
    expect(entry('group', 'sudo')?.[3]).toBe('');
    expect(entry('group', 'root')?.[3]).toBe('');
    expect(entry('group', 'posd-hid')?.[3]).toBe('posd');
    expect(entry('gshadow', 'posd')?.[3]).toBe('tech');
    expect(entry('gshadow', 'tech')).toEqual(['tech', '!', '', '']);
    expect(statSync(join(sysroot, 'etc/shadow')).mode & 0o777).toBe(0o640);
    expect(statSync(join(sysroot, 'home/tech')).isDirectory()).toBe(true);
    // Kept on the data partition (root only) for the next root slot; never in posd.json.
    expect(readFileSync(join(etc, 'technician.hash'), 'utf8').trim()).toBe(hash);
    expect(statSync(join(etc, 'technician.hash')).mode & 0o777).toBe(0o600);
    expect(JSON.stringify(config())).not.toContain(hash);
  });

  it('uses /bin/sh where the image has no bash', () => {
    rmSync(join(sysroot, 'bin/bash'));
    expect(provision({ ...good(), technician: { passwordHash: HASH6 } }).status).toBe(0);
    expect(entry('passwd', 'tech')?.[6]).toBe('/bin/sh');
  });

  it('updates the hash on re-provisioning, without duplicating the user or its group memberships', () => {
    provision({ ...good(), technician: { passwordHash: HASH6 } });
    allowReset();
    const r = provision({ ...good(), technician: { passwordHash: HASHY } });
    expect(r.status).toBe(0);
    expect(sys('passwd').match(/^tech:/gm)).toHaveLength(1);
    expect(entry('shadow', 'tech')?.[1]).toBe(HASHY);
    expect(entry('group', 'posd')?.[3]).toBe('tech');
  });

  it('re-applies the kept hash when the root slot has no tech (a slot switch), with no provisioning file', () => {
    provision({ ...good(), technician: { passwordHash: HASH6 } });
    // The other slot's /etc: as the image was built, without tech.
    writeFileSync(
      join(sysroot, 'etc/passwd'),
      sys('passwd')
        .split('\n')
        .filter((l) => !l.startsWith('tech:'))
        .join('\n'),
    );
    writeFileSync(
      join(sysroot, 'etc/shadow'),
      sys('shadow')
        .split('\n')
        .filter((l) => !l.startsWith('tech:'))
        .join('\n'),
    );
    const r = runScript(join(boot, 'posd-provision.json'));
    expect(r.out).toMatch(/technician login tech kept/);
    expect(r.status).toBe(0);
    expect(entry('shadow', 'tech')?.[1]).toBe(HASH6);
    expect(entry('passwd', 'tech')?.[2]).toBe('1000');
  });

  it.each([
    ['a plain password', 'hunter2'],
    ['an MD5 hash', '$1$saltsalt$qjXMvbEw8oaL.CzflDugX/'],
    ['a truncated SHA-512 hash', '$6$saltsalt$abc'],
    ['a number', 42],
  ])('refuses %s, listed with the other problems, and makes no user', (_n, hash) => {
    const doc = { ...good(), technician: { passwordHash: hash } };
    delete (doc as Record<string, unknown>).cloudPublicKey;
    const r = provision(doc);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/REJECTED/);
    expect(r.out).toMatch(
      /technician\.passwordHash: must be a crypt\(3\) SHA-512 \(\$6\$\.\.\.\) or yescrypt \(\$y\$\.\.\.\) hash/,
    );
    expect(r.out).toMatch(/cloudPublicKey: is required/);
    expect(entry('passwd', 'tech')).toBeUndefined();
    expect(existsSync(join(etc, 'technician.hash'))).toBe(false);
  });

  it('refuses a technician that is not { passwordHash }', () => {
    const r = provision({ ...good(), technician: { password: 'x' } });
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/technician\.password: unknown key/);
    expect(r.out).toMatch(/technician\.passwordHash: is required/);
  });

  it('without the field: no user, no kept hash', () => {
    const r = provision(good());
    expect(r.status).toBe(0);
    expect(entry('passwd', 'tech')).toBeUndefined();
    expect(entry('shadow', 'tech')).toBeUndefined();
    expect(existsSync(join(etc, 'technician.hash'))).toBe(false);
  });

  it('re-provisioning without the field locks an existing tech login and drops the kept hash', () => {
    provision({ ...good(), technician: { passwordHash: HASH6 } });
    allowReset();
    const r = provision(good());
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/the tech login is locked/);
    expect(entry('shadow', 'tech')?.[1]).toBe('!');
    expect(existsSync(join(etc, 'technician.hash'))).toBe(false);
    expect(runScript(join(boot, 'posd-provision.json')).out).toMatch(/nothing to provision$/m);
  });
});

describe('technician login on a read-only root', () => {
  // POSD_PROVISION_ACCOUNTS: the tables go to that directory (a tmpfs in /run on the device, then
  // bind-mounted over /etc by accounts-mount.sh); the slot's /etc is never written.
  it('makes the tables in the accounts directory, rewritten in place, and keeps the login when a file is refused', () => {
    const accountsDir = join(sysroot, 'run-accounts');
    mkdirSync(accountsDir);
    const before = ['passwd', 'shadow', 'group', 'gshadow'].map((f) => sys(f));
    const env = { POSD_PROVISION_ACCOUNTS: accountsDir };
    writeFileSync(
      join(boot, 'posd-provision.json'),
      JSON.stringify({ ...good(), technician: { passwordHash: HASH6 } }),
    );
    expect(runScript(join(boot, 'posd-provision.json'), env).status).toBe(0);
    expect(['passwd', 'shadow', 'group', 'gshadow'].map((f) => sys(f))).toEqual(before);
    const table = (f: string) => readFileSync(join(accountsDir, f), 'utf8');
    expect(table('passwd')).toMatch(/^tech:x:1000:1000:/m);
    expect(table('shadow')).toContain(`tech:${HASH6}:`);
    expect(table('group')).toMatch(/^posd:x:900:tech$/m);
    expect(statSync(join(accountsDir, 'shadow')).mode & 0o777).toBe(0o640);
    const inode = statSync(join(accountsDir, 'passwd')).ino;
    // The next boot: a refused file; the kept login is applied all the same, in place.
    writeFileSync(join(accountsDir, 'passwd'), sys('passwd'));
    writeFileSync(
      join(boot, 'posd-provision.json'),
      JSON.stringify({ ...good(), brokerUrl: 'mqtts://rogue:8883' }),
    );
    const r = runScript(join(boot, 'posd-provision.json'), env);
    expect(r.status).toBe(1);
    expect(table('passwd')).toMatch(/^tech:x:1000:1000:/m);
    expect(statSync(join(accountsDir, 'passwd')).ino).toBe(inode);
  });
});

describe('provisioning once', () => {
  const fleet = generateKeyPairSync('ed25519');
  const fleetPub = fleet.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const rogue = generateKeyPairSync('ed25519');

  function signed(
    doc: Record<string, unknown>,
    opts: { version: number; forDevice?: string; key?: KeyObject },
  ): Record<string, unknown> {
    const env = {
      version: opts.version,
      issuedAt: '2026-12-01T10:00:00.000Z',
      forDevice: opts.forDevice ?? 'T0001',
      doc,
    };
    const sig = sign(null, Buffer.from(provisioningSigningText(env)), opts.key ?? fleet.privateKey);
    return { ...env, sig: sig.toString('base64') };
  }

  const rogueDoc = () => ({
    ...good(),
    brokerUrl: 'mqtts://rogue.example:8883',
    cloudPublicKey: keys.rogueCloudPub,
  });
  const snapshot = () =>
    ['posd.json', 'provisioned.json', 'tls/client.crt', 'private/mqtt-client.key'].map((f) =>
      readFileSync(join(etc, f), 'utf8'),
    );
  const refusal = () => JSON.parse(readFileSync(join(state, 'provisioning-refused.json'), 'utf8'));

  beforeEach(() => {
    expect(provision({ ...good(), provisioningPublicKey: fleetPub }).status).toBe(0);
  });

  it('refuses a changed unsigned file on a provisioned device: broker, cloud key and key kept, refusal kept for posd', () => {
    const before = snapshot();
    const r = provision(rogueDoc());
    expect(r.status).toBe(1);
    expect(r.out).toMatch(
      /REJECTED .*nothing was installed; device T0001 keeps its identity, broker and cloud key/,
    );
    expect(r.out).toMatch(/must be signed by the fleet's provisioning key/);
    expect(snapshot()).toEqual(before);
    expect(config().mqtt.url).toBe('mqtts://broker.example:8883');
    expect(config().cloud.publicKey).toBe(keys.cloudPub.trim());
    expect(existsSync(join(boot, 'posd-provision.rejected.json'))).toBe(true);
    expect(refusal()).toMatchObject({ code: 'UNSIGNED', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(statSync(join(state, 'provisioning-refused.json')).mode & 0o777).toBe(0o640);
  });

  it('applies a file signed by the fleet key for this device, and forgets the refusal', () => {
    provision(rogueDoc());
    const r = provision(signed({ ...good(), brokerUrl: 'mqtts://broker2.example:8883' }, { version: 1 }));
    expect(r.out).toMatch(/signed by the fleet provisioning key \(version 1\)/);
    expect(r.status).toBe(0);
    expect(config().mqtt.url).toBe('mqtts://broker2.example:8883');
    expect(JSON.parse(readFileSync(join(etc, 'provisioned.json'), 'utf8'))).toMatchObject({
      deviceId: 'T0001',
      version: 1,
      fleetKey: fleetPub.trim(),
      how: 'signed',
    });
    expect(existsSync(join(state, 'provisioning-refused.json'))).toBe(false);
  });

  it.each([
    [
      'signed by another key',
      () => signed(rogueDoc(), { version: 1, key: rogue.privateKey }),
      'BAD_SIGNATURE',
    ],
    [
      'signed for another terminal',
      () => signed(rogueDoc(), { version: 1, forDevice: 'T0002' }),
      'WRONG_DEVICE',
    ],
    [
      'a signed file with its doc changed',
      () => ({ ...signed(good(), { version: 1 }), doc: rogueDoc() }),
      'BAD_SIGNATURE',
    ],
    [
      'a signed file missing its version',
      () => {
        const { version: _v, ...rest } = signed(rogueDoc(), { version: 1 });
        return rest;
      },
      'MALFORMED',
    ],
  ])('refuses %s', (_n, make, code) => {
    const before = snapshot();
    expect(provision(make()).status).toBe(1);
    expect(refusal().code).toBe(code);
    expect(snapshot()).toEqual(before);
  });

  it('refuses a signed file replayed (its version not above the applied one)', () => {
    const first = signed({ ...good(), brokerUrl: 'mqtts://broker2.example:8883' }, { version: 2 });
    expect(provision(first).status).toBe(0);
    const before = snapshot();
    expect(provision(signed(rogueDoc(), { version: 2 })).status).toBe(1);
    expect(refusal().code).toBe('OLD_VERSION');
    expect(provision(first).status).toBe(1);
    expect(snapshot()).toEqual(before);
  });

  it('a technician reset on the device allows one unsigned file, then is used up', () => {
    allowReset();
    const r = provision({ ...good(), brokerUrl: 'mqtts://broker3.example:8883' });
    expect(r.out).toMatch(/applied after the technician reset made on this device/);
    expect(r.status).toBe(0);
    expect(config().mqtt.url).toBe('mqtts://broker3.example:8883');
    expect(existsSync(join(etc, 'technician/allow-provisioning'))).toBe(false);
    // The fleet key of the first file is kept: signed files still work after a reset.
    expect(provision(rogueDoc()).status).toBe(1);
    expect(provision(signed(good(), { version: 1 })).status).toBe(0);
  });

  it('an expired technician reset (over 24 hours) allows nothing', () => {
    allowReset(new Date(Date.now() - 25 * 3600_000));
    expect(provision(rogueDoc()).status).toBe(1);
    expect(refusal().code).toBe('UNSIGNED');
    expect(existsSync(join(etc, 'technician/allow-provisioning'))).toBe(false);
  });

  it('a damaged provisioned.json still counts as provisioned: unsigned refused, a reset allows one file', () => {
    writeFileSync(join(etc, 'provisioned.json'), '{"deviceId": ');
    const before = readFileSync(join(etc, 'posd.json'), 'utf8');
    const r = provision(rogueDoc());
    expect(r.out).toMatch(/provisioned\.json is damaged/);
    expect(r.status).toBe(1);
    expect(readFileSync(join(etc, 'posd.json'), 'utf8')).toBe(before);
    expect(provision(signed(rogueDoc(), { version: 5 })).status).toBe(1);
    allowReset();
    expect(provision(good()).status).toBe(0);
  });

  it('a device provisioned by an earlier image (no provisioned.json): unsigned refused, its key moved root-only', () => {
    rmSync(join(etc, 'provisioned.json'));
    const cfg = config();
    cfg.mqtt.key = join(etc, 'tls/client.key');
    writeFileSync(join(etc, 'posd.json'), JSON.stringify(cfg));
    writeFileSync(join(etc, 'tls/client.key'), keys.key);
    rmSync(join(etc, 'private'), { recursive: true });
    const r = provision(rogueDoc());
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/the client key moved/);
    expect(config().mqtt).toMatchObject({
      url: 'mqtts://broker.example:8883',
      key: 'credential:posd_mqtt-client.key',
    });
    expect(readFileSync(join(etc, 'private/mqtt-client.key'), 'utf8')).toBe(keys.key);
    expect(existsSync(join(etc, 'tls/client.key'))).toBe(false);
  });
});
