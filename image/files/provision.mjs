#!/usr/bin/node
// First-boot provisioning (posd-provision.service, before posd.service): reads the provisioning file a
// technician put on the boot partition, validates all of it, installs the terminal's identity into
// /etc/posd with root:posd 0640 files, and removes the file (it holds the client's private key).
// A bad file changes nothing: every problem is printed (console and journal), the file is renamed to
// posd-provision.rejected.json so the next boot does not try it again, the unit fails (visible in
// `systemctl --failed`) and posd keeps running on the config it had (offline by default).
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { chown } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const SOURCE = process.env.POSD_PROVISION_FILE ?? '/boot/efi/posd-provision.json';
const ETC = process.env.POSD_PROVISION_ETC ?? '/etc/posd';
const POSD_GID = Number(process.env.POSD_PROVISION_GID ?? 900);
const ID = /^[A-Za-z0-9_-]{1,64}$/;

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
  return { problems, value: problems.length === 0 ? doc : undefined };
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
}

function syncDir(dir) {
  const fd = openSync(dir, 'r');
  fsyncSync(fd);
  closeSync(fd);
}

async function main() {
  if (!existsSync(SOURCE)) {
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
