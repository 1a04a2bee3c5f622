import { describe, expect, it } from 'vitest';
import type { RequestContext } from '../../../src/ui-bridge/http-server.js';
import { PinThrottle } from '../../../src/ui-bridge/pin-throttle.js';
import { type PinRole, updateRoutes } from '../../../src/update/update-routes.js';

const pinRole: PinRole = (pin) => (pin === '7391' ? 'manager' : pin === '1111' ? 'cashier' : undefined);

function restartRoute(throttle: PinThrottle) {
  const restarts: number[] = [];
  const service = {
    view: () => ({ state: 'waiting-to-reboot' as const, version: '2.0.0', progress: 1, error: null }),
    restartNow: async () => {
      restarts.push(1);
      return { restarting: true as const };
    },
  };
  const route = updateRoutes(service, pinRole, throttle).find((r) => r.path === '/api/v1/update/restart')!;
  const call = (pin: string) =>
    Promise.resolve(route.handle({ body: { pin } } as unknown as RequestContext)).then(
      (reply) => reply.status,
      (err: { code: string }) => err.code,
    );
  return { call, restarts };
}

describe('POST /api/v1/update/restart', () => {
  it('wrong PINs lock the restart (PIN_LOCKED, not a restart); a cashier’s own PIN does not reset the count', async () => {
    let now = 1_000_000;
    const throttle = new PinThrottle(() => now);
    const t = restartRoute(throttle);
    for (const pin of ['0000', '0001', '0002']) expect(await t.call(pin)).toBe('PIN_WRONG');
    expect(await t.call('1111')).toBe('FORBIDDEN'); // the cashier's own PIN: counted, not a reset
    expect(await t.call('0003')).toBe('PIN_WRONG');
    // The sixth try is the right one, but the restart is locked: nothing restarts.
    expect(await t.call('7391')).toBe('PIN_LOCKED');
    expect(t.restarts).toEqual([]);
    now += 1_001;
    expect(await t.call('7391')).toBe(202);
    expect(t.restarts).toEqual([1]);
  });
});
