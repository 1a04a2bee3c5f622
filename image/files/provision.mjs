#!/usr/bin/node
// Provisioning (posd-provision.service, before posd.service): reads the provisioning file a technician
// put on the boot partition, decides whether this device may take it, validates all of it, installs
// the terminal's identity into /etc/posd, and removes the file (it holds the client's private key).
//
// Provisioning once (docs/operations.md "Provisioning"): a device takes its first file as it is; once
// provisioned, a new file must be signed by the fleet's provisioning key (the one the last applied
// file named in `provisioningPublicKey`; the rules are src/config/provisioning.ts, from posd's build
// in POSD_APP_DIR), or follow a technician reset made on the device (`posd-provisioning-reset`).
// A refused or bad file changes nothing: every problem is printed (console and journal), written to
// /var/lib/posd/provisioning-refused.json (posd reports it in P/up/state `extensions`), the file is
// renamed to posd-provision.rejected.json so the next boot does not try it again, and the unit fails.
//
// The device key (docs/security.md): the client key goes to /etc/posd/private (root only); posd gets
// it as a systemd credential (LoadCredential=posd:/etc/posd/private), never the technician.
//
// Technician login (optional `technician: { passwordHash }`): user tech, see technician.mjs. The
// hash is kept in /etc/posd/technician.hash (root 0600, data partition) and applied at every boot.
// The hash is never printed.
//   provision.mjs [--root DIR]   DIR: the system root whose /etc and /home get the user (default /)
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { chown } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { accounts, HASH, TECH } from './technician.mjs';

const SOURCE = process.env.POSD_PROVISION_FILE ?? '/boot/efi/posd-provision.json';
const ETC = process.env.POSD_PROVISION_ETC ?? '/etc/posd';
const STATE = process.env.POSD_PROVISION_STATE ?? '/var/lib/posd';
const APP = process.env.POSD_APP_DIR ?? '/opt/posd';
const POSD_GID = Number(process.env.POSD_PROVISION_GID ?? 900);
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const { values: args } = parseArgs({ options: { root: { type: 'string' } } });
const SYSROOT = args.root ?? process.env.POSD_PROVISION_ROOT ?? '/';
const PRIVATE = join(ETC, 'private');
const KEY_FILE = join(PRIVATE, 'mqtt-client.key');
/** The credential name posd.service gives the key: LoadCredential=posd:/etc/posd/private. */
const KEY_CREDENTIAL = 'credential:posd_mqtt-client.key';
const STATE_FILE = join(ETC, 'provisioned.json');
const { decideProvisioning, REFUSAL_FILE } = await import(
  pathToFileURL(join(APP, 'dist/src/config/provisioning.js')).href
);
const tech = accounts({ sysroot: SYSROOT, etc: ETC, accountsDir: process.env.POSD_PROVISION_ACCOUNTS });

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
    'provisioningPublicKey',
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
  if (doc.provisioningPublicKey !== undefined) {
    try {
      const pub = createPublicKey(String(doc.provisioningPublicKey));
      if (pub.asymmetricKeyType !== 'ed25519') {
        problems.push(`provisioningPublicKey: must be an Ed25519 key, got ${pub.asymmetricKeyType}`);
      }
    } catch (err) {
      problems.push(`provisioningPublicKey: not a PEM public key (${err.message})`);
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

function writeDurably(path, text) {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o640);
  writeSync(fd, text);
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
}

/** What the device holds from its last provisioning; a device provisioned before this file existed counts too. */
function readState() {
  if (existsSync(STATE_FILE)) {
    try {
      const held = JSON.parse(readFileSync(STATE_FILE, 'utf8'));
      if (typeof held.deviceId === 'string' && Number.isSafeInteger(held.version)) return held;
    } catch {}
    // Damaged: still provisioned, but with no fleet key to trust (only a technician reset helps).
    say(`${STATE_FILE} is damaged: only a file after a technician reset can be applied`);
    return { deviceId: 'unknown', version: 0 };
  }
  const cfgPath = join(ETC, 'posd.json');
  if (!existsSync(cfgPath)) return undefined;
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  if (!cfg.mqtt?.url || !cfg.device?.id || cfg.device.id === 'unprovisioned') return undefined;
  return { deviceId: cfg.device.id, version: 0 };
}

async function writeOwned(path, text, mode, gid) {
  writeDurably(path, text);
  chmodSync(path, mode);
  await chown(path, 0, gid);
}

/** The client key root-only, outside the directory the technician can read (item: the device key). */
async function installKey(pem) {
  mkdirSync(PRIVATE, { recursive: true, mode: 0o700 });
  chmodSync(PRIVATE, 0o700);
  await chown(PRIVATE, 0, 0);
  await writeOwned(KEY_FILE, `${String(pem).trim()}\n`, 0o600, 0);
}

/**
 * A device provisioned by an earlier image keeps its key in /etc/posd/tls (group posd): moved to
 * /etc/posd/private and named in the config as posd.service's credential. Nothing else changes.
 */
async function migrateKey() {
  const cfgPath = join(ETC, 'posd.json');
  if (!existsSync(cfgPath)) return;
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  const old = cfg.mqtt?.key;
  if (typeof old !== 'string' || old.startsWith('credential:') || !existsSync(old)) return;
  await installKey(readFileSync(old, 'utf8'));
  cfg.mqtt.key = KEY_CREDENTIAL;
  await writeOwned(cfgPath, `${JSON.stringify(cfg, null, 2)}\n`, 0o640, POSD_GID);
  rmSync(old);
  say(`the client key moved from ${old} to ${KEY_FILE} (root only; posd reads it as a credential)`);
}

async function install(doc, decision, state) {
  const tls = join(ETC, 'tls');
  await writeOwned(join(tls, 'client.crt'), `${String(doc.clientCert).trim()}\n`, 0o640, POSD_GID);
  if (doc.caCert) await writeOwned(join(tls, 'ca.crt'), `${String(doc.caCert).trim()}\n`, 0o640, POSD_GID);
  await installKey(doc.clientKey);
  rmSync(join(tls, 'client.key'), { force: true });
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
      key: KEY_CREDENTIAL,
      ...(doc.caCert ? { ca: join(tls, 'ca.crt') } : {}),
    },
    cloud: { publicKey: String(doc.cloudPublicKey).trim() },
  };
  if (!doc.caCert && config.mqtt.ca === join(tls, 'ca.crt')) delete config.mqtt.ca;
  await writeOwned(cfgPath, `${JSON.stringify(config, null, 2)}\n`, 0o640, POSD_GID);
  const fleetKey = doc.provisioningPublicKey ? String(doc.provisioningPublicKey).trim() : state?.fleetKey;
  const held = {
    deviceId: doc.deviceId,
    version: decision.version,
    ...(fleetKey ? { fleetKey } : {}),
    how: decision.how,
    at: new Date().toISOString(),
  };
  await writeOwned(STATE_FILE, `${JSON.stringify(held, null, 2)}\n`, 0o640, POSD_GID);
  if (doc.technician) {
    await writeOwned(tech.techHash, `${doc.technician.passwordHash}\n`, 0o600, 0);
    tech.apply(doc.technician.passwordHash);
    say(`technician login ${TECH.name} enabled (console and tty2; groups ${TECH.groups.join(', ')})`);
  } else if (tech.lock()) {
    say(`no technician in the file: the ${TECH.name} login is locked`);
  }
}

