import type { Installer } from './rauc.js';

/** How long the watchdog may wait for a ping while RAUC writes a slot. */
export const INSTALL_WATCHDOG_MS = 180_000;

export interface WatchdogExtender {
  extendWatchdog(ms: number | undefined): Promise<void>;
}

/**
 * An installer under which the daemon's watchdog is lengthened for the install and put back
 * after it, however it ends: a slot write can starve the machine long enough that a ping comes
 * late, and a restart then would end a sale mid-request and begin the install again.
 */
export function withWatchdogDuringInstall(installer: Installer, watchdog: WatchdogExtender): Installer {
  return {
    install: async (bundle) => {
      await watchdog.extendWatchdog(INSTALL_WATCHDOG_MS);
      try {
        await installer.install(bundle);
      } finally {
        await watchdog.extendWatchdog(undefined);
      }
    },
    status: () => installer.status(),
    markGood: () => installer.markGood(),
    keepBooted: () => installer.keepBooted(),
  };
}
