// The update self-test (posd-selftest-update.service, only with posd.selftest=update): one disk,
// booted through OVMF and systemd-boot, goes through a sequence of boots with no one at the keyboard;
// image/test.sh attaches the bundles on a second disk (label posd-bundles) and watches the console.
//   start          slot A: a sale; a bundle signed by an unknown key is refused (nothing changes);
//                  the good bundle (version posd.selftest.good=V) installs into B, B primary on trial
//   good-installed slot B on trial: the sales are there, B is marked good as posd does it
//                  (`rauc status mark-good` as user posd), a sale; the bad bundle (posd exits at
//                  start) installs into A, A primary on trial (1 try: /etc/posd/boot-tries)
//   bad-installed  on A: nothing (posd fails, the boot on trial reboots); on B again: the fallback,
//                  A bad, every sale there, a sale; then a bundle into A (the bad one again: any
//                  will do) and, while RAUC writes the slot, `CUT-NOW`: the harness kills QEMU (a power cut) and boots the disk again
//   cutting        slot B: the half-written A is not booted, posd sells: PASS
// Progress between boots is kept in /data/selftest-update.json. Each boot prints `BOOT slot X phase P`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import {
  cmdline,
  Failure,
  fail,
  healthy,
  http,
  STATE,
  say,
  sleep,
  uptime,
  waitActive,
} from './selftest-lib.mjs';

const PROGRESS = '/data/selftest-update.json';
const BUNDLES = '/run/posd-selftest-bundles';
const ENTRIES = '/boot/efi/loader/entries';
const arg = (name) => new RegExp(`(?:^|\\s)posd\\.selftest\\.${name}=(\\S+)`).exec(cmdline)?.[1];
const goodVersion = arg('good');
const badVersion = arg('bad');
const booted = /(?:^|\s)rauc\.slot=([AB])/.exec(cmdline)?.[1];

const load = () =>
  existsSync(PROGRESS) ? JSON.parse(readFileSync(PROGRESS, 'utf8')) : { phase: 'start', sales: [] };
function save(p) {
  writeFileSync(`${PROGRESS}.tmp`, JSON.stringify(p));
  renameSync(`${PROGRESS}.tmp`, PROGRESS);
  spawnSync('sync');
}

/** RAUC's CLI as posd runs it (user posd, through RAUC's D-Bus service and its policy). */
function rauc(...args) {
  const r = spawnSync('runuser', ['-u', 'posd', '--', 'rauc', ...args], {
    encoding: 'utf8',
    timeout: 1_800_000,
  });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}
function status() {
  const r = rauc('status', '--detailed', '--output-format=json');
  if (r.status !== 0) fail(`rauc status as posd: ${r.out.slice(-300)}`);
  const j = JSON.parse(r.out.slice(r.out.indexOf('{')));
  const slots = Object.fromEntries(j.slots.flatMap((s) => Object.entries(s)));
  return { booted: j.booted, primary: j.boot_primary, slots };
}
const entries = () =>
  readdirSync(ENTRIES)
    .filter((f) => f.endsWith('.conf'))
    .sort()
    .join(' ');
const assessment = () =>
  spawnSync('/usr/lib/posd/boot-assessment', ['status'], { encoding: 'utf8' }).stdout.trim();
/** The entry systemd-boot counted down for this boot (its EFI variable LoaderBootCountPath). */
const bootCountPath = () => {
  const v = '/sys/firmware/efi/efivars/LoaderBootCountPath-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f';
  return existsSync(v) ? readFileSync(v).subarray(4).toString('utf16le').replace(/\0/g, '') : '';
};
const posdVersion = () => JSON.parse(readFileSync('/opt/posd/package.json', 'utf8')).version;
const token = () => readFileSync(`${STATE}/ui-token`, 'utf8').trim();

/** A bundle from the disk image/test.sh attaches (label posd-bundles), mounted read-only. */
function bundle(name) {
  if (!existsSync(`${BUNDLES}/${name}`)) {
    mkdirSync(BUNDLES, { recursive: true });
    const r = spawnSync('mount', ['-o', 'ro', '/dev/disk/by-label/posd-bundles', BUNDLES], {
      encoding: 'utf8',
    });
    if (r.status !== 0) fail(`the bundles disk: ${r.stderr.trim()}`);
  }
  if (!existsSync(`${BUNDLES}/${name}`)) fail(`no ${name} on the bundles disk`);
  return `${BUNDLES}/${name}`;
}

