// The update self-test (posd-selftest-update.service, only with posd.selftest=update): one disk,
// booted through OVMF and systemd-boot, goes through a sequence of boots with no one at the keyboard;
// image/test.sh attaches the bundles on a second disk (label posd-bundles, with bundles.json: their
// sizes and sha256) and watches the console. The cloud (an MQTT broker and the reference cloud) runs
// in the guest beside posd (selftest-cloud.mjs); the bundles are served over HTTP on 127.0.0.1.
//   start          slot A: a sale; a bundle signed by an unknown key is refused (nothing changes);
//                  the cloud up (posd was pointed at it before the first boot), a sale; the cloud's
//                  signed `update.install` of the good bundle (version posd.selftest.good=V): a sale
//                  and a code payment the customer has not confirmed while posd downloads; posd
//                  installs into B (on trial, 1 try: /etc/posd/boot-tries) and waits; the customer
//                  confirms, and posd reboots by itself
//   good-commanded slot B on trial: systemd-boot counted the boot, posd marks B good, every sale is
//                  there (the code payment succeeded) and in the cloud, up/state shows V; a sale; the signed command of the bad
//                  bundle (posd exits at start): posd installs it into A and reboots
//   bad-commanded  on A: nothing (posd fails, the boot on trial reboots); on B again: the fallback,
//                  A bad, posd reports rolled-back (API and up/state), every sale there, a sale; then
//                  a bundle into A (the bad one again: any will do) and, while RAUC writes the slot,
//                  `CUT-NOW`: the harness kills QEMU (a power cut) and boots the disk again
//   cutting        slot B: the half-written A is not booted, posd sells: PASS
// Progress between boots is kept in /data/selftest-update.json. Each boot prints `BOOT slot X phase P`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { DEVICE, posdConfigured, startCloud, TENANT } from './selftest-cloud.mjs';
import {
  API,
  cmdline,
  Failure,
  fail,
  healthy,
  STATE,
  say,
  show,
  sleep,
  uptime,
  waitActive,
} from './selftest-lib.mjs';

/**
 * The local API, one connection per request (no keep-alive): polled every second for minutes on a
 * guest slowed by a loaded host, fetch's reused connection met posd closing it as idle ("fetch
 * failed", run of 2026-12-05 20:30). A GET that fails on the network is asked again a few times.
 */
