import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTar } from '../../../src/platform/tar.js';
import { appPackage, manifestOf } from '../../helpers/app-packages.js';
import { appsGet, asTechnician, type PlatformApp, startPlatformApp } from './platform-fixture.js';

/*
 * Contract platform-v1 "The package" and "Installing and removing": hostile packages are refused
 * whole with nothing written; an install is atomic; the ledger records each install and removal.
 */

let p: PlatformApp;
let tech: ReturnType<typeof asTechnician>;
let files: Server;
const served = new Map<string, Buffer>();

beforeAll(async () => {
  p = await startPlatformApp();
  tech = asTechnician(p);
  files = createServer((req, res) => {
    const body = served.get(req.url ?? '');
    if (!body) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/gzip' }).end(body);
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
}, 30_000);

afterAll(async () => {
  await p?.stop();
  files?.close();
});

function appsDirListing(): string[] {
  const root = join(p.stateDir, 'apps');
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      out.push(`${rel}${e.name}`);
      if (e.isDirectory()) walk(join(dir, e.name), `${rel}${e.name}/`);
    }
  };
  if (existsSync(root)) walk(root, '');
  return out.sort();
}

function ledgerTypes(type: string) {
  const out = [];
  for (let seq = 1; ; seq++) {
    const r = p.app.ledger.get(seq);
    if (!r) break;
    if (r.type === type) out.push(r);
  }
  return out;
}

const install = (pkg: Buffer) => tech('POST', '/api/v1/apps', pkg, 'application/gzip');

const hostile: Array<[string, Buffer]> = [
  ['a symbolic link', appPackage({}, [{ path: 'evil', typeflag: '2', linkname: '/etc/passwd' }])],
  ['a hard link', appPackage({}, [{ path: 'evil', typeflag: '1', linkname: 'index.html' }])],
  ['a character device', appPackage({}, [{ path: 'tty', typeflag: '3' }])],
  ['a block device', appPackage({}, [{ path: 'disk', typeflag: '4' }])],
  ['a fifo', appPackage({}, [{ path: 'pipe', typeflag: '6' }])],
  [
    'a pax header',
    appPackage({}, [{ path: 'PaxHeader', typeflag: 'x', data: '30 path=../../etc/cron.d/x\n' }]),
  ],
  ['a .. segment', appPackage({}, [{ path: 'a/../../outside.js', data: 'x' }])],
  ['a leading ..', appPackage({}, [{ path: '../outside.js', data: 'x' }])],
  ['an absolute path', appPackage({}, [{ path: '/tmp/evil.js', data: 'x' }])],
  ['a file twice', appPackage({}, [{ path: 'index.html', data: 'again' }])],
  ['over 10 MiB unpacked', appPackage({}, [{ path: 'big.bin', data: Buffer.alloc(10 * 1024 * 1024 + 1) }])],
  [
    'over 1,000 files',
    appPackage(
      {},
      Array.from({ length: 1000 }, (_, i) => ({ path: `f/${i}.txt`, data: 'x' })),
    ),
  ],
  ['no manifest', gzipSync(writeTar([{ path: 'index.html', data: 'x' }]))],
  ['a bad id', appPackage({ id: 'Com.Example' })],
  ['an entry not in the package', appPackage({ entry: 'missing.html' })],
  ['an unknown scope', appPackage({ scopes: ['print', 'ledger'] })],
  ['not semver', appPackage({ version: '1.0' })],
  ['not gzip', Buffer.from('plain text')],
  ['a corrupt tar', gzipSync(Buffer.alloc(2048, 7))],
];

describe('hostile packages', () => {
  for (const [what, pkg] of hostile) {
    it(`${what}: 422 APP_PACKAGE_INVALID, nothing written, nothing recorded`, async () => {
      const before = appsDirListing();
      const recorded = ledgerTypes('app.installed').length;
      const r = await install(pkg);
      expect(r.status).toBe(422);
      expect((r.json.error as { code: string }).code).toBe('APP_PACKAGE_INVALID');
      expect(appsDirListing()).toEqual(before);
      expect(ledgerTypes('app.installed')).toHaveLength(recorded);
    });
  }
});

