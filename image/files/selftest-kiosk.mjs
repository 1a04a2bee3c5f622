// The self-test's kiosk check (see selftest.mjs), with a display only (image/test.sh gives the VM a
// virtio-gpu display, a virtio tablet and a QMP socket):
//   1. sway and Chromium up (posd-kiosk.service), the managed policy in place;
//   2. KIOSK-UP on the console: test.sh takes QMP screendumps until the PIN keypad is on screen,
//      keeps it as a PNG, and taps the self-test cashier's PIN on it;
//   3. the kiosk's page signed in: /healthz lists an event-stream client with Chromium's user agent;
//   4. with a second screen, the customer page connected too (test.sh saw it on that screen);
//   5. memory with Chromium up (free memory, posd RSS, Chromium RSS and PSS);
//   6. Chromium killed: the unit starts it again.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fail, http, STATE, say, show, sleep, uptime } from './selftest-lib.mjs';

/** The PIN test.sh taps on the keypad (a cashier of the self-test only). */
export const KIOSK_PIN = '2468';
const POLICY = '/etc/chromium/policies/managed/posd.json';

const pids = () => readdirSync('/proc').filter((d) => /^\d+$/.test(d));
/**
 * A process's arguments. Chromium rewrites its own (setproctitle): /proc/PID/cmdline is then one
 * string with the arguments separated by spaces, not NULs, so both are split.
 */
export const argv = (pid) => {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((a) => a !== '');
    return raw.length === 1 ? raw[0].split(' ').filter((a) => a !== '') : raw;
  } catch {
    return [];
  }
};
/** Chromium's processes (/usr/bin/chromium is a wrapper script that execs the browser). */
const chromiumPids = () => pids().filter((pid) => argv(pid)[0]?.endsWith('/lib/chromium/chromium'));
/** The browser process: the one without --type= (zygotes, renderers, the GPU process have one). */
const browserPid = () =>
  chromiumPids().find(
    (pid) => argv(pid).includes('--kiosk') && !argv(pid).some((a) => a.startsWith('--type=')),
  );

/** KiB of a field of /proc/PID/status or smaps_rollup (0 when the process is gone). */
function kib(pid, file, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
const mib = (k) => Math.round(k / 1024);

/** Memory with Chromium up: free memory, posd's RSS, Chromium's RSS and PSS (all its processes). */
function memory() {
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(meminfo)?.[1] ?? 0);
  const posdPid = show('posd.service', 'MainPID').MainPID;
  const browsers = chromiumPids();
  const rss = browsers.reduce((t, pid) => t + kib(pid, 'status', 'VmRSS'), 0);
  const pss = browsers.reduce((t, pid) => t + kib(pid, 'smaps_rollup', 'Pss'), 0);
  say(
    `memory with Chromium up: MemTotal ${mib(field('MemTotal'))} MiB, MemAvailable ${mib(field('MemAvailable'))} MiB, MemFree ${mib(field('MemFree'))} MiB; ` +
      `posd RSS ${mib(kib(posdPid, 'status', 'VmRSS'))} MiB; Chromium ${browsers.length} processes RSS ${mib(rss)} MiB, PSS ${mib(pss)} MiB`,
  );
}

function kioskLog() {
  const unit = spawnSync(
    'journalctl',
    ['-b', '-u', 'posd-kiosk.service', '-o', 'short-monotonic', '--no-pager'],
    {
      encoding: 'utf8',
    },
  );
  for (const line of (unit.stdout ?? '').trim().split('\n').slice(-25)) say(`  kiosk log: ${line}`);
  const s = show(
    'posd-kiosk.service',
    'ActiveState',
    'SubState',
    'InactiveExitTimestampMonotonic',
    'NRestarts',
  );
  say(
    `  kiosk unit: ${s.ActiveState}/${s.SubState} since ${(Number(s.InactiveExitTimestampMonotonic) / 1e6).toFixed(1)} s, restarts ${s.NRestarts}; browser pid ${browserPid() ?? 'none'}`,
  );
  // sway runs in the kiosk's login session: its log is the session's, not the unit's.
  const sway = spawnSync('journalctl', ['-b', '_COMM=sway', '-o', 'cat', '--no-pager'], { encoding: 'utf8' });
  for (const line of (sway.stdout ?? '').trim().split('\n').slice(-25)) say(`  sway log: ${line}`);
  // Chromium's own lines (stderr, in the kiosk user's session): why a window does not show.
  const chromium = spawnSync(
    'journalctl',
    ['-b', '_UID=902', '_COMM=chromium', '-o', 'short-monotonic', '--no-pager'],
    {
      encoding: 'utf8',
    },
  );
  for (const line of (chromium.stdout ?? '').trim().split('\n').slice(-40)) say(`  chromium log: ${line}`);
  for (const pid of pids()) {
    const a = argv(pid).join(' ');
    if (!/sway|chrom/.test(a)) continue;
    let state = '';
    try {
      state = `${/^State:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]} ${readFileSync(`/proc/${pid}/wchan`, 'utf8')}`;
    } catch {}
    say(`  process ${pid} (${state}): ${a.slice(0, 160)}`);
  }
  const run = (cmd, ...args) =>
    spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 }).stdout?.trim() ?? '';
  say(`  sessions: ${run('loginctl', 'list-sessions', '--no-legend').replaceAll('\n', ' | ')}`);
  say(`  jobs: ${run('systemctl', 'list-jobs', '--no-legend').replaceAll('\n', ' | ')}`);
  say(`  /dev/dri: ${run('ls', '-l', '/dev/dri').replaceAll('\n', ' | ')}`);
  for (const d of readdirSync('/sys/class/drm').filter((n) => /^card\d+-/.test(n))) {
    let modes = '';
    try {
      modes = `${readFileSync(`/sys/class/drm/${d}/status`, 'utf8').trim()}, modes ${readFileSync(`/sys/class/drm/${d}/modes`, 'utf8').trim().split('\n').slice(0, 4).join(' ')}`;
    } catch {}
    say(`  ${d}: ${modes}`);
  }
  const sock = existsSync('/run/posd-kiosk')
    ? readdirSync('/run/posd-kiosk').find((f) => f.startsWith('sway-ipc.'))
    : undefined;
  if (sock) {
    const outputs = spawnSync('swaymsg', ['-s', `/run/posd-kiosk/${sock}`, '-t', 'get_outputs'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    say(`  sway outputs: ${(outputs.stdout ?? '').trim().replaceAll('\n', ' | ').slice(0, 600)}`);
  }
  // Did the page reach posd at all (a white window: no navigation, or no drawing)? TCP state 01 is
  // ESTABLISHED, 1F90 port 8080.
  const tcp = readFileSync('/proc/net/tcp', 'utf8').split('\n');
  say(`  connections to the UI: ${tcp.filter((l) => / 0100007F:1F90 \S+ 01 /.test(l)).length}`);
  say(`  kiosk runtime dir: ${run('ls', '/run/posd-kiosk').replaceAll('\n', ' ')}`);
  say(`  /dev/input: ${run('ls', '/dev/input').replaceAll('\n', ' ')}`);
  const inputs = readFileSync('/proc/bus/input/devices', 'utf8').match(/^N: Name=.*$/gm) ?? [];
  say(`  input devices: ${inputs.join(' | ')}`);
  memory();
}

/** A cashier for the kiosk's sign-in, as a merchant's would be (cashiers.json in the state dir). */
export function addKioskCashier() {
  const file = `${STATE}/cashiers.json`;
  writeFileSync(file, JSON.stringify({ cashiers: [{ id: 'selftest', name: 'Selftest', pin: KIOSK_PIN }] }), {
    mode: 0o600,
  });
  chownSync(file, 900, 900);
}

async function until(what, timeoutS, probe) {
  const deadline = uptime() + timeoutS;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (uptime() > deadline) {
      kioskLog();
      fail(`kiosk: ${what} not within ${timeoutS} s`);
    }
    await sleep(1000);
  }
}

