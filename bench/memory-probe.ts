import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';

/*
 * Loaded into the daemon by the start-memory benchmark (`node --import …/memory-probe.js`): answers
 * `mem-read` on the IPC channel with `process.memoryUsage()` and V8's heap spaces, and writes a heap
 * snapshot on `{heapSnapshot: file}` (`bench/heap-diff.ts`); inert without a channel.
 */
if (process.send) {
  process.channel?.unref(); // the probe never keeps the daemon alive
  process.on('message', (m: unknown) => {
    const snapshot = (m as { heapSnapshot?: unknown } | null)?.heapSnapshot;
    if (typeof snapshot === 'string') process.send?.({ snapshot: writeHeapSnapshot(snapshot) });
    if (m === 'mem-read') {
      const spaces = Object.fromEntries(
        getHeapSpaceStatistics().map((s) => [
          s.space_name.replace(/_space$/, ''),
          [s.space_used_size / 2 ** 20, s.physical_space_size / 2 ** 20],
        ]),
      );
      process.send?.({ mem: process.memoryUsage(), spaces });
    }
  });
}
