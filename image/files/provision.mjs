#!/usr/bin/node
// First-boot provisioning (posd-provision.service, before posd.service): reads the provisioning file a
// technician put on the boot partition, validates all of it, installs the terminal's identity into
// /etc/posd with root:posd 0640 files, and removes the file (it holds the client's private key).
// A bad file changes nothing: every problem is printed (console and journal), the file is renamed to
// posd-provision.rejected.json so the next boot does not try it again, the unit fails (visible in
// `systemctl --failed`) and posd keeps running on the config it had (offline by default).
//
// Technician login (optional `technician: { passwordHash }`, a crypt(3) SHA-512 `$6$` or yescrypt
// `$y$` hash): the user `tech` (not root, no sudo; groups systemd-journal and posd, so it can read
// posd's journal and run `posd doctor`) is created in /etc/passwd, /etc/shadow, /etc/group and
// /etc/gshadow of the running root slot. /etc is on the root slot, which an update replaces: the
// hash is therefore also kept in /etc/posd/technician.hash (root:root 0600, on the data partition
// like the rest of the identity), and every boot re-applies it (the unit runs when that file exists),
// so a slot switch loses no access. A valid provisioning file without `technician` removes that file
// and locks the account. The hash is never printed.
//   provision.mjs [--root DIR]   DIR: the system root whose /etc and /home get the user (default /)
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { chown } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

const SOURCE = process.env.POSD_PROVISION_FILE ?? '/boot/efi/posd-provision.json';
const ETC = process.env.POSD_PROVISION_ETC ?? '/etc/posd';
const POSD_GID = Number(process.env.POSD_PROVISION_GID ?? 900);
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const { values: args } = parseArgs({ options: { root: { type: 'string' } } });
const SYSROOT = args.root ?? process.env.POSD_PROVISION_ROOT ?? '/';
const TECH_HASH = join(ETC, 'technician.hash');
const TECH = { name: 'tech', uid: 1000, gid: 1000, groups: ['systemd-journal', 'posd'] };
// crypt(3): SHA-512 ($6$, optional rounds=) or yescrypt ($y$params$salt$hash).
const HASH = [
  /^\$6\$(rounds=\d{4,9}\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$/,
  /^\$y\$[./0-9A-Za-z]+\$[./0-9A-Za-z]{1,86}\$[./0-9A-Za-z]{43}$/,
];

const say = (line) => process.stdout.write(`posd-provision: ${line}\n`);

/** @returns {{problems: string[], value?: object}} */
function validate(doc) {
  const problems = [];
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return { problems: ['(root): must be a JSON object'] };
  }
  const known = [
    'deviceId',
    'tenant',
    'brokerUrl',
    'clientCert',
    'clientKey',
    'caCert',
    'cloudPublicKey',
    'config',
    'technician',
  ];
  for (const key of Object.keys(doc)) if (!known.includes(key)) problems.push(`${key}: unknown key`);
  for (const key of ['deviceId', 'tenant']) {
    if (doc[key] === undefined) problems.push(`${key}: is required`);
    else if (typeof doc[key] !== 'string' || !ID.test(doc[key])) {
      problems.push(`${key}: must be 1 to 64 letters, digits, _ or -`);
    }
  }
  if (doc.brokerUrl === undefined) problems.push('brokerUrl: is required');
  else if (typeof doc.brokerUrl !== 'string' || !/^mqtts:\/\/[^/\s]+/.test(doc.brokerUrl)) {
    problems.push('brokerUrl: must be an mqtts:// URL (the client certificate needs TLS)');
  }
  let cert;
  if (doc.clientCert === undefined) problems.push('clientCert: is required');
  else {
    try {
      cert = new X509Certificate(String(doc.clientCert));
    } catch (err) {
      problems.push(`clientCert: not a PEM certificate (${err.message})`);
    }
  }
  let key;
  if (doc.clientKey === undefined) problems.push('clientKey: is required');
  else {
    try {
      key = createPrivateKey(String(doc.clientKey));
    } catch (err) {
      problems.push(`clientKey: not a PEM private key (${err.message})`);
    }
  }
  if (cert && key && !cert.checkPrivateKey(key)) problems.push('clientKey: does not belong to clientCert');
  if (cert) {
    const now = Date.now();
    if (Date.parse(cert.validTo) < now) problems.push(`clientCert: expired on ${cert.validTo}`);
  }
  if (doc.caCert !== undefined) {
    try {
      new X509Certificate(String(doc.caCert));
    } catch (err) {
      problems.push(`caCert: not a PEM certificate (${err.message})`);
    }
  }
  if (doc.cloudPublicKey === undefined) problems.push('cloudPublicKey: is required');
  else {
    try {
      const pub = createPublicKey(String(doc.cloudPublicKey));
      if (pub.asymmetricKeyType !== 'ed25519') {
        problems.push(`cloudPublicKey: must be an Ed25519 key, got ${pub.asymmetricKeyType}`);
      }
    } catch (err) {
      problems.push(`cloudPublicKey: not a PEM public key (${err.message})`);
    }
  }
  if (
    doc.config !== undefined &&
    (typeof doc.config !== 'object' || doc.config === null || Array.isArray(doc.config))
  ) {
    problems.push('config: must be an object of posd config keys (printer, scanner, display, ...)');
  }
  if (doc.technician !== undefined) {
    const t = doc.technician;
    if (typeof t !== 'object' || t === null || Array.isArray(t)) {
      problems.push('technician: must be an object { "passwordHash": "..." }');
    } else {
      for (const key of Object.keys(t)) {
        if (key !== 'passwordHash') problems.push(`technician.${key}: unknown key`);
      }
      if (t.passwordHash === undefined) problems.push('technician.passwordHash: is required');
      else if (typeof t.passwordHash !== 'string' || !HASH.some((re) => re.test(t.passwordHash))) {
        problems.push(
          'technician.passwordHash: must be a crypt(3) SHA-512 ($6$...) or yescrypt ($y$...) hash, as `openssl passwd -6` or `mkpasswd -m yescrypt` prints it (never a plain password)',
        );
      }
    }
  }
  return { problems, value: problems.length === 0 ? doc : undefined };
}