/** The kiosk: skipped by its condition where there is no display, else proven on screen. */
export async function kiosk() {
  if (!existsSync('/usr/bin/sway')) return say('kiosk: not in this image');
  const cards = existsSync('/dev/dri') ? readdirSync('/dev/dri').filter((d) => d.startsWith('card')) : [];
  const k = () =>
    show('posd-kiosk.service', 'ActiveState', 'SubState', 'ConditionResult', 'NRestarts', 'MainPID');
  if (cards.length === 0) {
    const s = k();
    if (s.ActiveState === 'failed') fail('kiosk: failed on a machine without a display');
    return say(`kiosk: no display, posd-kiosk.service skipped (condition ${s.ConditionResult})`);
  }
  const policy = JSON.parse(readFileSync(POLICY, 'utf8'));
  if (
    policy.DeveloperToolsAvailability !== 2 ||
    policy.DownloadRestrictions !== 3 ||
    policy.PrintingEnabled !== false
  )
    fail(`kiosk: ${POLICY} does not lock Chromium down`);
  const up = await until('sway + Chromium running', 240, () => {
    const s = k();
    return s.ActiveState === 'active' && browserPid() ? s : undefined;
  });
  say(
    `kiosk: sway + Chromium up on ${cards.join(', ')} at ${uptime().toFixed(1)} s (restarts ${up.NRestarts})`,
  );
  // test.sh now watches the screen for the keypad and taps the PIN on it.
  addKioskCashier();
  say('KIOSK-UP');
  const client = await until('the kiosk page signed in to the event stream', 420, async () => {
    // posd may be restarting (its watchdog, on a guest slowed down by Chromium): ask again.
    const h = await http('GET', '/healthz').catch(() => undefined);
    return h?.json?.uiClients?.find((c) => /Chrom/.test(c.userAgent));
  });
  say(
    `kiosk signed in at ${uptime().toFixed(1)} s: event-stream client "${client.userAgent}" since ${client.since}`,
  );

  // A second screen: the customer page, in the same browser, on the cashier's session.
  const outputs = readdirSync('/sys/class/drm').filter((d) => {
    try {
      return /^card\d+-/.test(d) && readFileSync(`/sys/class/drm/${d}/status`, 'utf8').trim() === 'connected';
    } catch {
      return false;
    }
  });
  if (outputs.length > 1) {
    const pages = await until('the customer page connected on the second screen', 240, async () => {
      const h = await http('GET', '/healthz').catch(() => undefined);
      const chromium = (h?.json?.uiClients ?? []).filter((c) => /Chrom/.test(c.userAgent));
      return chromium.length >= 2 ? chromium : undefined;
    });
    say(
      `kiosk: ${outputs.join(', ')} connected; ${pages.length} pages on the event stream (the cashier's and the customer's)`,
    );
  }

  memory();

  // Chromium dies (a crash, Alt+F4): sway ends with it (kiosk-browser), and systemd starts the kiosk again.
  const before = k();
  const pid = browserPid();
  process.kill(Number(pid), 'SIGKILL');
  const after = await until('the kiosk back after Chromium was killed', 240, () => {
    const s = k();
    const again = browserPid();
    return s.ActiveState === 'active' && again && again !== pid && s.NRestarts !== before.NRestarts
      ? s
      : undefined;
  });
  say(
    `kiosk: Chromium killed (pid ${pid}); restarted by systemd (restarts ${before.NRestarts} -> ${after.NRestarts})`,
  );
}
