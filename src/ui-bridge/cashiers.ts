import { scryptSync, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';

export interface Cashier {
  id: string;
  name: string;
  /** A manager may also restart the terminal into an update (cashiers.json `role`). */
  role?: 'manager';
}

/** The PIN check the session route needs; the lead's config will feed it later. */
export interface PinVerifier {
  verifyPin(pin: string): Cashier | undefined;
}

interface CashierEntry extends Cashier {
  /** Plain PIN (demo and tests) … */
  pin?: string;
  /** … or `scrypt$<salt hex>$<hash hex>` (64-byte key). */
  pinHash?: string;
}

/** The demo's one cashier, documented in docs/ui.md. */
export const DEMO_CASHIER: CashierEntry = { id: 'demo', name: '演示收银员', pin: '1234', role: 'manager' };

function equalStrings(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function matches(entry: CashierEntry, pin: string): boolean {
  if (entry.pinHash) {
    const [scheme, salt, hash] = entry.pinHash.split('$');
    if (scheme !== 'scrypt' || !salt || !hash) return false;
    const expected = Buffer.from(hash, 'hex');
    const given = scryptSync(pin, Buffer.from(salt, 'hex'), expected.length);
    return expected.length > 0 && timingSafeEqual(given, expected);
  }
  return entry.pin !== undefined && equalStrings(entry.pin, pin);
}

function parseEntries(raw: unknown): CashierEntry[] {
  const list = (raw as { cashiers?: unknown })?.cashiers;
  if (!Array.isArray(list)) throw new Error('expected {"cashiers":[{id, name, pin | pinHash}]}');
  return list.map((e, i) => {
    const c = e as Partial<CashierEntry>;
    if (typeof c.id !== 'string' || typeof c.name !== 'string') throw new Error(`cashiers.${i}: id and name`);
    if (typeof c.pin !== 'string' && typeof c.pinHash !== 'string') throw new Error(`cashiers.${i}: pin`);
    return c as CashierEntry;
  });
}

/**
 * Cashiers from `{stateDir}/cashiers.json`, read at each sign-in so an edit needs no restart. Without
 * the file the demo signs in with DEMO_CASHIER and `run` signs in nobody.
 */
export function fileCashiers(stateDir: string, demo: boolean, log: Logger): PinVerifier {
  const file = join(stateDir, 'cashiers.json');
  const load = (): CashierEntry[] => {
    try {
      return parseEntries(JSON.parse(readFileSync(file, 'utf8')));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return demo ? [DEMO_CASHIER] : [];
      log.warn({ file, err: describeError(err) }, 'cashiers file unusable; nobody can sign in');
      return [];
    }
  };
  return {
    verifyPin(pin) {
      const found = load().find((c) => matches(c, pin));
      if (!found) return undefined;
      return {
        id: found.id,
        name: found.name,
        ...(found.role === 'manager' ? { role: 'manager' as const } : {}),
      };
    },
  };
}
