import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Budget and seed of a fuzz property. `npm test` runs each target with its fixed default budget and
 * seed (the suite stays deterministic); `npm run fuzz -- <target> --runs N [--seed S]` sets
 * FUZZ_RUNS / FUZZ_SEED for a longer run. fast-check prints the seed and path of any failure.
 */
export function fuzzParams(defaultRuns: number, defaultSeed = 20261205): { numRuns: number; seed: number } {
  const runs = Number(process.env.FUZZ_RUNS);
  const seed = Number(process.env.FUZZ_SEED);
  return {
    numRuns: Number.isSafeInteger(runs) && runs > 0 ? runs : defaultRuns,
    seed: Number.isSafeInteger(seed) ? seed : defaultSeed,
  };
}

/** A long run (FUZZ_RUNS set): floods are four times longer (their bound does not depend on length). */
export function fuzzScale(defaultCount: number): number {
  const runs = Number(process.env.FUZZ_RUNS);
  return Number.isSafeInteger(runs) && runs > 0 ? defaultCount * 4 : defaultCount;
}

let gcFn: (() => void) | undefined;

/** A full garbage collection, so heap measurements compare live data only. */
export function forceGc(): void {
  if (!gcFn) {
    setFlagsFromString('--expose_gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
}

export function heapUsed(): number {
  forceGc();
  return process.memoryUsage().heapUsed;
}

/**
 * Heap growth of `feed` run twice: the second round must not keep what the first did not (a parser
 * that buffers hostile input without bound grows every round). Returns the growth in bytes over
 * the second round.
 */
export function heapGrowth(feed: () => void): number {
  feed();
  const before = heapUsed();
  feed();
  return heapUsed() - before;
}

export const MB = 1024 * 1024;
