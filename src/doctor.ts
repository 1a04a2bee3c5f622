import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { LoadedConfig } from './config/load.js';
import type { PosdConfig } from './config/schema.js';
import { explain, type HintPlace } from './doctor-hints.js';
import { deviceHealthy } from './drivers/device.js';
import { parseDeviceUri } from './drivers/transport/uri.js';
import { describeError } from './errors.js';
import { ExitCode } from './lifecycle/exit-codes.js';
import { StateLock } from './lifecycle/state-lock.js';
import { compatibleDownTo, latestVersion, schemaUsable } from './offline/db.js';
import { redactBrokerUrl } from './sync/broker-url.js';
import { RaucCli } from './update/rauc.js';
import { UpdateStateStore } from './update/update-state.js';
import { summaryLine, updateSummary } from './update/update-summary.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do about a failure (or a gap), printed under it. */
  hint?: string;
}

/** A failed check of `name`: what the error means here, and what to do. */
function failed(name: string, place: HintPlace, prefix: string, err: unknown): Check {
  const { detail, hint } = explain(place, err);
  return { name, ok: false, detail: `${prefix}: ${detail}`, ...(hint ? { hint } : {}) };
}

function tcpReachable(host: string, port: number, timeoutMs = 3_000): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (problem: Error | undefined) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(timeoutMs, () =>
      done(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
    );
    socket.once('connect', () => done(undefined));
    socket.once('error', (err) => done(err));
  });
}

async function deviceCheck(name: string, uri: string): Promise<Check> {
  const parsed = parseDeviceUri(uri);
  switch (parsed.kind) {
    case 'none':
      return { name, ok: true, detail: 'disabled (none)' };
    case 'sim':
      return { name, ok: true, detail: 'simulated' };
    case 'tcp': {
      const problem = await tcpReachable(parsed.host, parsed.port);
      return problem ? failed(name, 'tcp', uri, problem) : { name, ok: true, detail: `${uri} reachable` };
    }
    case 'serial':
    case 'file':
      try {
        accessSync(parsed.path, constants.R_OK | constants.W_OK);
        return { name, ok: true, detail: `${parsed.path} present` };
      } catch (err) {
        return failed(name, 'device-file', parsed.path, err);
      }
    case 'hid':
      return { name, ok: true, detail: `${uri} (HID devices are checked by the running daemon)` };
  }
}

type LiveDevices = Record<'printer' | 'scanner' | 'display', Record<string, unknown> & { state: string }>;

/** The running daemon's own view of its devices (it holds them open), or undefined when it is not up. */
async function liveDevices(config: PosdConfig): Promise<LiveDevices | undefined> {
  let token: string;
  try {
    token = readFileSync(join(config.stateDir, 'ui-token'), 'utf8').trim();
  } catch {
    return undefined; // not readable by this user, or never started
  }
  const host = config.ui.host === '0.0.0.0' ? '127.0.0.1' : config.ui.host;
  try {
    const res = await fetch(
      `http://${host.includes(':') ? `[${host}]` : host}:${config.ui.port}/api/v1/devices`,
      {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(2_000),
      },
    );
    return res.ok ? ((await res.json()) as LiveDevices) : undefined;
  } catch {
    return undefined;
  }
}

function liveDeviceCheck(name: string, uri: string, d: LiveDevices[keyof LiveDevices]): Check {
  const details = ['paper', 'cover', 'reason', 'identity']
    .filter((k) => d[k] !== undefined)
    .map((k) => `${k} ${String(d[k])}`);
  const error = d.error as { code?: string; message?: string } | boolean | undefined;
  if (error && typeof error === 'object') details.push(`${error.code ?? ''} ${error.message ?? ''}`.trim());
  return {
    name,
    ok: deviceHealthy(d.state),
    detail: `${uri}: ${d.state} (running daemon)${details.length ? `; ${details.join(', ')}` : ''}`,
  };
}

function stateDirCheck(config: PosdConfig): Check[] {
  const checks: Check[] = [];
  try {
    const st = statSync(config.stateDir);
    if (!st.isDirectory()) {
      return [
        failed('state dir', 'state-dir', config.stateDir, Object.assign(new Error(), { code: 'ENOTDIR' })),
      ];
    }
    accessSync(config.stateDir, constants.W_OK);
    checks.push({ name: 'state dir', ok: true, detail: config.stateDir });
  } catch (err) {
    // A fresh install: posd creates its state dir at its first start (systemd's StateDirectory too).
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return [
        {
          name: 'state dir',
          ok: true,
          detail: `${config.stateDir}: not started yet (posd creates it at its first start)`,
        },
      ];
    }
    checks.push(failed('state dir', 'state-dir', config.stateDir, err));
    return checks;
  }
  try {
    const held = StateLock.isHeld(config.stateDir);
    checks.push({ name: 'daemon', ok: true, detail: held ? 'running (state dir locked)' : 'not running' });
  } catch (err) {
    checks.push({ name: 'daemon', ok: false, detail: describeError(err) });
  }
  return checks;
}

