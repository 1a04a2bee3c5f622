/** Timers as a dependency, so backoff and timeouts run on a fake clock in tests. */
export type TimerHandle = object;

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

export function systemTimers(): Timers {
  return {
    setTimeout: (fn, ms) => {
      const t = setTimeout(fn, ms);
      // A retry or a poll must never keep the process alive on its own.
      t.unref();
      return t;
    },
    clearTimeout: (handle) => {
      if (handle !== undefined) clearTimeout(handle as NodeJS.Timeout);
    },
  };
}
