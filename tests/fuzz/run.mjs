#!/usr/bin/env node
// Longer fuzz runs: `npm run fuzz -- <target>... [--runs N] [--seed S]`, `npm run fuzz -- --list`.
// A target is a file tests/fuzz/<target>.fuzz.test.ts; no target runs them all.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
const targets = readdirSync(dir)
  .filter((f) => f.endsWith('.fuzz.test.ts'))
  .map((f) => f.slice(0, -'.fuzz.test.ts'.length))
  .sort();

const args = process.argv.slice(2);
const chosen = [];
let runs;
let seed;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--list') {
    console.log(targets.join('\n'));
    process.exit(0);
  } else if (a === '--runs') runs = args[++i];
  else if (a === '--seed') seed = args[++i];
  else if (a.startsWith('--runs=')) runs = a.slice(7);
  else if (a.startsWith('--seed=')) seed = a.slice(7);
  else chosen.push(a);
}
for (const t of chosen) {
  if (!targets.includes(t)) {
    console.error(`unknown fuzz target ${t}; targets: ${targets.join(', ')}`);
    process.exit(2);
  }
}
if (runs !== undefined && !/^[1-9]\d*$/.test(runs)) {
  console.error('--runs takes a positive whole number');
  process.exit(2);
}
if (seed !== undefined && !/^-?\d+$/.test(seed)) {
  console.error('--seed takes a whole number');
  process.exit(2);
}
// Without --seed a long run explores: a fresh seed each time, printed so a failure replays.
seed ??= String(Date.now() % 2 ** 31);
const env = { ...process.env, FUZZ_SEED: seed, ...(runs ? { FUZZ_RUNS: runs } : {}) };
console.log(`fuzz: seed ${seed}${runs ? `, ${runs} runs per property` : ', default budgets'}`);
const files = (chosen.length ? chosen : targets).map((t) => join('tests/fuzz', `${t}.fuzz.test.ts`));
const r = spawnSync('npx', ['vitest', 'run', '--testTimeout=0', ...files], { stdio: 'inherit', env });
if (r.status !== 0) console.log(`fuzz: failed; replay with --seed ${seed}${runs ? ` --runs ${runs}` : ''}`);
process.exit(r.status ?? 1);
