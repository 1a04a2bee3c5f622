import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The device image, end to end: `image/build.sh` (what `npm run image` runs) builds it from Debian
// packages, and `image/test.sh` (`npm run image:test`) boots it under QEMU through its firmware (OVMF,
// systemd-boot) and reads the self-test's verdict from the serial console: three boots of provisioning
// (the first with a display: the kiosk on screen), about 6 minutes on 2 cores, then the update
// sequence on one disk (A -> B -> a bad update that falls back -> a power cut mid-install), about 8.5
// minutes more. Downloads are cached in ~/.cache/posd-image.
const ROOT = resolve(import.meta.dirname, '../..');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'image');
const OUT = mkdtempSync('/var/tmp/posd-image-out-');

afterAll(() => rmSync(OUT, { recursive: true, force: true }));

interface Result {
  status: number | null;
  stderr: string;
}

/** Runs a script, keeping its output in test-artifacts/image/NAME.log. */
function run(name: string, script: string): Promise<Result> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const log = createWriteStream(join(ARTIFACTS, `${name}.log`));
  return new Promise((done, reject) => {
    const child = spawn('bash', [script], {
      cwd: ROOT,
      env: { ...process.env, POSD_IMAGE_OUT: OUT },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stdout.pipe(log, { end: false });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      log.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (status) => {
      log.end();
      done({ status, stderr });
    });
  });
}

const tail = (text: string) => text.split('\n').slice(-40).join('\n');

