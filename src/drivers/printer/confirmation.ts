import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { describeError } from '../../errors.js';
import type { Logger } from '../../log.js';

/**
 * How a printer confirms a job: `transmit-status` sends `GS r 1` after it (answered only once the
 * job is processed); `realtime` checks `DLE EOT` status after the bytes are sent (for printers
 * that ignore `GS r`, common among low-cost 58 mm models).
 */
export type ConfirmMode = 'transmit-status' | 'realtime';

/** What was learnt about one printer, kept across restarts so a start needs no probe. */
export interface ConfirmationMemory {
  recall(): ConfirmMode | undefined;
  remember(mode: ConfirmMode): void;
}

/** In memory only (tests, `posd print-test`). */
export function volatileConfirmation(initial?: ConfirmMode): ConfirmationMemory {
  let mode = initial;
  return {
    recall: () => mode,
    remember: (m) => {
      mode = m;
    },
  };
}

interface Entry {
  mode: ConfirmMode;
  at: string;
}

function readAll(file: string): Record<string, Entry> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    const out: Record<string, Entry> = Object.create(null);
    for (const [k, v] of Object.entries(parsed)) {
      const mode = (v as { mode?: unknown } | null)?.mode;
      if (mode === 'transmit-status' || mode === 'realtime')
        out[k] = { mode, at: String((v as { at?: unknown }).at ?? '') };
    }
    return out;
  } catch {
    return {}; // absent or unreadable: the printer is probed again, nothing worse
  }
}

/**
 * One printer's entry (keyed by its address) in a small JSON file in the state directory; written
 * atomically (temp file + rename), only when what is known changes.
 */
export function fileConfirmation(
  file: string,
  key: string,
  log: Logger,
  now: () => Date = () => new Date(),
): ConfirmationMemory {
  return {
    recall: () => readAll(file)[key]?.mode,
    remember: (mode) => {
      const all = readAll(file);
      if (all[key]?.mode === mode) return;
      all[key] = { mode, at: now().toISOString() };
      const tmp = `${file}.tmp`;
      try {
        writeFileSync(tmp, JSON.stringify({ ...all }, null, 2));
        renameSync(tmp, file);
      } catch (err) {
        log.warn({ err: describeError(err) }, 'cannot store how the printer confirms jobs');
      }
    },
  };
}
