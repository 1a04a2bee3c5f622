// The image's self-test (posd-selftest.service), run only when the kernel command line has
// posd.selftest=MODE: image/test.sh boots the image under QEMU and reads the marker this prints on
// the serial console, `POSD-SELFTEST: PASS` or `POSD-SELFTEST: FAIL <reason>`; the unit then powers
// the machine off either way.
//   MODE provisioned  a valid provisioning file was on the boot partition: it must be installed
//   MODE reprovision  the provisioned disk again, with a changed unsigned file: refused, nothing
//                     changed; then a signed file and one after a technician reset are applied
//   MODE rejected     a bad one was: it must be refused, and posd must run offline without restarts
//   MODE 1            no provisioning expectations
// Every mode: posd READY, the root read-only, no failed unit. All but reprovision: /healthz, one
// cash sale through the local API, udev rules loaded cleanly; with a display, the kiosk.
// provisioned and 1 also hang posd (SIGSTOP) and expect systemd's watchdog to restart it.
// provisioned also checks the technician login (user tech): its groups, `journalctl -u posd` and
// `posd doctor` run as tech, the device key not readable; rejected checks that no tech account was made.
// Parts: selftest-lib.mjs (helpers), selftest-provisioning.mjs, selftest-kiosk.mjs.
import { spawnSync } from 'node:child_process';
import { readFileSync, statfsSync, statSync } from 'node:fs';
import { kiosk } from './selftest-kiosk.mjs';
import {
  dataMin,
  Failure,
  fail,
  healthy,
  http,
  journal,
  mode,
  STATE,
  say,
  show,
  sleep,
  span,
  uptime,
  waitActive,
} from './selftest-lib.mjs';
import {
  checkProvisioned,
  checkReadOnlyRoot,
  checkRejected,
  checkReprovision,
  checkTechnician,
  checkTechnicianAfterSlotSwitch,
} from './selftest-provisioning.mjs';

async function sale(token) {
  const r = await http(
    'POST',
    '/api/v1/sales',
    { lines: [{ name: 'selftest', qty: 2, unitPrice: 350 }], tenders: [{ method: 'cash', amount: 1000 }] },
    token,
  );
  if (r.status !== 201 || r.json?.status !== 'completed' || r.json?.total !== 700 || r.json?.change !== 300) {
    fail(`sale: ${r.status} ${r.text.slice(0, 300)}`);
  }
  say(`sale ${r.json.saleId} completed, receipt ${r.json.receiptNo}`);
  return r.json.saleId;
}

async function watchdog(token, saleId) {
  const before = show('posd.service', 'MainPID', 'NRestarts', 'WatchdogUSec');
  const watchdogS = span(before.WatchdogUSec);
  if (!(watchdogS > 0)) fail(`watchdog: posd.service has no WatchdogSec (${before.WatchdogUSec})`);
  const t0 = uptime();
  process.kill(Number(before.MainPID), 'SIGSTOP');
  say(`posd (pid ${before.MainPID}) stopped with SIGSTOP; waiting for the watchdog`);
  const after = await waitActive(
    'watchdog',
    watchdogS + 180,
    (s) => s.MainPID !== before.MainPID && s.MainPID !== '0',
  );
  if (Number(after.NRestarts) !== Number(before.NRestarts) + 1) {
    fail(`watchdog: NRestarts ${before.NRestarts} -> ${after.NRestarts}`);
  }
  if (!/[Ww]atchdog timeout/.test(journal('posd.service')))
    fail('watchdog: no watchdog timeout in the journal');
  await healthy('after the watchdog restart');
  const s = await http('GET', `/api/v1/sales/${saleId}`, undefined, token);
  if (s.status !== 200 || s.json?.status !== 'completed')
    fail(`after restart: sale ${saleId} is ${s.status} ${s.text.slice(0, 200)}`);
  say(
    `watchdog restarted the hung posd (pid ${after.MainPID}) after ${(uptime() - t0).toFixed(1)} s; the sale survived`,
  );
}

async function main() {
  say(`start (mode ${mode})`);
  const ready = await waitActive('boot', 300);
  say(`READY ${(Number(ready.ActiveEnterTimestampMonotonic) / 1e6).toFixed(1)} s after kernel start`);
  if (dataMin > 0) {
    const fs = statfsSync('/data');
    const mib = Math.round((fs.blocks * fs.bsize) / 1048576);
    if (mib < dataMin)
      fail(`data partition: /data is ${mib} MiB, expected at least ${dataMin} MiB after growing`);
    say(`data partition grown to the disk: /data ${mib} MiB`);
  }
  checkReadOnlyRoot();
  if (mode === 'reprovision') {
    await checkReprovision();
    say('PASS');
    return;
  }
  if (mode === 'provisioned') checkProvisioned();
  if (mode === 'rejected') checkRejected();
  say(`healthz ${await healthy('boot')}`);
  const token = readFileSync(`${STATE}/ui-token`, 'utf8').trim();
  const st = statSync(`${STATE}/ui-token`);
  if ((st.mode & 0o777) !== 0o600 || st.uid !== 900)
    fail(`ui-token is ${(st.mode & 0o777).toString(8)} uid ${st.uid}`);
  const saleId = await sale(token);
  if (mode === 'provisioned') {
    checkTechnician();
    await checkTechnicianAfterSlotSwitch();
  }
  await kiosk();
  const udev = journal('systemd-udevd.service')
    .split('\n')
    .filter((l) => l.includes('99-posd.rules'));
  if (udev.length > 0) fail(`udev rules: ${udev[0]}`);
  if (mode === 'rejected') {
    await sleep(5000);
    const s = show('posd.service', 'NRestarts', 'ActiveState');
    if (s.NRestarts !== '0' || s.ActiveState !== 'active')
      fail(`offline mode: posd ${s.ActiveState}, ${s.NRestarts} restarts`);
  } else {
    await watchdog(token, saleId);
  }
  say('PASS');
}

/** On a failure: what the console alone does not show (provisioning's journal, the mounts). */
function diagnose() {
  const run = (cmd, ...a) => {
    const r = spawnSync(cmd, a, { encoding: 'utf8', timeout: 20_000 });
    return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-15);
  };
  for (const l of run('journalctl', '-b', '-u', 'posd-provision', '-o', 'cat', '--no-pager'))
    say(`  provision log: ${l}`);
  for (const l of run('findmnt', '-rn', '-o', 'TARGET,SOURCE,FSTYPE,OPTIONS', '/etc/passwd'))
    say(`  /etc/passwd: ${l}`);
  for (const l of run('ls', '-la', '/run/posd-accounts')) say(`  accounts: ${l}`);
  for (const l of run('systemctl', '--failed', '--no-legend', '--plain')) say(`  failed: ${l}`);
}

try {
  await main();
} catch (err) {
  diagnose();
  say(`FAIL ${err instanceof Failure ? err.message : err?.stack || err}`);
  process.exitCode = 1;
}
