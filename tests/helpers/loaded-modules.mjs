// Loaded into a spawned daemon (`node --import …/loaded-modules.mjs`): records every module it loads
// (ES modules through a loader hook, CommonJS through require) and answers `modules` on the IPC
// channel with the list. Inert without a channel.
import { createRequire, register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

if (process.send) {
  const loaded = new Set();
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (url) => loaded.add(url));
  port1.unref();
  register(
    `data:text/javascript,${encodeURIComponent(
      'let port; export function initialize(d) { port = d.port; } export async function load(url, context, next) { port.postMessage(url); return next(url, context); }',
    )}`,
    { data: { port: port2 }, transferList: [port2] },
  );
  const Module = createRequire(import.meta.url)('node:module');
  const original = Module._load;
  Module._load = function load(request, parent, isMain) {
    const exported = original.call(this, request, parent, isMain);
    try {
      loaded.add(Module._resolveFilename(request, parent, isMain));
    } catch {
      // a builtin
    }
    return exported;
  };
  process.channel?.unref();
  process.on('message', (m) => {
    if (m === 'modules') process.send?.({ modules: [...loaded] });
  });
}
