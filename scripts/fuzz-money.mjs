#!/usr/bin/env node
// npm run fuzz:money -- --runs N [--seed S] [--quiet] [--trace]
// Runs N money-simulation scenarios from seed S (default: from the clock) and prints runs/second
// and every failing seed with the trace that replays it (--trace: every seed's trace; --quiet:
// only the summary).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const value = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = value('--runs') ?? '100';
const seed = value('--seed') ?? String(Date.now() % 1_000_000_000);
if (!/^\d+$/.test(runs) || !/^\d+$/.test(seed)) {
  console.error('usage: npm run fuzz:money -- --runs N [--seed S] [--quiet] [--trace]');
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const result = spawnSync(
  process.execPath,
  [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'tests/sim/vitest.fuzz.config.ts'],
  {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      SIM_RUNS: runs,
      SIM_SEED: seed,
      SIM_QUIET: args.includes('--quiet') ? '1' : '0',
      SIM_TRACE: args.includes('--trace') ? '1' : '0',
    },
  },
);
process.exit(result.status ?? 1);