function syncDir(dir) {
  const fd = openSync(dir, 'r');
  fsyncSync(fd);
  closeSync(fd);
}

/** Refused: nothing installed; the file set aside; the refusal kept for posd (P/up/state) and printed. */
async function refuse(code, problems, raw, state) {
  const rejected = join(dirname(SOURCE), 'posd-provision.rejected.json');
  renameSync(SOURCE, rejected);
  syncDir(dirname(SOURCE));
  const keeps = state
    ? `device ${state.deviceId} keeps its identity, broker and cloud key`
    : 'posd keeps its current config (offline until provisioned)';
  say(`REJECTED ${SOURCE}: nothing was installed; ${keeps}`);
  for (const p of problems) say(`  ${p}`);
  say(`the file was renamed to ${rejected}; fix it and put it back as ${SOURCE}`);
  const refusal = {
    at: new Date().toISOString(),
    code,
    reasons: problems,
    ...(raw ? { sha256: createHash('sha256').update(raw).digest('hex') } : {}),
  };
  try {
    if (existsSync(STATE))
      await writeOwned(join(STATE, REFUSAL_FILE), `${JSON.stringify(refusal)}\n`, 0o640, POSD_GID);
  } catch (err) {
    say(`could not keep the refusal for posd (${err.message})`);
  }
  return 1;
}

async function main() {
  await migrateKey();
  // Every boot: the kept technician login, onto the slot's own tables (a refused file keeps it too).
  let kept = false;
  if (existsSync(tech.techHash)) {
    const hash = readFileSync(tech.techHash, 'utf8').trim();
    if (HASH.some((re) => re.test(hash))) {
      tech.apply(hash);
      kept = true;
    } else say(`${tech.techHash}: not a $6$ or $y$ hash; technician login not applied`);
  }
  if (!existsSync(SOURCE)) {
    say(`no ${SOURCE}: nothing to provision${kept ? `; technician login ${TECH.name} kept` : ''}`);
    return existsSync(tech.techHash) && !kept ? 1 : 0;
  }
  const raw = readFileSync(SOURCE);
  const state = readState();
  let file;
  try {
    file = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    return refuse('MALFORMED', [`(file): not valid JSON (${err.message})`], raw, state);
  }
  const reset = state ? tech.resetAllowed() : undefined;
  const decision = decideProvisioning(file, state, reset !== undefined);
  if (!decision.accept) return refuse(decision.code, [decision.reason], raw, state);
  const problems = validate(decision.doc).problems;
  if (problems.length > 0) return refuse('INVALID', problems, raw, state);
  await install(decision.doc, decision, state);
  rmSync(join(STATE, REFUSAL_FILE), { force: true });
  if (decision.how === 'reset') {
    tech.consumeReset();
    say(`applied after the technician reset made on this device at ${reset.at} (the reset is used up)`);
  }
  if (decision.how === 'signed') say(`signed by the fleet provisioning key (version ${decision.version})`);
  rmSync(SOURCE);
  syncDir(dirname(SOURCE));
  const doc = decision.doc;
  say(
    `provisioned device ${doc.deviceId} of tenant ${doc.tenant} (broker ${doc.brokerUrl}); ${SOURCE} removed`,
  );
  return 0;
}

process.exitCode = await main();
