import { monitorEventLoopDelay } from 'node:perf_hooks';

/*
 * Loaded into the daemon by benchmarks (`node --import …/lag-probe.js`): measures the daemon's
 * event-loop lag, reset and read over the IPC channel the bench opens; inert without one.
 */
if (process.send) {
  const RESOLUTION_MS = 5;
  // The histogram holds the sampling interval plus the lag: the interval is taken off.
  const lag = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  process.channel?.unref(); // the probe never keeps the daemon alive
  process.on('message', (m: unknown) => {
    if (m === 'lag-reset') h.reset();
    if (m === 'lag-read')
      process.send?.({
        lag: { p50: lag(h.percentile(50)), p99: lag(h.percentile(99)), max: lag(h.max) },
      });
  });
}