describe('installing locally', () => {
  it('only the technician token installs; a cashier or no token cannot', async () => {
    const pkg = appPackage({ id: 'com.example.nobody' });
    const anon = await fetch(`${p.base}/api/v1/apps`, {
      method: 'POST',
      headers: { 'content-type': 'application/gzip' },
      body: pkg,
    });
    expect(anon.status).toBe(401);
    const signIn = await fetch(`${p.base}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pin: '2468' }),
    });
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!;
    const asCashier = await fetch(`${p.base}/api/v1/apps`, {
      method: 'POST',
      headers: { 'content-type': 'application/gzip', cookie },
      body: pkg,
    });
    expect(asCashier.status).toBe(403);
    expect(p.app.platform.registry?.get('com.example.nobody')).toBeUndefined();
  });

  it('installs, lists, serves, upgrades, and a failed upgrade leaves the old version serving', async () => {
    const v1 = appPackage({ id: 'com.example.queue', version: '1.0.0' }, [], '<h1>v1</h1>');
    const r = await install(v1);
    expect(r.status).toBe(201);
    expect(r.json).toEqual({ appId: 'com.example.queue', version: '1.0.0', scopes: ['print', 'display'] });
    const list = await tech('GET', '/api/v1/apps');
    expect(list.json.apps).toEqual([
      expect.objectContaining({ appId: 'com.example.queue', name: '排队取号', version: '1.0.0' }),
    ]);
    await p.app.platform.ensureServer();
    expect((await appsGet(p, 'com-example-queue', '/')).text).toBe('<h1>v1</h1>');

    const broken = appPackage({ id: 'com.example.queue', version: '2.0.0' }, [
      { path: 'x', typeflag: '2', linkname: '/' },
    ]);
    expect((await install(broken)).status).toBe(422);
    expect((await appsGet(p, 'com-example-queue', '/')).text).toBe('<h1>v1</h1>');
    expect((await tech('GET', '/api/v1/apps')).json.apps).toEqual([
      expect.objectContaining({ version: '1.0.0' }),
    ]);

    const v2 = appPackage({ id: 'com.example.queue', version: '2.0.0' }, [], '<h1>v2</h1>');
    expect((await install(v2)).status).toBe(201);
    expect((await appsGet(p, 'com-example-queue', '/')).text).toBe('<h1>v2</h1>');
    // One version folder: the old one went after the commit.
    expect(readdirSync(join(p.stateDir, 'apps', 'com.example.queue'))).toHaveLength(1);
    const installs = ledgerTypes('app.installed').filter((x) => x.body.appId === 'com.example.queue');
    expect(installs.map((x) => x.body)).toEqual([
      { appId: 'com.example.queue', version: '1.0.0', scopes: ['print', 'display'] },
      { appId: 'com.example.queue', version: '2.0.0', scopes: ['print', 'display'] },
    ]);
  });

  it('the apps listener serves only the app its host names, with a strict CSP', async () => {
    const page = await appsGet(p, 'com-example-queue', '/index.html');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`connect-src http://127.0.0.1:${p.port} http://localhost:${p.port}`);
    expect(csp).not.toContain('*');
    expect((await appsGet(p, 'com-example-other', '/')).status).toBe(404);
    expect((await appsGet(p, 'com-example-queue', '/../../ui-token')).status).toBe(404);
    expect((await appsGet(p, 'com-example-queue', '/%2e%2e/%2e%2e/ui-token')).status).toBe(404);
  });

  it('removes: 204, recorded, files gone, no longer served', async () => {
    const r = await tech('DELETE', '/api/v1/apps/com.example.queue');
    expect(r.status).toBe(204);
    expect(ledgerTypes('app.removed').map((x) => x.body)).toEqual([{ appId: 'com.example.queue' }]);
    expect(existsSync(join(p.stateDir, 'apps', 'com.example.queue'))).toBe(false);
    expect((await appsGet(p, 'com-example-queue', '/')).status).toBe(404);
    expect((await tech('DELETE', '/api/v1/apps/com.example.queue')).status).toBe(404);
  });
});

describe('installing by cloud command', () => {
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const url = (name: string) => `http://127.0.0.1:${(files.address() as AddressInfo).port}/${name}`;
  let n = 0;
  const run = (args: Record<string, unknown>) => p.app.commands.run(`cmd-${++n}`, 'app.install', args);

  it('downloads, checks the sha256 and the manifest against the command, installs and records', async () => {
    const pkg = appPackage({ id: 'com.example.bills', version: '1.2.0', scopes: ['scan', 'print'] });
    served.set('/bills.tgz', pkg);
    const ok = await run({
      appId: 'com.example.bills',
      version: '1.2.0',
      url: url('bills.tgz'),
      sha256: sha(pkg),
      scopes: ['print', 'scan'],
    });
    expect(ok).toEqual({
      ok: true,
      result: { appId: 'com.example.bills', version: '1.2.0', scopes: ['scan', 'print'] },
    });
    expect(p.app.platform.registry?.get('com.example.bills')?.version).toBe('1.2.0');
  });

  it('refuses a bad sha256, a lying manifest (id, version, scopes) and a URL off loopback, writing nothing', async () => {
    const pkg = appPackage({ id: 'com.example.liar', version: '1.0.0', scopes: ['print'] });
    served.set('/liar.tgz', pkg);
    const good = {
      appId: 'com.example.liar',
      version: '1.0.0',
      url: url('liar.tgz'),
      sha256: sha(pkg),
      scopes: ['print'],
    };
    const before = appsDirListing();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...good, sha256: sha(Buffer.from('other')) }, 'APP_PACKAGE_INVALID'],
      [{ ...good, appId: 'com.example.other' }, 'APP_PACKAGE_INVALID'],
      [{ ...good, version: '1.0.1' }, 'APP_PACKAGE_INVALID'],
      [{ ...good, scopes: ['print', 'sales:write'] }, 'APP_PACKAGE_INVALID'],
      [{ ...good, scopes: [] }, 'APP_PACKAGE_INVALID'],
      [{ ...good, url: 'http://example.com/liar.tgz' }, 'VALIDATION_FAILED'],
      [{ ...good, url: 'file:///etc/passwd' }, 'VALIDATION_FAILED'],
    ];
    for (const [args, code] of cases) {
      const r = await run(args);
      expect(r.ok, JSON.stringify(args)).toBe(false);
      expect(r.ok === false && r.error.code).toBe(code);
    }
    expect(appsDirListing()).toEqual(before);
    expect(p.app.platform.registry?.get('com.example.liar')).toBeUndefined();
    // Each command is recorded as executed, failed.
    expect(ledgerTypes('cmd.executed').filter((r) => r.body.ok === false).length).toBeGreaterThanOrEqual(
      cases.length,
    );
  });

  it('app.remove removes and records; an absent app is already gone', async () => {
    const r = await p.app.commands.run('rm-1', 'app.remove', { appId: 'com.example.bills' });
    expect(r).toEqual({ ok: true, result: { appId: 'com.example.bills', removed: true } });
    expect(ledgerTypes('app.removed').some((x) => x.body.appId === 'com.example.bills')).toBe(true);
    const again = await p.app.commands.run('rm-2', 'app.remove', { appId: 'com.example.bills' });
    expect(again).toEqual({ ok: true, result: { appId: 'com.example.bills', removed: false } });
  });
});

it('the manifest helper writes what the contract shows', () => {
  expect(JSON.parse(manifestOf())).toMatchObject({ id: 'com.example.queue', entry: 'index.html' });
});
