import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const UNITS_DIR = join(ROOT, 'systemd');
const IMAGE_FILES = join(ROOT, 'image', 'files');
const MAX_EXPOSURE = 2.5;

interface Run {
  status: number | null;
  output: string;
}

function run(cmd: string, args: string[]): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

/** Our units: the device's (systemd/) and the image's self-test (image/files/). */
const UNIT_PATHS = [UNITS_DIR, join(ROOT, 'image/files')].flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.service'))
    .map((f) => join(dir, f)),
);

function unitFiles(): string[] {
  return UNIT_PATHS.map((p) => basename(p)).sort();
}

/** `Key=value` lines of a unit file (continuation lines joined), in order. */
function directives(file: string): Array<[string, string]> {
  const text = readFileSync(file, 'utf8').replace(/\\\n/g, ' ');
  const out: Array<[string, string]> = [];
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) out.push([m[1]!, m[2]!.trim()]);
  }
  return out;
}

function values(file: string, key: string): string[] {
  return directives(file)
    .filter(([k]) => k === key)
    .map(([, v]) => v);
}

/**
 * An alternate root for `systemd-analyze verify --root`: the host's own system units (the targets our
 * units name), ours installed beside them, and a stand-in for each ExecStart binary, which lives on
 * the device image and not on this machine.
 */
function makeRoot(units: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'posd-units-'));
  const unitDir = join(root, 'usr/lib/systemd/system');
  mkdirSync(unitDir, { recursive: true });
  cpSync('/usr/lib/systemd/system', unitDir, { recursive: true, verbatimSymlinks: true });
  for (const [name, text] of Object.entries(units)) {
    writeFileSync(join(unitDir, name), text);
    for (const exec of values(join(unitDir, name), 'ExecStart')) {
      const binary = exec.replace(/^[-@:+!]+/, '').split(/\s+/)[0]!;
      mkdirSync(join(root, binary, '..'), { recursive: true });
      writeFileSync(join(root, binary), '#!/bin/sh\n');
      chmodSync(join(root, binary), 0o755);
    }
  }
  return root;
}

function ourUnits(): Record<string, string> {
  return Object.fromEntries(UNIT_PATHS.map((p) => [basename(p), readFileSync(p, 'utf8')]));
}

function verify(root: string, names: string[]): Run {
  return run('systemd-analyze', ['verify', '--man=no', `--root=${root}`, ...names]);
}

function exposure(unitFile: string): number {
  const r = run('systemd-analyze', ['security', '--offline=true', '--no-pager', unitFile]);
  const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(r.output);
  if (!m) throw new Error(`no exposure figure in:\n${r.output}`);
  return Number(m[1]);
}

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

