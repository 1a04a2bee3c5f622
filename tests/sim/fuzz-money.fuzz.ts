import { test } from 'vitest';
import { classify } from './classify.js';
import { formatFailure, runSeeds } from './run-seeds.js';

/** `npm run fuzz:money -- --runs N [--seed S]` runs this with SIM_RUNS / SIM_SEED set. */
test('money simulation fuzz', { timeout: 0 }, async () => {
  const runs = Number(process.env.SIM_RUNS ?? 100);
  const seed = Number(process.env.SIM_SEED ?? Date.now() % 1_000_000_000);
  const quiet = process.env.SIM_QUIET === '1';
  const traceAll = process.env.SIM_TRACE === '1';
  const summary = await runSeeds(
    seed,
    runs,
    (r) => {
      if (!quiet && !traceAll) process.stdout.write(formatFailure(r));
    },
    (r) => {
      if (traceAll) process.stdout.write(`${formatFailure(r)}\n`);
    },
  );
  const failing = summary.failures.map(
    (f) =>
      `${f.seed} (${[...new Set(f.violations.map((v) => v.invariant))].join('')}: ${classify(f).join('; ')})`,
  );
  process.stdout.write(
    `\nmoney simulation: ${summary.runs} runs from seed ${seed} in ${summary.seconds.toFixed(1)} s = ${(summary.runs / summary.seconds).toFixed(1)} runs/s; ${summary.failures.length} failing${failing.length ? `:\n  ${failing.join('\n  ')}` : ''}\n`,
  );
  if (summary.failures.length > 0)
    throw new Error(`${summary.failures.length} failing seed(s): ${failing.join(', ')}`);
});
