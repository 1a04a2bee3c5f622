import { afterEach, describe, expect, it, vi } from 'vitest';
import { SystemdNotifier } from '../../../src/lifecycle/systemd-notify.js';
import { silentLogger } from '../../helpers/test-log.js';

afterEach(() => vi.useRealTimers());

function notifier(env: NodeJS.ProcessEnv, send = vi.fn(async (_: string[]) => {})) {
  return { n: new SystemdNotifier({ env, log: silentLogger(), send, pid: 4242 }), send };
}

describe('systemd notifier', () => {
  it('is silent without NOTIFY_SOCKET', async () => {
    const { n, send } = notifier({ WATCHDOG_USEC: '1000000' });
    await n.notify('READY=1');
    expect(send).not.toHaveBeenCalled();
    expect(n.watchdogIntervalMs).toBeUndefined();
  });

  it('pings at half WATCHDOG_USEC, only for its own pid, and not while unhealthy', async () => {
    vi.useFakeTimers();
    expect(notifier({ NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '30000000' }).n.watchdogIntervalMs).toBe(15_000);
    expect(
      notifier({ NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' }).n.watchdogIntervalMs,
    ).toBe(undefined);
    let healthy = true;
    const { n, send } = notifier({ NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '4242' });
    n.startWatchdog(() => healthy);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(send.mock.calls.map((c) => c[0])).toEqual([['WATCHDOG=1'], ['WATCHDOG=1']]);
    healthy = false;
    await vi.advanceTimersByTimeAsync(2_000);
    expect(send).toHaveBeenCalledTimes(2);
    n.stopWatchdog();
  });

  it("lengthens the watchdog's limit for a long job and puts the unit's back", async () => {
    const { n, send } = notifier({ NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '30000000' });
    await n.extendWatchdog(180_000);
    await n.extendWatchdog(undefined);
    await n.extendWatchdog(10_000);
    expect(send.mock.calls.map((c) => c[0])).toEqual([
      ['WATCHDOG_USEC=180000000', 'WATCHDOG=1'],
      ['WATCHDOG_USEC=30000000', 'WATCHDOG=1'],
      ['WATCHDOG_USEC=30000000', 'WATCHDOG=1'],
    ]);
    const { n: without, send: none } = notifier({ NOTIFY_SOCKET: '/x' });
    await without.extendWatchdog(180_000);
    expect(none).not.toHaveBeenCalled();
  });

  it('never stacks pings while one is still being delivered', async () => {
    vi.useFakeTimers();
    let release: () => void = () => {};
    const send = vi.fn(() => new Promise<void>((r) => (release = r)));
    const { n } = notifier({ NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '200000' }, send);
    n.startWatchdog();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(send).toHaveBeenCalledTimes(1);
    release();
    await vi.advanceTimersByTimeAsync(100);
    expect(send).toHaveBeenCalledTimes(2);
    n.stopWatchdog();
  });

  it('logs and survives a failing systemd-notify', async () => {
    const { n } = notifier(
      { NOTIFY_SOCKET: '/x' },
      vi.fn(async () => {
        throw new Error('no socket');
      }),
    );
    await expect(n.notify('READY=1')).resolves.toBeUndefined();
  });
});
