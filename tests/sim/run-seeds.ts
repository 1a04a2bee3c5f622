import { runScenario, type ScenarioResult } from './scenario.js';

export interface FuzzSummary {
  runs: number;
  failures: ScenarioResult[];
  seconds: number;
}

/** Runs seeds from `first` on; failing ones are kept with their traces. */
export async function runSeeds(
  first: number,
  runs: number,
  onFail?: (r: ScenarioResult) => void,
  onEach?: (r: ScenarioResult) => void,
): Promise<FuzzSummary> {
  const started = performance.now();
  const failures: ScenarioResult[] = [];
  for (let seed = first; seed < first + runs; seed++) {
    const r = await runScenario({ seed });
    onEach?.(r);
    if (r.violations.length > 0) {
      failures.push(r);
      onFail?.(r);
    }
  }
  return { runs, failures, seconds: (performance.now() - started) / 1000 };
}

/** The report of one failing seed: the invariants that failed, then the trace that replays it. */
export function formatFailure(r: ScenarioResult): string {
  const head = `seed ${r.seed}: ${r.violations.length} violation(s)\n${r.violations.map((v) => `  (${v.invariant}) ${v.message}`).join('\n')}`;
  return `${head}\n--- trace (replay: npm run fuzz:money -- --seed ${r.seed} --runs 1) ---\n${r.trace.join('\n')}\n`;
}