/** Rewrites a colon-separated account file (passwd, shadow, group, gshadow) atomically, keeping its owner and mode. */
function editTable(file, edit) {
  const path = join(SYSROOT, file);
  const st = statSync(path);
  const before = readFileSync(path, 'utf8');
  const rows = before
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split(':'));
  edit(rows);
  const after = `${rows.map((r) => r.join(':')).join('\n')}\n`;
  if (after === before) return false;
  const tmp = `${path}.posd-provision`;
  const fd = openSync(tmp, 'w', st.mode & 0o7777);
  writeSync(fd, after);
  fsyncSync(fd);
  closeSync(fd);
  chmodSync(tmp, st.mode & 0o7777);
  chownSync(tmp, st.uid, st.gid);
  renameSync(tmp, path);
  return true;
}

const row = (rows, name) => rows.find((r) => r[0] === name);

/** Creates or updates the technician account with this hash (idempotent: unchanged files are not rewritten). */
function applyTechnician(hash) {
  const shell = existsSync(join(SYSROOT, 'bin/bash')) ? '/bin/bash' : '/bin/sh';
  const home = `/home/${TECH.name}`;
  editTable('etc/group', (rows) => {
    for (const g of TECH.groups) if (!row(rows, g)) throw new Error(`group ${g} missing in /etc/group`);
    const own = row(rows, TECH.name);
    if (own) own[2] = String(TECH.gid);
    else {
      if (rows.some((r) => r[2] === String(TECH.gid))) throw new Error(`gid ${TECH.gid} is taken`);
      rows.push([TECH.name, 'x', String(TECH.gid), '']);
    }
    for (const r of rows) {
      const members = (r[3] ?? '').split(',').filter(Boolean);
      const want = TECH.groups.includes(r[0]);
      const has = members.includes(TECH.name);
      if (want && !has) members.push(TECH.name);
      if (!want && has) members.splice(members.indexOf(TECH.name), 1);
      r[3] = members.join(',');
    }
  });
  if (existsSync(join(SYSROOT, 'etc/gshadow'))) {
    editTable('etc/gshadow', (rows) => {
      if (!row(rows, TECH.name)) rows.push([TECH.name, '!', '', '']);
      for (const r of rows) {
        const members = (r[3] ?? '').split(',').filter(Boolean);
        const want = TECH.groups.includes(r[0]);
        const has = members.includes(TECH.name);
        if (want && !has && r.length >= 4) members.push(TECH.name);
        if (!want && has) members.splice(members.indexOf(TECH.name), 1);
        if (r.length >= 4) r[3] = members.join(',');
      }
    });
  }
  editTable('etc/passwd', (rows) => {
    const entry = [TECH.name, 'x', String(TECH.uid), String(TECH.gid), 'posd technician', home, shell];
    const own = row(rows, TECH.name);
    if (own) own.splice(0, own.length, ...entry);
    else {
      if (rows.some((r) => r[2] === String(TECH.uid))) throw new Error(`uid ${TECH.uid} is taken`);
      rows.push(entry);
    }
  });
  editTable('etc/shadow', (rows) => {
    const own = row(rows, TECH.name);
    const days = String(Math.floor(Date.now() / 86_400_000));
    if (own) {
      if (own[1] !== hash) {
        own[1] = hash;
        own[2] = days;
      }
    } else rows.push([TECH.name, hash, days, '0', '99999', '7', '', '', '']);
  });
  const homeDir = join(SYSROOT, home);
  if (!existsSync(homeDir)) {
    mkdirSync(homeDir, { recursive: true, mode: 0o700 });
    chownSync(homeDir, TECH.uid, TECH.gid);
  }
}