async function sell(p, what) {
  const r = await http(
    'POST',
    '/api/v1/sales',
    {
      lines: [{ name: `update ${what}`, qty: 1, unitPrice: 500 }],
      tenders: [{ method: 'cash', amount: 500 }],
    },
    token(),
  );
  if (r.status !== 201 || r.json?.status !== 'completed')
    fail(`sale (${what}): ${r.status} ${r.text.slice(0, 200)}`);
  p.sales.push(r.json.saleId);
  save(p);
}
async function checkSales(p, what) {
  for (const id of p.sales) {
    const s = await http('GET', `/api/v1/sales/${id}`, undefined, token());
    if (s.status !== 200 || s.json?.status !== 'completed')
      fail(`${what}: sale ${id} is ${s.status} ${s.text.slice(0, 150)}`);
  }
  say(`${what}: all ${p.sales.length} sales there`);
}

function install(bundle, what) {
  const t0 = uptime();
  const r = rauc('install', bundle);
  if (r.status !== 0) fail(`install of ${what}: ${r.out.slice(-400)}`);
  say(`installed ${what} in ${(uptime() - t0).toFixed(1)} s; entries: ${entries()}`);
}

async function reboot(p, why) {
  save(p);
  say(`REBOOT ${why}`);
  // As posd reboots at its safe moment: user posd, through logind and the image's polkit rule.
  const r = spawnSync('runuser', ['-u', 'posd', '--', 'systemctl', 'reboot'], { encoding: 'utf8' });
  if (r.status !== 0) fail(`systemctl reboot as posd: ${r.stderr.trim()}`);
  await sleep(3_600_000);
}

function expectBooted(slot, p) {
  if (booted !== slot)
    fail(`phase ${p.phase}: booted slot ${booted}, expected ${slot} (entries: ${entries()})`);
}

async function start(p) {
  expectBooted('A', p);
  await sell(p, 'on A');
  const s0 = status();
  if (s0.booted !== 'A' || s0.primary !== 'rootfs.0')
    fail(`rauc status on a new image: booted ${s0.booted}, primary ${s0.primary}`);
  writeFileSync('/etc/posd/boot-tries', '1\n');

  const rogue = rauc('install', bundle('rogue.raucb'));
  const s1 = status();
  if (rogue.status === 0) fail('a bundle signed by an unknown key was installed');
  if (s1.primary !== 'rootfs.0' || s1.slots['rootfs.1'].boot_status !== 'bad' || entries() !== 'posd-a.conf')
    fail(`after the refused bundle: primary ${s1.primary}, entries ${entries()}`);
  const why = rogue.out.split('\n').find((l) => /LastError:.*(signature|verif)/i.test(l));
  if (!why) fail(`the unknown key's bundle was refused for another reason: ${rogue.out.slice(-300)}`);
  say(`unknown key refused (${why.trim().slice(0, 160)}); primary A, entries ${entries()}`);

  install(bundle('good.raucb'), `the good bundle ${goodVersion} into B`);
  const s2 = status();
  if (s2.primary !== 'rootfs.1') fail(`after installing into B: primary ${s2.primary}`);
  if (!/posd-b\+1\.conf/.test(entries())) fail(`B not on trial: entries ${entries()}`);
  if (!existsSync('/boot/efi/posd/b/vmlinuz') || !existsSync('/boot/efi/posd/b/initrd.img'))
    fail('B: no kernel on the ESP');
  if (s2.slots['rootfs.1'].slot_status?.bundle?.version !== goodVersion)
    fail(`B's version ${s2.slots['rootfs.1'].slot_status?.bundle?.version}, expected ${goodVersion}`);
  await sell(p, 'after install');
  p.phase = 'good-installed';
  p.installedAt = uptime();
  await reboot(p, 'into B');
}

async function goodInstalled(p) {
  expectBooted('B', p);
  // systemd-boot counted this boot down (posd may have marked it good already: it does at READY
  // when no cloud is configured, as here).
  const counted = bootCountPath();
  if (!counted.endsWith('posd-b+0-1.conf'))
    fail(`B's first boot was not counted by systemd-boot: '${counted}'`);
  if (posdVersion() !== goodVersion) fail(`posd on B is ${posdVersion()}, expected ${goodVersion}`);
  await checkSales(p, 'on B');
  // posd marks the slot good once healthy; until its update service is in the image, as it would.
  if (existsSync('/opt/posd/dist/src/update/boot-health.js')) {
    for (let i = 0; assessment() !== 'blessed'; i++) {
      if (i === 600) fail(`posd did not mark B good within 5 minutes (${assessment()})`);
      await sleep(500);
    }
    say('posd marked B good');
  } else {
    const r = rauc('status', 'mark-good');
    if (r.status !== 0) fail(`mark-good as posd: ${r.out}`);
    say(`B marked good as posd would (${r.out.split('\n').slice(-1)[0]})`);
  }
  if (assessment() !== 'blessed' || !/posd-b\.conf/.test(entries()))
    fail(`B not blessed: ${assessment()}, ${entries()}`);
  const s = status();
  if (s.booted !== 'B' || s.slots['rootfs.1'].boot_status !== 'good')
    fail(`rauc status on B: ${JSON.stringify(s.slots['rootfs.1'])}`);
  await sell(p, 'on B');
  install(bundle('bad.raucb'), `the bad bundle ${badVersion} into A`);
  if (status().primary !== 'rootfs.0' || !/posd-a\+1\.conf/.test(entries()))
    fail(`A not primary on trial: ${entries()}`);
  p.phase = 'bad-installed';
  p.badBoots = 0;
  await reboot(p, 'into the bad A');
}

