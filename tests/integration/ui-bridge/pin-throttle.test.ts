import { describe, expect, it } from 'vitest';
import { isPosError } from '../../../src/errors.js';
import { PinThrottle } from '../../../src/ui-bridge/pin-throttle.js';

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
});
