import { describe, expect, it } from 'vitest';
import { INSTALL_WATCHDOG_MS, withWatchdogDuringInstall } from '../../../src/update/install-watchdog.js';
import type { Installer } from '../../../src/update/rauc.js';

function recorder() {
  const events: string[] = [];
  const watchdog = {
    extendWatchdog: async (ms: number | undefined) => {
      events.push(ms === undefined ? 'watchdog back' : `watchdog ${ms}`);
    },
  };
  return { events, watchdog };
}

function installer(events: string[], fails = false): Installer {
  return {
    install: async (bundle) => {
      events.push(`install ${bundle}`);
      if (fails) throw new Error('rauc: signature verification failed');
    },
    status: async () => undefined,
    markGood: async () => {
      events.push('mark-good');
    },
    keepBooted: async () => {
      events.push('keep-booted');
    },
  };
}

describe('the watchdog while RAUC writes a slot', () => {
  it('is lengthened for the install and put back after it', async () => {
    const { events, watchdog } = recorder();
    await withWatchdogDuringInstall(installer(events), watchdog).install('/data/b.raucb');
    expect(events).toEqual([`watchdog ${INSTALL_WATCHDOG_MS}`, 'install /data/b.raucb', 'watchdog back']);
    expect(INSTALL_WATCHDOG_MS).toBeGreaterThan(30_000);
  });

  it('is put back when the install fails, and the failure still reaches the caller', async () => {
    const { events, watchdog } = recorder();
    await expect(withWatchdogDuringInstall(installer(events, true), watchdog).install('/x')).rejects.toThrow(
      /signature/,
    );
    expect(events.at(-1)).toBe('watchdog back');
  });

  it('is left alone by the other calls', async () => {
    const { events, watchdog } = recorder();
    await withWatchdogDuringInstall(installer(events), watchdog).markGood();
    expect(events).toEqual(['mark-good']);
  });
});
