import { monitorEventLoopDelay } from 'node:perf_hooks';

/*
 * Loaded into the daemon by benchmarks (`node --import …/lag-probe.js`): measures the daemon's
 * event-loop lag, reset and read over the IPC channel the bench opens; inert without one.
 */
if (process.send) {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  process.channel?.unref(); // the probe never keeps the daemon alive
  process.on('message', (m: unknown) => {
    if (m === 'lag-reset') h.reset();
    if (m === 'lag-read')
      process.send?.({
        lag: { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 },
      });
  });
}