/** No technician in the provisioning file: the stored hash goes and the account (if any) is locked. */
function lockTechnician() {
  rmSync(TECH_HASH, { force: true });
  if (!existsSync(join(SYSROOT, 'etc/shadow'))) return false;
  let locked = false;
  editTable('etc/shadow', (rows) => {
    const own = row(rows, TECH.name);
    if (own && own[1] !== '!') {
      own[1] = '!';
      locked = true;
    }
  });
  return locked;
}

function writeDurably(path, text) {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o640);
  writeSync(fd, text);
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
}

async function install(doc) {
  const tls = join(ETC, 'tls');
  const files = [
    [join(tls, 'client.crt'), doc.clientCert],
    [join(tls, 'client.key'), doc.clientKey],
    ...(doc.caCert ? [[join(tls, 'ca.crt'), doc.caCert]] : []),
  ];
  for (const [path, text] of files) {
    writeDurably(path, `${String(text).trim()}\n`);
    await chown(path, 0, POSD_GID);
  }
  const cfgPath = join(ETC, 'posd.json');
  let base = {};
  if (existsSync(cfgPath)) base = JSON.parse(readFileSync(cfgPath, 'utf8'));
  const config = {
    ...base,
    ...(doc.config ?? {}),
    device: { tenant: doc.tenant, id: doc.deviceId },
    mqtt: {
      ...(base.mqtt ?? {}),
      url: doc.brokerUrl,
      cert: join(tls, 'client.crt'),
      key: join(tls, 'client.key'),
      ...(doc.caCert ? { ca: join(tls, 'ca.crt') } : {}),
    },
    cloud: { publicKey: String(doc.cloudPublicKey).trim() },
  };
  writeDurably(cfgPath, `${JSON.stringify(config, null, 2)}\n`);
  await chown(cfgPath, 0, POSD_GID);
  if (doc.technician) {
    writeDurably(TECH_HASH, `${doc.technician.passwordHash}\n`);
    chmodSync(TECH_HASH, 0o600);
    await chown(TECH_HASH, 0, 0);
    applyTechnician(doc.technician.passwordHash);
    say(`technician login ${TECH.name} enabled (console and tty2; groups ${TECH.groups.join(', ')})`);
  } else if (lockTechnician()) {
    say(`no technician in the file: the ${TECH.name} login is locked`);
  }
}

function syncDir(dir) {
  const fd = openSync(dir, 'r');
  fsyncSync(fd);
  closeSync(fd);
}

async function main() {
  if (!existsSync(SOURCE)) {
    if (existsSync(TECH_HASH)) {
      // Every boot after a provisioning with a technician: the root slot may be a new one.
      const hash = readFileSync(TECH_HASH, 'utf8').trim();
      if (!HASH.some((re) => re.test(hash))) {
        say(`${TECH_HASH}: not a $6$ or $y$ hash; technician login not applied`);
        return 1;
      }
      applyTechnician(hash);
      say(`no ${SOURCE}: nothing to provision; technician login ${TECH.name} kept`);
      return 0;
    }
    say(`no ${SOURCE}: nothing to provision`);
    return 0;
  }
  let doc;
  const problems = [];
  try {
    doc = JSON.parse(readFileSync(SOURCE, 'utf8'));
  } catch (err) {
    problems.push(`(file): not valid JSON (${err.message})`);
  }
  if (problems.length === 0) problems.push(...validate(doc).problems);
  if (problems.length > 0) {
    const rejected = join(dirname(SOURCE), 'posd-provision.rejected.json');
    renameSync(SOURCE, rejected);
    syncDir(dirname(SOURCE));
    say(
      `REJECTED ${SOURCE}: nothing was installed; posd keeps its current config (offline until provisioned)`,
    );
    for (const p of problems) say(`  ${p}`);
    say(`the file was renamed to ${rejected}; fix it and put it back as ${SOURCE}`);
    return 1;
  }
  await install(doc);
  rmSync(SOURCE);
  syncDir(dirname(SOURCE));
  say(
    `provisioned device ${doc.deviceId} of tenant ${doc.tenant} (broker ${doc.brokerUrl}); ${SOURCE} removed`,
  );
  return 0;
}

process.exitCode = await main();
