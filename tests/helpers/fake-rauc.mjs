#!/usr/bin/env node
// A test double of `rauc` 1.8's CLI: `fake-rauc.mjs STATE_FILE <rauc args…>`. It keeps two slots in
// STATE_FILE (JSON), records every call there, and prints `status` as rauc 1.8's JSON does.
// STATE_FILE: {booted:"A", installVersion?, refuse?: "message", busy?: N, markActiveFailures?: N, calls:[…],
//              slots:{"rootfs.0":{bootname:"A",version,boot_status}, "rootfs.1":{…}}}
// `reboot` (not rauc's) records a reboot, for `update.reboot`.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';

const [file, ...args] = process.argv.slice(2);

// posd may run two of these at once (boot health's `mark-good` beside an install): each call's
// read-change-write of STATE_FILE holds a lock, or one call reads what another half wrote, or
// writes back what it read before the other's change.
const lock = `${file}.lock`;
const pause = new Int32Array(new SharedArrayBuffer(4));
for (const deadline = Date.now() + 10_000; ; ) {
  try {
    closeSync(openSync(lock, 'wx'));
    break;
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
    try {
      if (Date.now() - statSync(lock).mtimeMs > 10_000) unlinkSync(lock); // left by a killed call
    } catch {
      // gone meanwhile
    }
    if (Date.now() > deadline) throw new Error(`fake-rauc: ${lock} held for 10 s`);
    Atomics.wait(pause, 0, 0, 5);
  }
}
process.on('exit', () => unlinkSync(lock));

const state = JSON.parse(readFileSync(file, 'utf8'));
state.calls ??= [];
const save = () => {
  writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${file}.${process.pid}.tmp`, file);
};
const bootedName = () => Object.keys(state.slots).find((n) => state.slots[n].bootname === state.booted);
const otherName = () => Object.keys(state.slots).find((n) => state.slots[n].bootname !== state.booted);

if (args[0] === 'install') {
  const bundle = readFileSync(args[1]);
  state.calls.push({ cmd: 'install', sha256: createHash('sha256').update(bundle).digest('hex') });
  // RAUC's service still busy with an earlier install (posd restarted while it ran): refused N times.
  if (state.busy > 0) {
    state.busy -= 1;
    save();
    process.stderr.write(
      'Failed to install bundle: error calling D-Bus method "InstallBundle": already processing a different method\n',
    );
    process.exit(1);
  }
  if (state.refuse) {
    save();
    process.stderr.write(`${state.refuse}\n`);
    process.exit(1);
  }
  const other = state.slots[otherName()];
  Object.assign(other, { version: state.installVersion ?? 'new', boot_status: 'good' });
  other.installed = { timestamp: new Date().toISOString(), count: (other.installed?.count ?? 0) + 1 };
  state.primary = otherName();
  save();
  process.stdout.write('installing: done.\n');
} else if (args[0] === 'status' && args[1] === 'mark-active' && args[2] === 'booted') {
  state.calls.push({ cmd: 'mark-active' });
  if (state.markActiveFailures > 0) {
    state.markActiveFailures -= 1;
    save();
    process.stderr.write('Failed to activate slot: error calling D-Bus method "Mark": timed out\n');
    process.exit(1);
  }
  state.primary = bootedName();
  save();
  process.stdout.write(`activated slot ${bootedName()}\n`);
} else if (args[0] === 'status' && args[1] === 'mark-good') {
  state.calls.push({ cmd: 'mark-good' });
  state.slots[bootedName()].boot_status = 'good';
  save();
  process.stdout.write(`marked slot ${bootedName()} as good\n`);
} else if (args[0] === 'status') {
  state.calls.push({ cmd: 'status', args });
  save();
  const detailed = args.includes('--detailed');
  const slots = Object.entries(state.slots).map(([name, s]) => ({
    [name]: {
      class: 'rootfs',
      device: `/dev/vda${name.endsWith('0') ? 2 : 3}`,
      type: 'ext4',
      bootname: s.bootname,
      state: s.bootname === state.booted ? 'booted' : name === state.primary ? 'active' : 'inactive',
      parent: null,
      mountpoint: s.bootname === state.booted ? '/' : null,
      boot_status: s.boot_status ?? 'good',
      ...(detailed
        ? {
            slot_status: {
              bundle: { compatible: 'posd-x86_64', ...(s.version ? { version: s.version } : {}) },
              ...(s.installed ? { installed: s.installed } : {}),
              status: 'ok',
            },
          }
        : {}),
    },
  }));
  process.stdout.write(
    JSON.stringify({
      compatible: 'posd-x86_64',
      variant: '',
      booted: state.booted,
      boot_primary: state.primary ?? bootedName(),
      slots,
    }),
  );
} else if (args[0] === 'reboot') {
  state.calls.push({ cmd: 'reboot', at: new Date().toISOString() });
  save();
} else {
  process.stderr.write(`fake-rauc: unknown command ${args.join(' ')}\n`);
  process.exit(1);
}
