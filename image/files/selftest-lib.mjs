// Helpers of the image's self-test (selftest.mjs and its parts): the console marker, systemd and
// journal queries, the local API, the config, the technician.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const STATE = '/var/lib/posd';
export const KEY = '/etc/posd/private/mqtt-client.key';
export const CREDENTIAL = '/run/credentials/posd.service/posd_mqtt-client.key';
export const API = 'http://127.0.0.1:8080';
export const cmdline = readFileSync('/proc/cmdline', 'utf8');
export const mode = /(?:^|\s)posd\.selftest=(\S+)/.exec(cmdline)?.[1] ?? '1';
/** posd.selftest.datamin=MiB: the data file system must have grown to at least this size. */
export const dataMin = Number(/(?:^|\s)posd\.selftest\.datamin=(\d+)/.exec(cmdline)?.[1] ?? 0);

export class Failure extends Error {}
export const say = (line) => process.stdout.write(`POSD-SELFTEST: ${line}\n`);
export const fail = (reason) => {
  throw new Failure(reason);
};
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** A systemd time span as `systemctl show` prints it ("30s", "1min 30s", "500ms") in seconds. */
export const span = (text) => {
  const unit = { us: 1e-6, ms: 1e-3, s: 1, min: 60, h: 3600 };
  let total = 0;
  for (const [, n, u] of text.matchAll(/(\d+(?:\.\d+)?)\s*(us|ms|s|min|h)\b/g)) total += Number(n) * unit[u];
  return total;
};
export const uptime = () => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);

export function show(unit, ...props) {
  const out = execFileSync('systemctl', ['show', unit, ...props.map((p) => `--property=${p}`)], {
    encoding: 'utf8',
  });
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

export function journal(unit) {
  return execFileSync('journalctl', ['-b', '-u', unit, '-o', 'cat', '--no-pager'], { encoding: 'utf8' });
}

export async function waitActive(what, timeoutS, extra = () => true) {
  const deadline = uptime() + timeoutS;
  for (;;) {
    const s = show(
      'posd.service',
      'ActiveState',
      'SubState',
      'MainPID',
      'NRestarts',
      'ActiveEnterTimestampMonotonic',
      'Result',
    );
    if (s.ActiveState === 'active' && s.SubState === 'running' && extra(s)) return s;
    if (s.ActiveState === 'failed') fail(`${what}: posd.service failed (${s.Result})`);
    if (uptime() > deadline)
      fail(`${what}: posd not READY within ${timeoutS} s (${s.ActiveState}/${s.SubState})`);
    await sleep(250);
  }
}

export async function http(method, path, body, token) {
  const headers = { ...(body ? { 'content-type': 'application/json' } : {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${API}${path}`, {
    method,
    headers,
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

export async function healthy(what) {
  const h = await http('GET', '/healthz');
  if (h.status !== 200 || !['ok', 'degraded'].includes(h.json?.status)) {
    fail(`${what}: /healthz answered ${h.status} ${h.text.slice(0, 200)}`);
  }
  return h.json.status;
}

export function config() {
  return JSON.parse(readFileSync('/etc/posd/posd.json', 'utf8'));
}

export const passwdEntry = (name) =>
  readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));

/** As the technician: `spawnSync` so that a non-zero exit still gives us the output. */
export function asTech(...argv) {
  const r = spawnSync('runuser', ['-u', 'tech', '--', ...argv], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

export const sha256 = (text) => createHash('sha256').update(String(text).trim()).digest('hex');