describe('systemd units', () => {
  let root: string;
  beforeAll(() => {
    root = makeRoot(ourUnits());
    roots.push(root);
  });

  it('has the units the image installs', () => {
    expect(unitFiles()).toEqual(
      expect.arrayContaining([
        'posd.service',
        'posd-kiosk.service',
        'posd-provision.service',
        'posd-accounts.service',
        'posd-selftest.service',
      ]),
    );
  });

  it('passes systemd-analyze verify with no output at all', () => {
    const r = verify(root, unitFiles());
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it('verify does see a broken unit (the check above can fail)', () => {
    const broken = ourUnits();
    broken['posd.service'] = broken['posd.service']!.replace('[Service]\n', '[Service]\nWatchdogSecs=30s\n');
    const brokenRoot = makeRoot(broken);
    roots.push(brokenRoot);
    const r = verify(brokenRoot, ['posd.service']);
    expect(r.output).toMatch(/Unknown key 'WatchdogSecs'/);
  });

  it('posd.service: exposure at most 2.5 in systemd-analyze security --offline', () => {
    const figure = exposure(join(UNITS_DIR, 'posd.service'));
    console.log(`posd.service exposure: ${figure}`);
    expect(figure).toBeLessThanOrEqual(MAX_EXPOSURE);
  });

  it('the exposure figure rises when hardening is dropped (the check above can fail)', () => {
    const hardening =
      /^(ProtectSystem|ProtectHome|PrivateTmp|NoNewPrivileges|CapabilityBoundingSet|SystemCallFilter|RestrictAddressFamilies|RestrictNamespaces|ProtectKernel\w+|ProtectProc|ProcSubset|DevicePolicy)=.*\n/gm;
    const weak = ourUnits()['posd.service']!.replace(hardening, '');
    const dir = mkdtempSync(join(tmpdir(), 'posd-weak-'));
    roots.push(dir);
    writeFileSync(join(dir, 'posd.service'), weak);
    expect(exposure(join(dir, 'posd.service'))).toBeGreaterThan(MAX_EXPOSURE);
  });

  it('posd.service: notify, watchdog, bounded restarts, own user, device groups, no MemoryDenyWriteExecute', () => {
    const unit = join(UNITS_DIR, 'posd.service');
    const one = (key: string) => {
      const v = values(unit, key);
      expect(v, key).toHaveLength(1);
      return v[0]!;
    };
    expect(one('Type')).toBe('notify');
    expect(one('NotifyAccess')).toBe('all');
    expect(Number.parseInt(one('WatchdogSec'), 10)).toBeGreaterThan(0);
    expect(one('Restart')).toBe('on-failure');
    expect(Number(one('StartLimitBurst'))).toBeGreaterThan(0);
    expect(Number.parseInt(one('StartLimitIntervalSec'), 10)).toBeGreaterThan(0);
    expect(one('User')).toBe('posd');
    expect(one('StateDirectory')).toBe('posd');
    expect(one('ConfigurationDirectory')).toBe('posd');
    expect(one('SupplementaryGroups').split(/\s+/).sort()).toEqual(['dialout', 'lp', 'posd-hid']);
    expect(one('ExecStart')).toMatch(
      /^\/usr\/bin\/node \/opt\/posd\/dist\/src\/main\.js run --config \/etc\/posd\/posd\.json$/,
    );
    expect(values(unit, 'MemoryDenyWriteExecute')).toEqual([]);
  });

  it('posd.service: V8 sized for the terminal (1 MB semi-spaces, one helper thread), options node accepts', () => {
    const env = values(join(UNITS_DIR, 'posd.service'), 'Environment')
      .map((v) => v.replace(/^"(.*)"$/, '$1'))
      .find((v) => v.startsWith('NODE_OPTIONS='));
    const options = env?.slice('NODE_OPTIONS='.length).split(/\s+/) ?? [];
    // Issue 18: idle RSS ≤ 70 MB; each option is worth megabytes (docs/benchmarks.md "start-memory").
    expect(options).toEqual(expect.arrayContaining(['--max-semi-space-size=1', '--v8-pool-size=1']));
    const run = spawnSync(process.execPath, ['-e', '0'], {
      env: { ...process.env, NODE_OPTIONS: options.join(' ') },
    });
    expect(run.status, String(run.stderr)).toBe(0);
  });

  it("posd.service: malloc's mmap threshold fixed, in a form this glibc reads", () => {
    const env = values(join(UNITS_DIR, 'posd.service'), 'Environment').find((v) =>
      v.startsWith('GLIBC_TUNABLES='),
    );
    expect(env).toBe('GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072');
    // The dynamic loader lists the tunables as this process would run with them.
    const run = spawnSync('/lib64/ld-linux-x86-64.so.2', ['--list-tunables'], {
      env: { GLIBC_TUNABLES: env!.slice('GLIBC_TUNABLES='.length) },
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^glibc\.malloc\.mmap_threshold: 0x20000 /m);
  });

  it("posd.service: tells posd this boot's id, which its ProcSubset=pid hides from it", () => {
    const unit = join(UNITS_DIR, 'posd.service');
    expect(values(unit, 'ProcSubset')).toEqual(['pid']);
    expect(values(unit, 'Environment')).toContain('BOOT_ID=%b');
  });

  it('posd-kiosk.service starts after posd is ready and only where a display exists', () => {
    const unit = join(UNITS_DIR, 'posd-kiosk.service');
    expect(values(unit, 'After').join(' ').split(/\s+/)).toContain('posd.service');
    expect(values(unit, 'ConditionPathExistsGlob')).toContain('/dev/dri/card*');
    // sway (not cage 0.1.4: it never painted Chromium's full-screen window) with the kiosk's config:
    // no key bindings, Chromium in kiosk mode on the local UI, sway gone when Chromium is.
    expect(values(unit, 'ExecStart')[0]).toMatch(/\/usr\/bin\/sway -c \/usr\/share\/posd\/kiosk-sway\.conf$/);
    const config = readFileSync(join(IMAGE_FILES, 'kiosk-sway.conf'), 'utf8');
    expect(config).toMatch(/^exec \/usr\/lib\/posd\/kiosk-browser$/m);
    expect(config).toMatch(/^xwayland disable$/m);
    expect(config).not.toMatch(/^\s*bind(sym|code)\b/m);
    const browser = readFileSync(join(IMAGE_FILES, 'kiosk-browser'), 'utf8');
    // One Chromium in kiosk mode: the cashier page on the local UI, and where there is a second
    // screen the customer page in the same browser (kiosk-outputs.mjs chooses the screens).
    expect(browser).toMatch(/^UI=http:\/\/127\.0\.0\.1:8080$/m);
    expect(browser).toMatch(/\/usr\/bin\/chromium --kiosk /);
    expect(browser.match(/\/usr\/bin\/chromium/g)).toHaveLength(1);
    expect(browser).toMatch(/^browser "\$UI\/" &$/m);
    expect(browser).toMatch(/^\s+browser --app="\$UI\/customer" &$/m);
    expect(browser.trim().split('\n').at(-1)).toBe('exec swaymsg exit');
    // A network-service crash while the page loads leaves a kiosk window white for good: the
    // service runs inside the browser (a crash there ends Chromium, and the unit restarts it).
    expect(browser).toMatch(/--enable-features=NetworkServiceInProcess2\b/);
    // Software drawing: the GPU's render node is not the kiosk's.
    expect(values(unit, 'SupplementaryGroups').join(' ').split(/\s+/)).not.toContain('render');
  });

  it('posd-kiosk.service gets its seat from seatd and its Wayland socket in a runtime dir of its own', () => {
    const unit = join(UNITS_DIR, 'posd-kiosk.service');
    // logind's session activation needs polkit, which the image does not have (docs/operations.md).
    expect(values(unit, 'Wants').join(' ').split(/\s+/)).toContain('seatd.service');
    expect(values(unit, 'After').join(' ').split(/\s+/)).toContain('seatd.service');
    expect(values(unit, 'Environment')).toEqual(
      expect.arrayContaining(['LIBSEAT_BACKEND=seatd', 'WLR_RENDERER=pixman']),
    );
    expect(values(unit, 'RuntimeDirectory')).toEqual(['posd-kiosk']);
    // Chromium yields the CPU to posd (a slow CPU starved posd's start).
    expect(Number(values(unit, 'Nice')[0])).toBeGreaterThanOrEqual(5);
    expect(values(unit, 'ExecStart')[0]).toMatch(
      /^\/usr\/bin\/env XDG_RUNTIME_DIR=\/run\/posd-kiosk \/usr\/bin\/sway /,
    );
  });
});

describe('sysusers and tmpfiles snippets', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'posd-sysroot-'));
    roots.push(root);
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(join(root, 'usr/share/posd'), { recursive: true });
    writeFileSync(join(root, 'usr/share/posd/posd.json'), '{"device":{"tenant":"t","id":"d"}}\n');
  });

  it('systemd-sysusers creates posd (fixed uid) in the groups posd.service names', () => {
    const r = run('systemd-sysusers', [`--root=${root}`, join(UNITS_DIR, 'posd.sysusers')]);
    expect(r.status, r.output).toBe(0);
    const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
    expect(passwd).toMatch(/^posd:x:900:900:/m);
    const group = readFileSync(join(root, 'etc/group'), 'utf8');
    const supplementary = values(join(UNITS_DIR, 'posd.service'), 'SupplementaryGroups')[0]!.split(/\s+/);
    for (const g of supplementary) {
      const line = group.split('\n').find((l) => l.startsWith(`${g}:`));
      expect(line, g).toBeDefined();
      expect(line!.split(':')[3]!.split(','), g).toContain('posd');
    }
    expect(group).toMatch(/^posd-hid:x:901:/m);
  });

  it('systemd-tmpfiles makes /etc/posd root:posd 0750 with the default config 0640', () => {
    const r = run('systemd-tmpfiles', ['--create', `--root=${root}`, join(UNITS_DIR, 'posd.tmpfiles')]);
    expect(r.status, r.output).toBe(0);
    const etc = statSync(join(root, 'etc/posd'));
    expect(etc.mode & 0o777).toBe(0o750);
    expect([etc.uid, etc.gid]).toEqual([0, 900]);
    const cfg = statSync(join(root, 'etc/posd/posd.json'));
    expect(cfg.mode & 0o777).toBe(0o640);
    expect([cfg.uid, cfg.gid]).toEqual([0, 900]);
    const state = statSync(join(root, 'var/lib/posd'));
    expect([state.uid, state.mode & 0o777]).toEqual([900, 0o750]);
    // The TLS client key's directory: root only (posd gets the key through LoadCredential=).
    const priv = statSync(join(root, 'etc/posd/private'));
    expect([priv.uid, priv.gid, priv.mode & 0o777]).toEqual([0, 0, 0o700]);
  });

  it('posd.service takes the TLS client key as a credential from the root-only directory', () => {
    expect(values(join(UNITS_DIR, 'posd.service'), 'LoadCredential')).toEqual(['posd:/etc/posd/private']);
  });

  it('udev rules give scanners to posd-hid, serial to dialout, usblp to lp, with /dev/posd-* links', () => {
    const rules = readFileSync(join(UNITS_DIR, '99-posd.rules'), 'utf8').replace(/\\\n\s*/g, '');
    const lines = rules.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    const rule = (re: RegExp) => lines.filter((l) => re.test(l));
    expect(rule(/SUBSYSTEM=="hidraw".*GROUP="posd-hid"/)).toHaveLength(1);
    expect(rule(/KERNEL=="ttyUSB\[0-9\]\*\|ttyACM\[0-9\]\*", GROUP="dialout"/)).toHaveLength(1);
    expect(rule(/SUBSYSTEM=="usbmisc", KERNEL=="lp\[0-9\]\*", GROUP="lp"/)).toHaveLength(1);
    expect(rule(/SYMLINK\+="posd-printer"/)).toHaveLength(1);
    expect(rule(/SYMLINK\+="posd-scanner"/)).toHaveLength(1);
    for (const l of lines) {
      if (l.startsWith('LABEL=') || l.startsWith('ACTION==')) continue;
      // Every rule is key-op-"value" pairs separated by commas.
      expect(l, l).toMatch(
        /^(\w+(\{[^}]+\})?(==|!=|\+=|=|:=)"[^"]*")(, \w+(\{[^}]+\})?(==|!=|\+=|=|:=)"[^"]*")*$/,
      );
    }
  });
});