/** A clock before the build year means the RTC lost its time: receipts and tokens would be wrong. */
function clockCheck(now: Date): Check {
  const ok = now.getUTCFullYear() >= 2025;
  return { name: 'clock', ok, detail: `${now.toISOString()}${ok ? '' : ' (clock not set?)'}` };
}

/** Ledger and outbox figures, read-only (the daemon may be running: WAL lets us read beside it). */
function ledgerCheck(stateDir: string): Check {
  const file = join(stateDir, 'posd.db');
  if (!existsSync(file)) return { name: 'ledger', ok: true, detail: 'no ledger yet (first start pending)' };
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 2_000 });
    const version = db.pragma('user_version', { simple: true }) as number;
    if (!schemaUsable(db, latestVersion()).ok) {
      return {
        name: 'ledger',
        ok: false,
        detail: `schema ${version} is newer than this posd (${latestVersion()})`,
      };
    }
    const q = <T>(sql: string) => db!.prepare(sql).get() as T;
    const last = q<{ seq: number | null }>('SELECT max(seq) AS seq FROM ledger').seq ?? 0;
    const head = q<{ acked_up_to: number } | undefined>('SELECT acked_up_to FROM ledger_head WHERE one = 1');
    const acked = head?.acked_up_to ?? 0;
    const outbox = q<{ n: number; oldest: string | null }>(
      `SELECT count(*) AS n, min(at) AS oldest FROM ledger WHERE seq > ${acked} AND sync <> 'rejected'`,
    );
    const rejected = db
      .prepare("SELECT seq, type, sync_code AS code FROM ledger WHERE sync = 'rejected' ORDER BY seq")
      .all() as Array<{ seq: number; type: string; code: string }>;
    const parts = [`last seq ${last}`, `acked ${acked}`, `outbox ${outbox.n}`];
    if (version > latestVersion()) {
      parts.push(`schema ${version} from a newer posd, compatible down to ${compatibleDownTo(db)}`);
    }
    if (outbox.oldest) parts.push(`oldest unsynced ${outbox.oldest}`);
    if (rejected.length > 0) {
      parts.push(
        `REJECTED ${rejected.length}: ${rejected
          .slice(0, 5)
          .map((r) => `#${r.seq} ${r.type} ${r.code}`)
          .join(', ')}`,
      );
    }
    return { name: 'ledger', ok: rejected.length === 0, detail: parts.join(', ') };
  } catch (err) {
    return failed('ledger', 'ledger', file, err);
  } finally {
    db?.close();
  }
}

/**
 * Money the terminal owes or has not settled: reversals of QR payments paid after they were closed
 * (a customer charged twice until done: a failure), and payments whose outcome is not known yet;
 * also shown: coupons the cloud found used twice and recharges it refused or has not answered.
 */
export function moneyCheck(stateDir: string): Check | undefined {
  const file = join(stateDir, 'posd.db');
  if (!existsSync(file)) return undefined;
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 2_000 });
    const hasReversals = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'payment_reversals'")
      .get();
    const reversals = hasReversals
      ? (db
          .prepare(
            "SELECT payment_id AS paymentId, amount, attempts, last_error AS lastError FROM payment_reversals WHERE status = 'pending' ORDER BY created_at",
          )
          .all() as Array<{ paymentId: string; amount: number; attempts: number; lastError: string | null }>)
      : [];
    const unresolved = (
      db.prepare("SELECT count(*) AS n FROM payments WHERE status IN ('pending', 'unknown')").get() as {
        n: number;
      }
    ).n;
    const parts = [`unresolved payments ${unresolved}`];
    if (reversals.length > 0) {
      parts.push(
        `REVERSALS NOT DONE ${reversals.length}: ${reversals
          .slice(0, 5)
          .map(
            (r) => `${r.paymentId} ${r.amount} (${r.attempts} tries${r.lastError ? `, ${r.lastError}` : ''})`,
          )
          .join(', ')}`,
      );
    } else {
      parts.push('no reversal owed');
    }
    parts.push(...loyaltyFigures(db));
    return { name: 'money', ok: reversals.length === 0, detail: parts.join(', ') };
  } catch (err) {
    return failed('money', 'ledger', file, err);
  } finally {
    db?.close();
  }
}

/** Coupon double uses and recharges not credited, for the technician (they never fail the check). */
function loyaltyFigures(db: Database.Database): string[] {
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  const parts: string[] = [];
  const conflicts = count("SELECT count(*) AS n FROM redemptions WHERE status = 'conflict'");
  if (conflicts > 0) parts.push(`COUPON CONFLICTS ${conflicts} (GET /api/v1/coupons/conflicts)`);
  const refused = count("SELECT count(*) AS n FROM recharges WHERE status = 'failed'");
  if (refused > 0) parts.push(`RECHARGES REFUSED ${refused} (cash handed back)`);
  const pending = count("SELECT count(*) AS n FROM recharges WHERE status = 'pending'");
  if (pending > 0) parts.push(`recharges not yet confirmed ${pending}`);
  return parts;
}

/**
 * The config loaded (else doctor would have exited 78), but one that reaches a cloud broker without
 * the cloud's public key is incomplete: every signed config push and command would be refused.
 */
function configCheck(loaded: LoadedConfig): Check {
  const { config } = loaded;
  const notes = [...loaded.warnings];
  if (config.mqtt.url && !config.cloud.publicKey) {
    const hint =
      "set cloud.publicKey to the cloud's Ed25519 public key (PEM; `node dist/cloud/cli.js keygen` prints one for the reference cloud)";
    if (config.mqtt.url.startsWith('mqtts://')) {
      return {
        name: 'config',
        ok: false,
        detail: `incomplete: mqtt.url is a cloud broker but cloud.publicKey is missing, so every config push and command from the cloud would be refused${notes.length ? `; ${notes.join('; ')}` : ''}`,
        hint,
      };
    }
    notes.push('no cloud.publicKey: config pushes and commands from the cloud would be refused');
  }
  return { name: 'config', ok: true, detail: notes.length ? `valid; ${notes.join('; ')}` : 'valid' };
}

export async function collectChecks(loaded: LoadedConfig, now = new Date()): Promise<Check[]> {
  const { config } = loaded;
  const checks: Check[] = [
    configCheck(loaded),
    ...stateDirCheck(config),
    clockCheck(now),
    ledgerCheck(config.stateDir),
  ];
  const money = moneyCheck(config.stateDir);
  if (money) checks.push(money);
  // The slots and the last update: no RAUC here is a fact, not a failure.
  const updates = await updateSummary(
    new RaucCli(config.update.rauc),
    new UpdateStateStore(config.stateDir).get(),
  );
  checks.push({ name: 'updates', ok: true, detail: summaryLine(updates) });
  // A device held open by the running daemon is judged by the daemon (paper, cover, link); else probed.
  const live = await liveDevices(config);
  for (const device of ['printer', 'scanner', 'display'] as const) {
    const seen = live?.[device];
    checks.push(
      seen
        ? liveDeviceCheck(device, config[device].uri, seen)
        : await deviceCheck(device, config[device].uri),
    );
  }
  const brokers = config.mqtt.urls ?? (config.mqtt.url ? [config.mqtt.url] : []);
  if (brokers.length > 0) {
    // Several brokers (a cluster's nodes): the link works while one answers; the others are named.
    const probed = await Promise.all(
      brokers.map(async (b) => {
        const url = new URL(b);
        const port = Number(url.port || (url.protocol === 'mqtts:' ? 8883 : 1883));
        return { shown: redactBrokerUrl(b), problem: await tcpReachable(url.hostname, port) };
      }),
    );
    const down = probed.filter((p) => p.problem);
    const first = down[0];
    if (first && down.length === probed.length) {
      checks.push(failed('broker', 'broker', probed.map((p) => p.shown).join(', '), first.problem));
    } else {
      const detail = probed
        .map((p) =>
          p.problem
            ? `${p.shown} unreachable (${(p.problem as { code?: string }).code ?? p.problem.message})`
            : p.shown,
        )
        .join(', ');
      checks.push({ name: 'broker', ok: true, detail });
    }
  } else {
    checks.push({ name: 'broker', ok: true, detail: 'none configured (offline-only)' });
  }
  return checks;
}

export async function runDoctor(loaded: LoadedConfig, out: NodeJS.WritableStream): Promise<number> {
  const checks = await collectChecks(loaded);
  for (const c of checks) {
    out.write(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(10)} ${c.detail}\n`);
    if (c.hint) out.write(`      ${''.padEnd(10)} → ${c.hint}\n`);
  }
  const failed = checks.filter((c) => !c.ok).length;
  out.write(failed === 0 ? 'all checks passed\n' : `${failed} check(s) failed\n`);
  return failed === 0 ? ExitCode.OK : ExitCode.FAILURE;
}
