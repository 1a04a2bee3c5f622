import { createHash } from 'node:crypto';
import { PosError } from '../errors.js';
import { canonicalJson } from '../offline/chain.js';
import type { Ledger } from '../offline/ledger.js';
import type { SalesStore } from '../offline/sales-store.js';
import { APP_ID_PATTERN, appIdempotencyKey } from '../platform/app-id.js';

/**
 * What a client may send (1–128 visible ASCII characters), behind the namespace a store app's key
 * is given (`appIdempotencyKey`): the app's own 128 characters still fit.
 */
const KEY = new RegExp(
  `^(?:${appIdempotencyKey(APP_ID_PATTERN.source.slice(1, -1), '')})?[\\x21-\\x7e]{1,128}$`,
);

/** Replies that may be replayed for an Idempotency-Key. */
export interface Replayable<T> {
  status: number;
  body: T;
}

/**
 * Runs `work` in one transaction, once per Idempotency-Key: a retry with the same key and request
 * gets the first reply, even after a crash (the reply is committed with the facts); another request
 * under the key is refused.
 */
export function runOnce<T>(
  deps: { ledger: Ledger; store: SalesStore; now: () => Date },
  key: string | undefined,
  scope: string,
  request: unknown,
  work: () => Replayable<T>,
): Replayable<T> {
  if (key === undefined) return deps.ledger.transact(work);
  if (!KEY.test(key)) {
    throw new PosError('BAD_REQUEST', 'Idempotency-Key must be 1..128 visible ASCII characters');
  }
  const hash = createHash('sha256')
    .update(scope)
    .update(canonicalJson(request ?? null))
    .digest('hex');
  return deps.ledger.transact(() => {
    const seen = deps.store.idempotent(key);
    if (seen) {
      if (seen.requestHash !== hash) {
        throw new PosError('IDEMPOTENCY_MISMATCH', 'this Idempotency-Key was used for a different request');
      }
      return { status: seen.status, body: seen.response as T };
    }
    const reply = work();
    deps.store.rememberIdempotent(key, hash, reply.status, reply.body, deps.now().toISOString());
    return reply;
  });
}
