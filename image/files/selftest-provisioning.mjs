// The self-test's provisioning, technician and read-only root checks (see selftest.mjs).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import {
  asTech,
  CREDENTIAL,
  cmdline,
  config,
  Failure,
  fail,
  journal,
  KEY,
  mode,
  passwdEntry,
  STATE,
  say,
  sha256,
  show,
  sleep,
} from './selftest-lib.mjs';

export function checkProvisioned() {
  const p = show('posd-provision.service', 'Result', 'ExecMainStatus');
  if (p.Result !== 'success' || p.ExecMainStatus !== '0') fail(`provisioning: unit result ${p.Result}`);
  if (existsSync('/boot/efi/posd-provision.json')) fail('provisioning: the file was not removed');
  const cfg = config();
  if (cfg.device?.id === 'unprovisioned' || !cfg.mqtt?.url) fail('provisioning: config not installed');
  for (const f of ['/etc/posd/posd.json', '/etc/posd/tls/client.crt', '/etc/posd/provisioned.json']) {
    const st = statSync(f);
    if ((st.mode & 0o777) !== 0o640 || st.uid !== 0 || st.gid !== 900) {
      fail(`provisioning: ${f} is ${(st.mode & 0o777).toString(8)} ${st.uid}:${st.gid}, not 640 root:posd`);
    }
  }
  // The device key: root only, given to posd as a credential (LoadCredential=).
  const key = statSync(KEY);
  if ((key.mode & 0o777) !== 0o600 || key.uid !== 0 || key.gid !== 0)
    fail(`device key: ${KEY} is ${(key.mode & 0o777).toString(8)} ${key.uid}:${key.gid}, not 600 root:root`);
  if (existsSync('/etc/posd/tls/client.key')) fail('device key: a copy is left in /etc/posd/tls');
  if (cfg.mqtt.key !== 'credential:posd_mqtt-client.key')
    fail(`device key: config mqtt.key is ${cfg.mqtt.key}`);
  if (!existsSync(CREDENTIAL)) fail(`device key: posd was not given the credential ${CREDENTIAL}`);
  say(`provisioned as ${cfg.device.tenant}/${cfg.device.id}, broker ${cfg.mqtt.url}`);
}

export function checkTechnician() {
  const entry = passwdEntry('tech');
  if (!entry) fail('technician: no user tech in /etc/passwd');
  const [, , uid, , , home, shell] = entry.split(':');
  if (uid === '0') fail('technician: tech has uid 0');
  if (!['/bin/bash', '/bin/sh'].includes(shell) || !existsSync(shell)) fail(`technician: shell ${shell}`);
  const shadow = readFileSync('/etc/shadow', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('tech:'));
  if (!/^tech:\$(6|y)\$/.test(shadow ?? '')) fail('technician: no $6$/$y$ hash for tech in /etc/shadow');
  if (!existsSync('/etc/posd/technician.hash')) fail('technician: hash not kept on the data partition');
  const groups = execFileSync('id', ['-Gn', 'tech'], { encoding: 'utf8' }).trim().split(/\s+/);
  for (const g of ['systemd-journal', 'posd'])
    if (!groups.includes(g)) fail(`technician: not in ${g} (${groups})`);
  for (const g of ['root', 'sudo', 'wheel', 'adm', 'shadow', 'disk'])
    if (groups.includes(g)) fail(`technician: in group ${g}`);
  const root = passwdEntry('root')?.split(':');
  const rootShadow = readFileSync('/etc/shadow', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('root:'))
    ?.split(':')[1];
  if (!root || !/^[!*]/.test(rootShadow ?? '')) fail('technician: root is not locked');
  // Login prompts: the serial console's getty (from console= on the command line) and tty2.
  const consoleTty = /(?:^|\s)console=(ttyS\d+|ttyAMA\d+)/.exec(cmdline)?.[1];
  if (consoleTty) {
    const g = show(`serial-getty@${consoleTty}.service`, 'ActiveState');
    if (g.ActiveState !== 'active') fail(`technician: serial-getty@${consoleTty} is ${g.ActiveState}`);
  }
  const tty2 = spawnSync('systemctl', ['is-enabled', 'getty@tty2.service'], { encoding: 'utf8' });
  if (tty2.stdout.trim() !== 'enabled') fail(`technician: getty@tty2 is ${tty2.stdout.trim()}`);
  // The device key is out of the technician's reach: the file, its directory, posd's credential.
  for (const f of [KEY, CREDENTIAL]) {
    const r = asTech('cat', f);
    if (r.status === 0 || !/Permission denied/.test(r.out))
      fail(`technician: cat ${f} as tech: exit ${r.status} ${r.out.slice(0, 120)}`);
  }
  if (asTech('ls', '/etc/posd/private').status === 0) fail('technician: can list /etc/posd/private');
  say('technician: the device key (file and credential) is not readable as tech');
  // The journal: posd's own lines, not journalctl's "insufficient permissions" hint.
  const j = asTech('journalctl', '-b', '-u', 'posd', '-o', 'cat', '--no-pager');
  const lines = j.out.split('\n').filter((l) => l.startsWith('{'));
  if (j.status !== 0 || lines.length === 0 || /insufficient permissions|No journal files/i.test(j.out)) {
    fail(`technician: journalctl -u posd as tech: exit ${j.status}, ${j.out.slice(0, 300)}`);
  }
  // posd doctor as tech, as docs/operations.md says. Its exit code is not checked: offline under QEMU
  // the broker (broker.invalid) is unreachable, and tech may not write /var/lib/posd (state dir), so
  // doctor exits 1; what matters is that it read the config and the ledger beside the daemon.
  const d = asTech('posd', 'doctor', '--config', '/etc/posd/posd.json');
  const ledger = /ledger\s+last seq (\d+), acked (\d+), outbox (\d+)/.exec(d.out);
  if (!ledger || Number(ledger[1]) < 1 || !/ok\s+config/.test(d.out)) {
    fail(
      `technician: posd doctor as tech (exit ${d.status}): ${d.out.replaceAll('\n', ' | ').slice(0, 500)}`,
    );
  }
  say(
    `technician tech (uid ${uid}, ${shell}, groups ${groups.join(',')}, home ${home}): journalctl -u posd ${lines.length} lines; posd doctor exit ${d.status}: ${ledger[0]}`,
  );
  for (const l of d.out.trim().split('\n')) say(`  doctor: ${l}`);
}