async function badInstalled(p) {
  if (booted === 'A') {
    p.badBoots += 1;
    save(p);
    say(
      `the bad slot A booted (${assessment()}, boot ${p.badBoots}); posd fails, the boot on trial must reboot`,
    );
    await sleep(3_600_000);
    return;
  }
  expectBooted('B', p);
  if (p.badBoots < 1) fail('back on B without having booted the bad A');
  await waitActive('fallback', 300);
  const s = status();
  if (assessment() !== 'blessed') fail(`B after the fallback: ${assessment()}`);
  if (s.slots['rootfs.0'].boot_status !== 'bad' || !/posd-a\+0-1\.conf/.test(entries()))
    fail(`A after its failed try: ${s.slots['rootfs.0'].boot_status}, entries ${entries()}`);
  say(`fell back to B after ${p.badBoots} boot(s) of the bad A; A bad (${entries()})`);
  await checkSales(p, 'after the fallback');
  await sell(p, 'after the fallback');
  // A power cut while RAUC writes slot A.
  p.phase = 'cutting';
  save(p);
  const child = spawn('runuser', ['-u', 'posd', '--', 'rauc', 'install', bundle('bad.raucb')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  // RAUC marks the target bad (posd-a+0.conf) right before it writes the slot.
  for (let i = 0; !/posd-a\+0\.conf/.test(entries()); i++) {
    if (child.exitCode !== null) fail(`the install ended before the cut: ${out.slice(-300)}`);
    if (i === 1200) fail(`RAUC did not start writing A within 10 minutes: ${out.slice(-300)}`);
    await sleep(500);
  }
  await sleep(5000);
  if (child.exitCode !== null) fail(`the install ended before the cut: ${out.slice(-300)}`);
  say(`CUT-NOW RAUC writing slot A (entries ${entries()})`);
  await sleep(3_600_000);
}

async function cutting(p) {
  expectBooted('B', p);
  const s = status();
  if (s.slots['rootfs.0'].boot_status !== 'bad')
    fail(`the half-written A is ${s.slots['rootfs.0'].boot_status}`);
  if (s.primary !== 'rootfs.1') fail(`primary after the cut: ${s.primary}`);
  await checkSales(p, 'after the power cut');
  await sell(p, 'after the power cut');
  say(
    `power cut mid-install: B booted, the half-written A not (entries ${entries()}); ${p.sales.length} sales`,
  );
}

async function main() {
  const p = load();
  say(`BOOT slot ${booted} phase ${p.phase} version ${posdVersion()} (${assessment()})`);
  if (p.phase === 'bad-installed' && booted === 'A') return badInstalled(p);
  const ready = await waitActive('boot', 300);
  say(`READY ${(Number(ready.ActiveEnterTimestampMonotonic) / 1e6).toFixed(1)} s after kernel start`);
  await healthy('boot');
  if (p.phase === 'start') await start(p);
  else if (p.phase === 'good-installed') await goodInstalled(p);
  else if (p.phase === 'bad-installed') await badInstalled(p);
  else if (p.phase === 'cutting') {
    await cutting(p);
    say('PASS');
  } else fail(`unknown phase ${p.phase}`);
}

try {
  await main();
} catch (err) {
  say(`FAIL ${err instanceof Failure ? err.message : err?.stack || err}`);
  for (const l of spawnSync(
    'journalctl',
    ['-b', '-u', 'rauc', '-u', 'posd', '-o', 'cat', '--no-pager', '-n', '25'],
    {
      encoding: 'utf8',
    },
  ).stdout.split('\n'))
    say(`  journal: ${l}`);
}
spawnSync('systemctl', ['poweroff']);
