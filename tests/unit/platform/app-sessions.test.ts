import { describe, expect, it } from 'vitest';
import { AppSessions, MAX_SESSION_MS } from '../../../src/platform/app-sessions.js';
import { decideScope, eventAllowed } from '../../../src/platform/scopes.js';

describe('app sessions', () => {
  it('expire at expiresAt, at most 12 h, and end at once when the app is removed', () => {
    let now = 1_000_000;
    const sessions = new AppSessions(() => now);
    const long = sessions.create('com.a.b', ['print'], 48 * 3_600_000);
    expect(Date.parse(long.expiresAt) - now).toBe(MAX_SESSION_MS);
    const short = sessions.create('com.a.b', ['print'], 60_000);
    const other = sessions.create('com.c.d', ['scan']);
    expect(sessions.find(short.token)?.appId).toBe('com.a.b');
    now += 60_000;
    expect(sessions.find(short.token)).toBeUndefined();
    expect(sessions.find(long.token)).toBeDefined();
    sessions.revokeApp('com.a.b');
    expect(sessions.find(long.token)).toBeUndefined();
    expect(sessions.find(other.token)?.scopes).toEqual(['scan']);
    expect(sessions.find('posdapp_forged')).toBeUndefined();
  });
});

describe('the scope table', () => {
  it('grants each route to its scope only, and nothing outside the table', () => {
    expect(decideScope('POST', '/api/v1/print-jobs', ['display'])).toEqual({ allowed: false, known: true });
    expect(decideScope('POST', '/api/v1/print-jobs', ['print'])).toEqual({ allowed: true });
    expect(decideScope('GET', '/api/v1/sales/S1', ['sales:read'])).toEqual({
      allowed: true,
      owned: { kind: 'sale', id: 'S1' },
    });
    expect(decideScope('GET', '/api/v1/sales', ['sales:read'])).toEqual({ allowed: false, known: false });
    expect(decideScope('GET', '/api/v1/ledger', ['sales:read', 'sales:write'])).toEqual({
      allowed: false,
      known: false,
    });
    expect(decideScope('DELETE', '/api/v1/apps/x', ['print'])).toEqual({ allowed: false, known: false });
    expect(eventAllowed('scan', ['print'])).toBe(false);
    expect(eventAllowed('scan', ['scan'])).toBe(true);
    expect(eventAllowed('device.status', ['scan', 'print', 'display'])).toBe(false);
    expect(eventAllowed('hello', [])).toBe(true);
  });
});
