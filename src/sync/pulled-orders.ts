import { sanitizeJsonText } from '../core/safe-text.js';
import { isPosError } from '../errors.js';
import type { Logger } from '../log.js';

export interface PulledPage {
  /** The highest downSeq the page answered for. */
  upTo: number;
  /** false when an order could not be stored: the watermark must not pass it, the next pull asks again. */
  complete: boolean;
}

/**
 * Takes one page of `orders.pull`. An order the cloud sent malformed is refused (it would be refused
 * again); one that could not be stored (a full disk, a failed write) ends the page unfinished, so
 * the watermark never passes an order this terminal does not hold.
 */
export function takePulledOrders(
  items: ReadonlyArray<{ downSeq?: unknown; order?: unknown }>,
  since: number,
  receive: (downSeq: number | null, order: unknown) => unknown,
  log: Logger,
): PulledPage {
  let upTo = since;
  for (const item of items) {
    const downSeq = typeof item.downSeq === 'number' ? item.downSeq : null;
    try {
      receive(downSeq, keepId(item.order));
    } catch (err) {
      if (isPosError(err) && err.code === 'VALIDATION_FAILED') {
        log.warn({ err: err.message, downSeq }, 'pulled order refused');
      } else {
        log.error(
          { err: err instanceof Error ? err.message : String(err), downSeq },
          'pulled order could not be stored; it is pulled again next time',
        );
        return { upTo, complete: false };
      }
    }
    if (downSeq !== null) upTo = Math.max(upTo, downSeq);
  }
  return { upTo, complete: true };
}

/** Order text made printable, the id kept as the cloud sent it (see Downlink.onOrder). */
export function keepId(order: unknown): unknown {
  if (!order || typeof order !== 'object' || Array.isArray(order)) return order;
  return { ...sanitizeJsonText(order), id: (order as { id?: unknown }).id };
}
