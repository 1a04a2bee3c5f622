import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPosError } from '../../../src/errors.js';
import { fileThrottleStore, PinThrottle } from '../../../src/ui-bridge/pin-throttle.js';
import { tempDir } from '../../helpers/daemon.js';

describe('PIN throttle', () => {
  it('allows five wrong PINs, then locks for a doubling delay, reset by a right PIN', () => {
    let now = 1_000_000;
    const throttle = new PinThrottle(() => now);
    const locked = () => {
      try {
        throttle.check();
        return false;
      } catch (err) {
        return isPosError(err, 'PIN_LOCKED');
      }
    };
    for (let i = 0; i < 4; i++) throttle.failed();
    expect(locked()).toBe(false);
    throttle.failed(); // the fifth
    expect(locked()).toBe(true);
    now += 1_000;
    expect(locked()).toBe(false);
    throttle.failed(); // the sixth: 2 s
    now += 1_999;
    expect(locked()).toBe(true);
    now += 1;
    expect(locked()).toBe(false);
    for (let i = 0; i < 30; i++) throttle.failed();
    now += 5 * 60_000 - 1;
    expect(locked()).toBe(true); // capped at five minutes
    now += 1;
    expect(locked()).toBe(false);
    throttle.succeeded();
    throttle.failed();
    expect(locked()).toBe(false);
  });

  it('keeps the count and the lock across a restart (the state dir file), mode 0600', () => {
    const dir = tempDir('posd-pin-');
    let now = 5_000_000;
    const first = new PinThrottle(() => now, fileThrottleStore(dir));
    for (let i = 0; i < 6; i++) first.failed(); // locked for 2 s
    // The daemon restarts: a new throttle over the same state dir.
    const second = new PinThrottle(() => now, fileThrottleStore(dir));
    expect(() => second.check()).toThrow(/too many wrong PINs/);
    now += 2_000;
    second.check();
    second.failed(); // the seventh: 4 s, the doubling goes on from the stored count
    now += 3_999;
    expect(() => new PinThrottle(() => now, fileThrottleStore(dir)).check()).toThrow(/too many wrong PINs/);
    expect(statSync(join(dir, 'pin-throttle.json')).mode & 0o777).toBe(0o600);
    second.succeeded();
    new PinThrottle(() => now, fileThrottleStore(dir)).check();
  });
});
