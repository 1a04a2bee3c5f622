/**
 * The one table of what an app token may reach (contract platform-v1 "What an app may do"). Every
 * request with an app token is checked here before any route runs; what is not in the table is
 * `SCOPE_DENIED`, so a new route is closed to apps until it is added.
 */
export const APP_SCOPES = [
  'print',
  'display',
  'scan',
  'sales:read',
  'sales:write',
  'members:read',
  'orders:read',
] as const;
export type AppScope = (typeof APP_SCOPES)[number];

export interface ScopeRule {
  method: string;
  pattern: RegExp;
  /** Any one of these grants the route. */
  scopes: readonly AppScope[];
  /** The route names a sale (or a payment of one): only the app's own. */
  owned?: 'sale' | 'payment';
}

const ID = '([^/]+)';

export const SCOPE_RULES: readonly ScopeRule[] = [
  { method: 'POST', pattern: /^\/api\/v1\/print-jobs$/, scopes: ['print'] },
  { method: 'POST', pattern: /^\/api\/v1\/display$/, scopes: ['display'] },
  { method: 'POST', pattern: /^\/api\/v1\/sales$/, scopes: ['sales:write'] },
  {
    method: 'GET',
    pattern: new RegExp(`^/api/v1/sales/${ID}$`),
    scopes: ['sales:read'],
    owned: 'sale',
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/api/v1/sales/${ID}/(payments|void|refunds)$`),
    scopes: ['sales:write'],
    owned: 'sale',
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/api/v1/payments/${ID}$`),
    scopes: ['sales:read', 'sales:write'],
    owned: 'payment',
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/api/v1/payments/${ID}/cancel$`),
    scopes: ['sales:write'],
    owned: 'payment',
  },
  { method: 'POST', pattern: /^\/api\/v1\/members\/lookup$/, scopes: ['members:read'] },
  { method: 'GET', pattern: /^\/api\/v1\/orders$/, scopes: ['orders:read'] },
  // The event stream itself: open to every app; what it carries is filtered by `eventScopes`.
  { method: 'GET', pattern: /^\/api\/v1\/events$/, scopes: [...APP_SCOPES] },
];

export type ScopeDecision =
  | { allowed: true; owned?: { kind: 'sale' | 'payment'; id: string } }
  | { allowed: false; known: boolean };

/** Whether `scopes` reach `method path`. `known` tells a route outside the table (never for apps). */
export function decideScope(method: string, path: string, scopes: readonly string[]): ScopeDecision {
  for (const rule of SCOPE_RULES) {
    if (rule.method !== method) continue;
    const m = rule.pattern.exec(path);
    if (!m) continue;
    if (!rule.scopes.some((s) => scopes.includes(s))) return { allowed: false, known: true };
    if (!rule.owned) return { allowed: true };
    let id: string;
    try {
      id = decodeURIComponent(m[1]!);
    } catch {
      return { allowed: false, known: true };
    }
    return { allowed: true, owned: { kind: rule.owned, id } };
  }
  return { allowed: false, known: false };
}

/**
 * Event types an app's stream may carry, and the scope that grants each. Sale and payment
 * updates go only to the app that made the sale (checked by the stream), to a reader or a writer:
 * an app that takes a code payment learns its outcome there.
 */
export const EVENT_SCOPES: Readonly<Record<string, readonly AppScope[]>> = {
  scan: ['scan'],
  'sale.updated': ['sales:read', 'sales:write'],
  'payment.updated': ['sales:read', 'sales:write'],
  'order.updated': ['orders:read'],
};

export function eventAllowed(type: string, scopes: readonly string[]): boolean {
  if (type === 'hello' || type === 'resync') return true;
  return (EVENT_SCOPES[type] ?? []).some((s) => scopes.includes(s));
}
