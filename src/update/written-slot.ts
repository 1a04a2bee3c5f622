import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Installer, SlotStatus } from './rauc.js';
import { sameRelease } from './update-state.js';

/** RAUC calls after an install (its status, keeping the booted slot): tries before giving up. */
const RAUC_TRIES = 3;

export interface WrittenSlotOptions {
  installer: Installer;
  /** posd stopping: no more tries, nothing decided. */
  signal: AbortSignal;
  /** Between tries. */
  retryMs: number;
  log: Logger;
}

/** After the install: go on, posd is stopping (decide nothing), or the update's error. */
export type WrittenSlot = 'go-on' | 'stopping' | { error: string };

type Tried<T> = { ok: true; value: T } | { ok: false; err: unknown } | 'stopping';

/** A RAUC call tried up to RAUC_TRIES times, `retryMs` apart, until posd stops. */
async function tried<T>(o: WrittenSlotOptions, call: () => Promise<T>): Promise<Tried<T>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { ok: true, value: await call() };
    } catch (err) {
      if (o.signal.aborted) return 'stopping';
      if (attempt >= RAUC_TRIES) return { ok: false, err };
      try {
        await sleep(o.retryMs, undefined, { signal: o.signal });
      } catch {
        return 'stopping';
      }
    }
  }
}

/** The version of the one slot with a bootname that is not booted, when RAUC names it. */
function otherSlotVersion(status: SlotStatus | undefined): string | undefined {
  if (!status?.booted) return undefined;
  const others = status.slots.filter((x) => x.bootname !== undefined && x.bootname !== status.booted);
  return others.length === 1 ? others[0]!.version : undefined;
}

/**
 * Right after `rauc install`: the version RAUC says the slot it wrote holds, against the command's.
 * Signed for one version, a bundle that holds another would be booted and taken for a rollback
 * after its trial: the running slot is made the one booted next again, and the update fails.
 * When RAUC does not say (no version, or no answer), the update goes on unchecked.
 */
export async function checkWrittenSlot(
  o: WrittenSlotOptions,
  expected: string | undefined,
): Promise<WrittenSlot> {
  const status = await tried(o, () => o.installer.status());
  if (status === 'stopping' || o.signal.aborted) return 'stopping';
  if (!status.ok) {
    o.log.warn(
      { err: describeError(status.err) },
      'RAUC status after the install failed; its version unchecked',
    );
    return 'go-on';
  }
  const written = otherSlotVersion(status.value);
  if (written === undefined || sameRelease(written, expected)) return 'go-on';
  const kept = await tried(o, () => o.installer.keepBooted());
  if (kept === 'stopping') return 'stopping';
  const outcome = kept.ok
    ? 'the running slot stays the one booted'
    : `the running slot could not be made the one booted: ${describeError(kept.err)}`;
  return { error: `the bundle installed ${written}, not ${expected ?? '?'}: ${outcome}` };
}