function http(method, path, body, token, tries = method === 'GET' ? 5 : 1) {
  const data = body ? JSON.stringify(body) : undefined;
  const headers = { ...(data ? { 'content-type': 'application/json' } : {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  return new Promise((resolve, reject) => {
    const req = request(`${API}${path}`, { method, headers, agent: false, timeout: 60_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('error', reject);
      res.on('end', () => {
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, json, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 60 s`)));
    req.on('error', reject);
    req.end(data);
  }).catch(async (err) => {
    if (tries <= 1) throw new Failure(`${method} ${path}: ${err.code ?? ''} ${err.message}`);
    await sleep(1000);
    return http(method, path, body, token, tries - 1);
  });
}

const PROGRESS = '/data/selftest-update.json';
const BUNDLES = '/run/posd-selftest-bundles';
const ENTRIES = '/boot/efi/loader/entries';
const arg = (name) => new RegExp(`(?:^|\\s)posd\\.selftest\\.${name}=(\\S+)`).exec(cmdline)?.[1];
const goodVersion = arg('good');
const badVersion = arg('bad');
const booted = /(?:^|\s)rauc\.slot=([AB])/.exec(cmdline)?.[1];
/** This terminal as the reference acquirer keys its payments. */
const TERMINAL = { tenant: TENANT, device: DEVICE };

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

/**
 * A sale paid by a code the customer has not confirmed on the phone (the acquirer's code ending 6:
 * USERPAYING until reversed, and posd reverses only after `resolveWithinMs`, pushed long): an
 * unresolved payment that must hold the update's reboot back.
 */
async function openCodePayment(p) {
  const sale = await http(
    'POST',
    '/api/v1/sales',
    { lines: [{ name: 'update code payment', qty: 1, unitPrice: 800 }] },
    token(),
  );
  if (sale.status !== 201) fail(`sale for the code payment: ${sale.status} ${sale.text.slice(0, 200)}`);
  const saleId = sale.json.saleId;
  const pay = await http(
    'POST',
    `/api/v1/sales/${saleId}/payments`,
    { method: 'code', authCode: '134567890123456786' },
    token(),
  );
  if (pay.status !== 202 || !pay.json?.paymentId)
    fail(`code payment: ${pay.status} ${pay.text.slice(0, 200)}`);
  const paymentId = pay.json.paymentId;
  p.sales.push(saleId);
  p.heldPayment = paymentId;
  save(p);
  await until(
    'the code payment waiting on the customer',
    60,
    () => cloud.cloud.acquirer.payment(TERMINAL, paymentId)?.status === 'USERPAYING',
  );
  return paymentId;
}

/**
 * The update is installed and the code payment still open: posd waits and says why; 10 s later it
 * still waits and the payment is still pending. Then the customer confirms on the phone.
 */
async function heldByPayment(what, v, paymentId) {
  const reasons = (v.waitingFor ?? []).join(', ');
  if (!/1 unresolved payment/.test(reasons))
    fail(`${what}: waiting-to-reboot for '${reasons}', not for the open code payment`);
  const since = uptime();
  await sleep(10_000);
  const still = await updateView();
  const pay = (await http('GET', `/api/v1/payments/${paymentId}`, undefined, token())).json;
  if (still.state !== 'waiting-to-reboot' || pay?.status !== 'pending')
    fail(`${what}: update ${still.state} with the code payment ${pay?.status}`);
  say(
    `${what}: the reboot waits for the unresolved code payment (${reasons}; still waiting ${(uptime() - since).toFixed(1)} s later, the payment pending)`,
  );
  if (!cloud.cloud.acquirer.customerConfirmsCode(TERMINAL, paymentId))
    fail(`${what}: the acquirer had no code payment waiting on the customer`);
  say(`${what}: the customer confirms the code payment`);
}

function expectBooted(slot, p) {
  if (booted !== slot)
    fail(`phase ${p.phase}: booted slot ${booted}, expected ${slot} (entries: ${entries()})`);
}

/** Waits for `test` to return something, checking every half second. */
async function until(what, seconds, test) {
  const deadline = uptime() + seconds;
  for (;;) {
    const v = await test();
    if (v) return v;
    if (uptime() > deadline) fail(`${what}: not within ${seconds} s`);
    await sleep(500);
  }
}
const updateView = async () => (await http('GET', '/api/v1/update', undefined, token())).json ?? {};

/** The cloud of this boot, and posd linked to it. */
let cloud;
async function cloudUp() {
  bundle('bundles.json'); // mounts the bundles disk
  cloud = await startCloud(BUNDLES);
  await until('posd online with the cloud', 180, async () => {
    const s = await http('GET', '/api/v1/status', undefined, token());
    return s.json?.cloud === 'online';
  });
}
const bundleInfo = (name) => JSON.parse(readFileSync(bundle('bundles.json'), 'utf8'))[name];

/** The cloud's signed `update.install` of a bundle on the bundles disk; posd must accept it. */
async function command(name, version) {
  const { size, sha256 } = bundleInfo(name);
  const answer = await cloud.cloud.pushCommand(TENANT, DEVICE, 'update.install', {
    version,
    url: cloud.url(name),
    sha256,
    size,
  });
  if (!answer?.ok || answer.result?.accepted !== true)
    fail(`update.install ${version}: ${JSON.stringify(answer)}`);
  say(`signed update.install ${version} accepted (${(size / 1048576).toFixed(0)} MiB)`);
}

/** RAUC's own account of its last install, with the kernel's clock (where the time went). */
function raucTimeline(boot = '0') {
  const out = spawnSync(
    'journalctl',
    ['-b', boot, '-u', 'rauc', '-o', 'short-monotonic', '--no-pager', '-n', '40'],
    {
      encoding: 'utf8',
    },
  ).stdout;
  const lines = out
    .split('\n')
    .filter((l) =>
      /install|Verif|verity|Mount|Copying|Checking|slot|Updating|succeeded|failed|hash|bundle/i.test(l),
    );
  // From the last install's first line (`installing <bundle>: started` or the like) on.
  const last = /`([^`]+)` succeeded/.exec(lines.at(-1) ?? '')?.[1];
  const from = last ? lines.findIndex((l) => l.includes(last)) : 0;
  for (const l of lines.slice(Math.max(0, from)).slice(-16))
    say(`  rauc: ${l.replace(/ posd rauc\[\d+\]:/, '').slice(0, 180)}`);
}

/** Follows posd's update until it reboots the terminal (it does, at its safe moment). */
async function followUpdate(p, what, heldPayment) {
  let last = '';
  let held = false;
  const t0 = uptime();
  // posd keeps running (and selling) while RAUC writes: no watchdog kill, no restart.
  const { MainPID } = show('posd.service', 'MainPID');
  for (;;) {
    const now = show('posd.service', 'MainPID', 'NRestarts');
    if (now.MainPID !== MainPID)
      fail(
        `${what}: posd restarted while ${last} (pid ${MainPID} -> ${now.MainPID}, ${now.NRestarts} restarts)`,
      );
    const v = await updateView();
    if (v.state !== last) {
      say(`${what}: ${v.state} at +${(uptime() - t0).toFixed(1)} s${v.error ? ` (${v.error})` : ''}`);
      if (last === 'installing') raucTimeline();
      last = v.state;
      if (v.state === 'installing') {
        await sell(p, 'while RAUC installs');
        say(`${what}: a sale while RAUC installs (posd pid ${MainPID})`);
      }
    }
    if (v.state === 'failed') fail(`${what} failed: ${v.error}`);
    if (heldPayment && !held && v.state === 'waiting-to-reboot') {
      await heldByPayment(what, v, heldPayment);
      held = true;
    }
    if (v.state === 'rebooting' && heldPayment) {
      // The acquirer's word, not posd's API (posd may be stopping for the reboot already).
      const at = cloud.cloud.acquirer.payment(TERMINAL, heldPayment)?.status;
      if (!held || at !== 'SUCCESS')
        fail(`${what}: rebooting with the code payment ${at} at the acquirer (held back: ${held})`);
    }
    if (v.state === 'rebooting') await sleep(3_600_000); // shutdown stops this test before posd
    if (uptime() - t0 > 1800) fail(`${what}: posd did not reboot within 30 minutes (${v.state})`);
    await sleep(1000);
  }
}

/** Every sale in the cloud, and posd's ledger all acknowledged (its status: outbox empty). */
async function synced(p, what) {
  const s = await until(`${what}: every sale in the cloud`, 180, async () => {
    const ids = cloud.saleIds();
    const st = (await http('GET', '/api/v1/status', undefined, token())).json;
    return p.sales.every((id) => ids.has(id)) && st?.ledger?.outboxDepth === 0 && st.ledger;
  });
  say(
    `${what}: all ${p.sales.length} sales in the cloud, posd's ledger acked up to ${s.ackedUpTo}, outbox empty`,
  );
  return s;
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

  // posd started linked to the cloud (image/test-update.sh configured it before the first boot, as
  // provisioning would), then the signed command.
  if (!posdConfigured())
    fail('posd.json does not name the self-test cloud (image/test-update.sh configure_data)');
  await cloudUp();
  // Code payments that wait on the customer for up to 10 minutes, asked after every 2 s.
  await cloud.cloud.pushConfig(TENANT, DEVICE, 1, {
    payments: { queryDelayMs: 1000, queryIntervalMs: 2000, resolveWithinMs: 600_000 },
  });
  await until("posd on the cloud's config 1", 120, () => cloud.lastState()?.configVersion >= 1);
  await sell(p, 'before the download');
  p.phase = 'good-commanded';
  save(p);
  const t0 = uptime();
  await command('good.raucb', goodVersion);
  await until('posd downloading', 120, async () => {
    const v = await updateView();
    if (v.state === 'failed') fail(`the download failed: ${v.error}`);
    return v.state === 'downloading' && v.progress > 0;
  });
  await sell(p, 'during the download');
  if ((await updateView()).state !== 'downloading') fail('the download ended before the sale');
  say(`a sale while posd downloads the bundle (${p.sales.length} sales)`);
  const held = await openCodePayment(p);
  say(`a code payment the customer has not confirmed, open while posd downloads (${p.sales.length} sales)`);
  cloud.release();
  p.commandAt = t0;
  save(p);
  await followUpdate(p, `the good update ${goodVersion}`, held);
}

async function goodCommanded(p) {
  expectBooted('B', p);
  // systemd-boot counted this boot down (posd may have marked it good already).
  const counted = bootCountPath();
  if (!counted.endsWith('posd-b+0-1.conf'))
    fail(`B's first boot was not counted by systemd-boot: '${counted}'`);
  if (posdVersion() !== goodVersion) fail(`posd on B is ${posdVersion()}, expected ${goodVersion}`);
  // On trial until posd marks it good, which it does only once the cloud is reached (started here).
  if (assessment() !== 'trial posd-b+0-1.conf') fail(`B's first boot is not on trial: ${assessment()}`);
  await cloudUp();
  await checkSales(p, 'on B');
  const held = (await http('GET', `/api/v1/payments/${p.heldPayment}`, undefined, token())).json;
  if (held?.status !== 'succeeded') fail(`on B: the code payment that held the reboot is ${held?.status}`);
  say(`on B: the code payment that held the reboot back succeeded (${held.amount} fen)`);
  await until('posd marks B good', 300, () => /posd-b\.conf/.test(entries()) && assessment() === 'blessed');
  say('posd marked B good');
  if (!/posd-b\.conf/.test(entries())) fail(`B not blessed: ${assessment()}, ${entries()}`);
  const s = status();
  if (s.booted !== 'B' || s.slots['rootfs.1'].boot_status !== 'good')
    fail(`rauc status on B: ${JSON.stringify(s.slots['rootfs.1'])}`);
  const st = await until('up/state with the new version, activated', 120, () => {
    const x = cloud.lastState();
    return x?.appVersion === goodVersion && x.update?.state === 'idle' && x;
  });
  const v = await updateView();
  say(`up/state: appVersion ${st.appVersion}, update ${JSON.stringify(st.update)}; API ${v.state}`);
  await synced(p, 'on B');
  await sell(p, 'on B');
  cloud.release();
  p.phase = 'bad-commanded';
  p.badBoots = 0;
  save(p);
  await command('bad.raucb', badVersion);
  await followUpdate(p, `the bad update ${badVersion}`);
}

/** What ended the bad A's boot, from its journal (the data partition's, shared by both slots). */
function badBootJournal() {
  const lines = spawnSync(
    'journalctl',
    ['-b', '-1', '-o', 'short-monotonic', '--no-pager', '-u', 'posd', '-u', 'posd-trial-failed'],
    { encoding: 'utf8' },
  ).stdout.split('\n');
  const exits = lines.filter((l) => l.includes('exits at start')).length;
  const limit = lines.find((l) => /Start request repeated too quickly|start-limit-hit/.test(l));
  const reboot = lines.find((l) => l.includes('boot-assessment:'));
  say(`the bad A's boot (journal): posd exited at start ${exits} time(s)`);
  for (const l of [limit, reboot]) if (l) say(`  ${l.replace(/ posd \S+\[\d+\]:/, '').slice(0, 200)}`);
}

async function badCommanded(p) {
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
  await cloudUp();
  const s = status();
  if (assessment() !== 'blessed') fail(`B after the fallback: ${assessment()}`);
  if (s.slots['rootfs.0'].boot_status !== 'bad' || !/posd-a\+0-1\.conf/.test(entries()))
    fail(`A after its failed try: ${s.slots['rootfs.0'].boot_status}, entries ${entries()}`);
  say(`fell back to B after ${p.badBoots} boot(s) of the bad A; A bad (${entries()})`);
  badBootJournal();
  const v = await until('posd reports rolled-back', 180, async () => {
    const x = await updateView();
    return x.state === 'rolled-back' && x;
  });
  const st = await until('up/state rolled-back', 120, () => {
    const x = cloud.lastState();
    return x?.update?.state === 'rolled-back' && x;
  });
  say(
    `rolled-back reported: ${v.version}: ${v.error}; up/state appVersion ${st.appVersion} update ${st.update.state}`,
  );
  await checkSales(p, 'after the fallback');
  await sell(p, 'after the fallback');
  await synced(p, 'after the fallback');
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
  await sleep(3000);
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
  if (p.phase === 'bad-commanded' && booted === 'A') return badCommanded(p);
  const ready = await waitActive('boot', 300);
  say(`READY ${(Number(ready.ActiveEnterTimestampMonotonic) / 1e6).toFixed(1)} s after kernel start`);
  await healthy('boot');
  if (p.phase === 'start') await start(p);
  else if (p.phase === 'good-commanded') await goodCommanded(p);
  else if (p.phase === 'bad-commanded') await badCommanded(p);
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