/**
 * A switch to the other root slot, simulated: that slot's /etc has no tech (it was built without
 * one). posd-provision.service runs at every boot while /etc/posd/technician.hash exists, so a start
 * of the unit (what the next boot does, in its real sandbox) must bring the same login back.
 */
export async function checkTechnicianAfterSlotSwitch() {
  const hashBefore = readFileSync('/etc/shadow', 'utf8').match(/^tech:([^:]*):/m)?.[1];
  for (const f of ['/etc/passwd', '/etc/shadow', '/etc/group', '/etc/gshadow']) {
    const rows = readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('tech:'))
      .map((l) => {
        if (!f.includes('group')) return l;
        const r = l.split(':');
        r[3] = (r[3] ?? '')
          .split(',')
          .filter((m) => m && m !== 'tech')
          .join(',');
        return r.join(':');
      });
    writeFileSync(f, `${rows.join('\n')}\n`);
  }
  if (passwdEntry('tech')) fail('slot switch: tech still in /etc/passwd');
  spawnSync('systemctl', ['start', 'posd-provision.service'], { encoding: 'utf8' });
  const p = show('posd-provision.service', 'Result', 'ExecMainStatus');
  if (p.Result !== 'success' || p.ExecMainStatus !== '0') fail(`slot switch: posd-provision ${p.Result}`);
  const hashAfter = readFileSync('/etc/shadow', 'utf8').match(/^tech:([^:]*):/m)?.[1];
  if (!hashAfter || hashAfter !== hashBefore) fail('slot switch: tech not restored with its hash');
  const groups = execFileSync('id', ['-Gn', 'tech'], { encoding: 'utf8' }).trim().split(/\s+/);
  if (!groups.includes('systemd-journal') || !groups.includes('posd'))
    fail(`slot switch: tech groups ${groups}`);
  // The unit's last line may reach the journal a moment after `systemctl start` returns.
  for (let i = 0; !/technician login tech kept/.test(journal('posd-provision.service')); i++) {
    if (i === 20) fail('slot switch: no "technician login tech kept" in the journal');
    await sleep(250);
  }
  say('technician login restored from /etc/posd/technician.hash on a root slot without tech');
}

export function checkRejected() {
  const p = show('posd-provision.service', 'Result');
  if (p.Result !== 'exit-code') fail(`bad provisioning file: unit result ${p.Result}, expected a failure`);
  const log = journal('posd-provision.service');
  if (!/REJECTED/.test(log)) fail('bad provisioning file: no REJECTED message in the journal');
  if (!existsSync('/boot/efi/posd-provision.rejected.json')) fail('bad provisioning file: not set aside');
  const cfg = config();
  if (cfg.device?.id !== 'unprovisioned' || cfg.mqtt?.url) fail('bad provisioning file: config was changed');
  if (passwdEntry('tech')) fail('bad provisioning file: a tech account was made');
  say('bad provisioning file rejected; posd runs on the offline default config');
}

