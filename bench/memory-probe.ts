/*
 * Loaded into the daemon by the start-memory benchmark (`node --import …/memory-probe.js`): answers
 * `mem-read` on the IPC channel with `process.memoryUsage()`; inert without a channel.
 */
if (process.send) {
  process.channel?.unref(); // the probe never keeps the daemon alive
  process.on('message', (m: unknown) => {
    if (m === 'mem-read') process.send?.({ mem: process.memoryUsage() });
  });
}
