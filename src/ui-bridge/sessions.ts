import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import type { Cashier } from './cashiers.js';

export const SESSION_COOKIE = 'posd_session';
const SESSION_TTL_MS = 16 * 3_600_000;

interface StoredSession extends Cashier {
  expiresAt: number;
}

function hashOf(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('hex');
}

export function cookieValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  for (const part of (headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Signed-in cashiers. Only a hash of each session id is kept, in `{stateDir}/sessions.json` (0600),
 * so a daemon restart does not sign the kiosk out and a stolen file signs nobody in.
 */
export class SessionStore {
  private readonly file: string;
  private sessions = new Map<string, StoredSession>();

  constructor(
    stateDir: string,
    private readonly now: () => number = Date.now,
  ) {
    this.file = join(stateDir, 'sessions.json');
    this.load();
  }

  create(cashier: Cashier): { id: string; maxAgeSeconds: number } {
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(hashOf(id), { ...cashier, expiresAt: this.now() + SESSION_TTL_MS });
    this.save();
    return { id, maxAgeSeconds: SESSION_TTL_MS / 1000 };
  }

  cashierOf(headers: IncomingHttpHeaders): Cashier | undefined {
    const id = cookieValue(headers, SESSION_COOKIE);
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const s = this.sessions.get(hashOf(id));
    if (!s || s.expiresAt <= this.now()) return undefined;
    return { id: s.id, name: s.name };
  }

  destroy(headers: IncomingHttpHeaders): void {
    const id = cookieValue(headers, SESSION_COOKIE);
    if (id && this.sessions.delete(hashOf(id))) this.save();
  }

  private load(): void {
    try {
      const raw = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, StoredSession>;
      for (const [hash, s] of Object.entries(raw)) {
        if (typeof s?.expiresAt === 'number' && s.expiresAt > this.now()) this.sessions.set(hash, s);
      }
    } catch {
      // No file or an unreadable one: nobody is signed in.
    }
  }

  private save(): void {
    for (const [hash, s] of this.sessions) if (s.expiresAt <= this.now()) this.sessions.delete(hash);
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.sessions)), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
  }
}

export function sessionCookie(id: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSeconds}`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
}