/** A locked boot: the root slot is read-only; what changes lives on the data partition or in memory. */
export function checkReadOnlyRoot() {
  const mnt = (what, path) => execFileSync('findmnt', ['-n', '-o', what, path], { encoding: 'utf8' }).trim();
  const opts = mnt('OPTIONS', '/');
  if (!opts.split(',').includes('ro')) fail(`read-only root: / is mounted ${opts}`);
  try {
    writeFileSync('/usr/lib/posd/.selftest', 'x');
    fail('read-only root: /usr/lib/posd was written');
  } catch (err) {
    if (err instanceof Failure) throw err;
    if (err.code !== 'EROFS') fail(`read-only root: writing /usr/lib/posd: ${err.code}`);
  }
  if (mnt('FSTYPE', '/var') !== 'overlay')
    fail(`read-only root: /var is ${mnt('FSTYPE', '/var')}, not the overlay`);
  for (const dir of ['/var/tmp', '/tmp', '/var/log/journal']) writeFileSync(`${dir}/.selftest`, 'x');
  const failed = execFileSync('systemctl', ['--failed', '--no-legend', '--plain'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((u) => u && !(u === 'posd-provision.service' && mode !== 'provisioned'));
  if (failed.length > 0) fail(`read-only root: failed units ${failed.join(', ')}`);
  say(
    `root read-only (${opts.split(',').slice(0, 2).join(',')}); /var an overlay on the data partition; no failed units`,
  );
}

export const BROKER = {
  first: 'mqtts://broker.invalid:8883',
  signed: 'mqtts://broker2.invalid:8883',
  reset: 'mqtts://broker3.invalid:8883',
};

export async function provisionAgain(file) {
  renameSync(`/boot/efi/${file}`, '/boot/efi/posd-provision.json');
  spawnSync('systemctl', ['start', 'posd-provision.service'], { encoding: 'utf8' });
  return show('posd-provision.service', 'Result').Result;
}

/**
 * The second boot of the provisioned disk: test.sh put a changed, unsigned file on the boot
 * partition (a rogue broker and cloud key). It must be refused and change nothing; then the fleet's
 * signed file is applied, and one unsigned file after a technician reset, as the next boots would.
 */
export async function checkReprovision() {
  const p = show('posd-provision.service', 'Result');
  if (p.Result !== 'exit-code') fail(`unsigned file: posd-provision result ${p.Result}, expected a refusal`);
  const log = journal('posd-provision.service');
  if (!/REJECTED[\s\S]*must be signed by the fleet's provisioning key/.test(log))
    fail(`unsigned file: no refusal in the journal: ${log.slice(-300)}`);
  const cfg = config();
  const wantKey = /(?:^|\s)posd\.selftest\.cloudkey=([0-9a-f]{64})/.exec(cmdline)?.[1];
  if (cfg.mqtt?.url !== BROKER.first) fail(`unsigned file: broker changed to ${cfg.mqtt?.url}`);
  if (sha256(cfg.cloud?.publicKey) !== wantKey) fail('unsigned file: the cloud key changed');
  if (!existsSync(KEY) || !existsSync('/boot/efi/posd-provision.rejected.json'))
    fail('unsigned file: key gone or file not set aside');
  const refusal = JSON.parse(readFileSync(`${STATE}/provisioning-refused.json`, 'utf8'));
  if (refusal.code !== 'UNSIGNED') fail(`unsigned file: refusal kept as ${refusal.code}`);
  // posd read it at start: what it reports in P/up/state (extensions.provisioningRefused).
  if (!/a provisioning file was refused/.test(journal('posd.service')))
    fail('unsigned file: posd did not report the refusal');
  if (!passwdEntry('tech')) fail('unsigned file: the technician login was lost');
  say(`unsigned file refused (${refusal.code}); broker ${cfg.mqtt.url} and cloud key kept; posd reports it`);

  if ((await provisionAgain('posd-provision.signed.json')) !== 'success')
    fail(`signed file: ${journal('posd-provision.service').slice(-300)}`);
  if (config().mqtt?.url !== BROKER.signed) fail(`signed file: broker is ${config().mqtt?.url}`);
  if (existsSync(`${STATE}/provisioning-refused.json`)) fail('signed file: the refusal is still reported');
  say(`file signed by the fleet provisioning key applied: broker ${config().mqtt.url}`);

  const r = asTech('posd-provisioning-reset');
  if (r.status !== 0) fail(`reset: posd-provisioning-reset as tech: ${r.out}`);
  if ((await provisionAgain('posd-provision.reset.json')) !== 'success')
    fail(`after reset: ${journal('posd-provision.service').slice(-300)}`);
  if (config().mqtt?.url !== BROKER.reset) fail(`after reset: broker is ${config().mqtt?.url}`);
  if (existsSync('/etc/posd/technician/allow-provisioning')) fail('after reset: the reset was not used up');
  say(`after a technician reset on the device, one unsigned file applied: broker ${config().mqtt.url}`);
}
