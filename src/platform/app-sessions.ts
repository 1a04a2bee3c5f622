import { createHash, randomBytes } from 'node:crypto';
import type { AppScope } from './scopes.js';

/** App tokens say what they are, so a request carrying one is never mistaken for the technician's. */
export const APP_TOKEN_PREFIX = 'posdapp_';
export const MAX_SESSION_MS = 12 * 3_600_000;

export interface AppSession {
  appId: string;
  scopes: readonly AppScope[];
  expiresAt: number;
}

function hashOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * App sessions: scoped, expiring bearer tokens, kept in memory only (hashed). A restart or the
 * app's removal ends them at once; the cashier UI asks for a new one when it opens the app.
 */
export class AppSessions {
  private readonly sessions = new Map<string, AppSession>();

  constructor(private readonly now: () => number = Date.now) {}

  create(
    appId: string,
    scopes: readonly AppScope[],
    ttlMs = MAX_SESSION_MS,
  ): { token: string; expiresAt: string } {
    this.prune();
    const token = `${APP_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const expiresAt = this.now() + Math.min(ttlMs, MAX_SESSION_MS);
    this.sessions.set(hashOf(token), { appId, scopes: [...scopes], expiresAt });
    return { token, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** The live session of `token`, or undefined (unknown, expired or revoked). */
  find(token: string): AppSession | undefined {
    const s = this.sessions.get(hashOf(token));
    if (!s) return undefined;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(hashOf(token));
      return undefined;
    }
    return s;
  }

  /** Every session of `appId` ends now. */
  revokeApp(appId: string): void {
    for (const [hash, s] of this.sessions) if (s.appId === appId) this.sessions.delete(hash);
  }

  /** Whether `session` is still one this store holds (an open event stream checks before each frame). */
  live(session: AppSession): boolean {
    if (session.expiresAt <= this.now()) return false;
    for (const s of this.sessions.values()) if (s === session) return true;
    return false;
  }

  private prune(): void {
    const t = this.now();
    for (const [hash, s] of this.sessions) if (s.expiresAt <= t) this.sessions.delete(hash);
  }
}
