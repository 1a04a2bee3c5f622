import { describe, expect, test } from 'vitest';
import { formatFailure } from './run-seeds.js';
import { runScenario } from './scenario.js';
import { fixedSeeds } from './seeds.js';

/**
 * The money simulation on fixed seeds: real services on real SQLite files, the reference cloud and
 * acquirer in-process, the network, the clock and crashes under the seed's control. Each seed
 * ends with every fault healed and checks the money invariants; a failure prints its trace.
 */
describe('money simulation (fixed seeds)', () => {
  const seeds = fixedSeeds();
  // Batches keep the report short while every seed stays its own assertion.
  const batches: number[][] = [];
  for (let i = 0; i < seeds.length; i += 20) batches.push(seeds.slice(i, i + 20));
  test.each(batches.map((b) => [`${b[0]}..${b.at(-1)}`, b] as const))(
    'seeds %s keep every money invariant',
    async (_name, batch) => {
      const failures: string[] = [];
      for (const seed of batch) {
        const r = await runScenario({ seed });
        if (r.violations.length > 0) failures.push(formatFailure(r));
      }
      expect(failures.join('\n')).toBe('');
    },
  );
});
