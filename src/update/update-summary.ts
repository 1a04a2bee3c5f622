import { describeError } from '../errors.js';
import type { Installer } from './rauc.js';
import type { UpdateState } from './update-state.js';

export const NOT_AVAILABLE = 'updates not available on this machine';

/** The slots and the last update's outcome, for `GET /healthz` and `posd doctor`. */
export async function updateSummary(installer: Installer, s: UpdateState): Promise<Record<string, unknown>> {
  const last = {
    state: s.state,
    ...(s.version ? { version: s.version } : {}),
    ...(s.fromVersion ? { fromVersion: s.fromVersion } : {}),
    ...(s.outcome ? { outcome: s.outcome, at: s.outcomeAt } : {}),
    ...(s.error ? { error: s.error } : {}),
  };
  try {
    const status = await installer.status();
    if (!status) return { available: false, note: NOT_AVAILABLE, last };
    return {
      available: true,
      booted: status.booted ?? null,
      bootPrimary: status.bootPrimary ?? null,
      slots: status.slots.map((slot) => ({
        name: slot.name,
        bootname: slot.bootname ?? null,
        state: slot.state ?? null,
        bootStatus: slot.bootStatus ?? null,
        version: slot.version ?? null,
      })),
      last,
    };
  } catch (err) {
    // RAUC present but its service not running (a developer's PC): not an error of the till.
    return { available: false, note: `${NOT_AVAILABLE} (${describeError(err).slice(0, 200)})`, last };
  }
}

/** One line for `posd doctor`. */
export function summaryLine(summary: Record<string, unknown>): string {
  const last = summary.last as UpdateState & { at?: string };
  const lastText =
    last.state === 'idle' && !last.outcome
      ? 'no update yet'
      : `last update ${last.version ?? '?'}: ${last.outcome ?? last.state}${last.error ? ` (${last.error})` : ''}`;
  if (!summary.available) return `${String(summary.note)}; ${lastText}`;
  const slots = (summary.slots as Array<Record<string, unknown>>)
    .filter((slot) => slot.bootname)
    .map(
      (slot) =>
        `${String(slot.name)}=${String(slot.version ?? '?')} ${String(slot.state)}/${String(slot.bootStatus)}`,
    );
  return `booted ${String(summary.booted)}; ${slots.join(', ')}; ${lastText}`;
}