describe('device image', () => {
  it('builds from Debian packages and passes its self-test under QEMU', {
    timeout: 35 * 60_000,
  }, async () => {
    const build = await run('build', 'image/build.sh');
    expect(build.status, tail(build.stderr)).toBe(0);
    const manifest = JSON.parse(readFileSync(join(OUT, 'posd-amd64.json'), 'utf8'));
    const image = join(OUT, manifest.image);

    const table = JSON.parse(
      spawnSync('sfdisk', ['--json', image], { encoding: 'utf8' }).stdout,
    ).partitiontable;
    expect(table.label).toBe('gpt');
    expect(table.partitions.map((p: { name: string }) => p.name)).toEqual([
      'posd-boot',
      'posd-root-a',
      'posd-root-b',
      'posd-data',
    ]);
    expect(table.partitions[0].type).toBe('C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
    expect(table.partitions[1].size).toBe(table.partitions[2].size);

    // The update bundle: signed by the key the image trusts, of this build's version.
    const cert = spawnSync('bash', ['image/bundle.sh', '--cert'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).stdout.trim();
    const info = spawnSync('rauc', [`--keyring=${cert}`, 'info', join(OUT, manifest.bundle.file)], {
      encoding: 'utf8',
    });
    expect(info.status, info.stderr).toBe(0);
    expect(info.stdout).toMatch(new RegExp(`Version:\\s*'${manifest.version.replace(/[.+]/g, '\\$&')}'`));
    expect(info.stdout).toMatch(/Compatible:\s*'posd-amd64'/);
    expect(info.stdout).toMatch(/Bundle Format:\s*verity/);

    const boots = await run('boot', 'image/test.sh');
    expect(boots.status, tail(boots.stderr)).toBe(0);
    expect(boots.stderr).toMatch(/\[provisioned\] PASS/);
    expect(boots.stderr).toMatch(/\[reprovision\] PASS/);
    expect(boots.stderr).toMatch(/\[rejected\] PASS/);
    // Updates (issue 20; in every run unless POSD_IMAGE_TEST_BOOTS leaves them out): an unknown key
    // refused; the cloud's signed update.install A -> B with a sale during the download, the reboot
    // held back by an open code payment until the customer confirms, B marked good by posd, every
    // sale in the cloud, up/state on the new version; a bad bundle falls back by itself and posd
    // reports rolled-back; a power cut while RAUC writes leaves the half-written slot unbooted.
    if (/\bupdate\b/.test(process.env.POSD_IMAGE_TEST_BOOTS ?? 'update')) {
      expect(boots.stderr).toMatch(/\[update\] PASS/);
      expect(boots.stderr).toMatch(/\[update\].*unknown key refused/);
      expect(boots.stderr).toMatch(/\[update\].*signed update\.install \S+-good accepted/);
      expect(boots.stderr).toMatch(/\[update\].*a sale while posd downloads the bundle/);
      expect(boots.stderr).toMatch(
        /\[update\].*the reboot waits for the unresolved code payment \(.*\b1 unresolved payment\(s\); still waiting/,
      );
      expect(boots.stderr).toMatch(/\[update\].*the customer confirms the code payment/);
      expect(boots.stderr).toMatch(/\[update\].*on B: the code payment that held the reboot back succeeded/);
      expect(boots.stderr).toMatch(/\[update\].*posd marked B good/);
      expect(boots.stderr).toMatch(/\[update\].*up\/state: appVersion \S+-good, update \{"state":"idle"/);
      expect(boots.stderr).toMatch(/\[update\].*on B: all \d+ sales in the cloud/);
      expect(boots.stderr).toMatch(/\[update\].*fell back to B after \d+ boot\(s\) of the bad A/);
      expect(boots.stderr).toMatch(
        /\[update\].*rolled-back reported: \S+-bad: .*up\/state appVersion \S+-good update rolled-back/,
      );
      expect(boots.stderr).toMatch(/\[update\].*after the fallback: all \d+ sales in the cloud/);
      expect(boots.stderr).toMatch(/\[update\].*power cut mid-install: B booted, the half-written A not/);
    }
    // A locked boot, checked in the built boot partition.
    expect(boots.stderr).toMatch(/loader\.conf: editor no, no timeout/);
    // Provisioning once: the changed unsigned file refused and visible, the signed one applied.
    expect(boots.stderr).toMatch(
      /\[reprovision\].*unsigned file refused \(UNSIGNED\); broker mqtts:\/\/broker\.invalid:8883 and cloud key kept/,
    );
    expect(boots.stderr).toMatch(/\[reprovision\].*file signed by the fleet provisioning key applied/);
    // The device key out of reach; the root read-only.
    expect(boots.stderr).toMatch(
      /\[provisioned\].*the device key \(file and credential\) is not readable as tech/,
    );
    expect(boots.stderr).toMatch(/\[provisioned\].*root read-only \(ro/);
    // The kiosk seen on screen (the provisioned boot has a display with two outputs): the PIN keypad
    // in a screendump, the customer page on the second output, the PIN tapped and the page signed
    // in to the event stream, memory with Chromium up, Chromium killed and started again.
    if ((process.env.POSD_IMAGE_TEST_DISPLAY ?? 'provisioned').includes('provisioned')) {
      expect(boots.stderr).toMatch(/\[provisioned\] kiosk: the PIN keypad on screen [\d.]+ s after power-on/);
      expect(boots.stderr).toMatch(/\[provisioned\] kiosk: the customer page on the second screen/);
      expect(boots.stderr).toMatch(
        /\[provisioned\].*kiosk signed in at [\d.]+ s: event-stream client "[^"]*Chrom/,
      );
      expect(boots.stderr).toMatch(/\[provisioned\].*2 pages on the event stream/);
      expect(boots.stderr).toMatch(
        /\[provisioned\].*memory with Chromium up: MemTotal \d+ MiB, MemAvailable \d+ MiB/,
      );
      expect(boots.stderr).toMatch(
        /\[provisioned\].*kiosk: Chromium killed \(pid \d+\); restarted by systemd/,
      );
      for (const png of ['keypad-provisioned.png', 'customer-provisioned.png'])
        expect(existsSync(join(ARTIFACTS, png)), png).toBe(true);
    }
    const readyOf = Object.fromEntries(
      [
        ...boots.stderr.matchAll(
          /\[(\w+)\] power-on to READY: [\d.?]+ s seen by the harness, ([\d.]+) s after kernel start/g,
        ),
      ].map((m) => [m[1], Number(m[2])]),
    );
    const ready = Object.values(readyOf);
    expect(ready).toHaveLength(3);
    const mib = (n: number) => `${Math.round(n / 1048576)} MiB`;
    console.log(
      `image: ${mib(manifest.bytes.raw)} raw, ${mib(manifest.bytes.allocated)} written, ${mib(manifest.bytes.zstd)} .img.zst; ` +
        `root ${manifest.rootMiB} MiB; built in ${manifest.buildSeconds} s; READY ${ready.join(' s, ')} s after kernel start`,
    );
    // Under software emulation on a busy machine: a generous bound that still catches a hang in boot.
    // The first boots of a fresh disk. (The reprovision boot's figure is printed: it waits on no
    // first-boot work, and under the load of a shared machine it has taken up to 200 s.)
    expect(readyOf.provisioned).toBeLessThan(150);
    expect(readyOf.rejected).toBeLessThan(150);
  });
});
