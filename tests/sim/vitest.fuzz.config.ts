import { defineConfig } from 'vitest/config';

/** The money fuzz: not part of `npm test` (that runs the fixed seeds in money-sim.test.ts). */
export default defineConfig({
  test: {
    include: ['tests/sim/*.fuzz.ts'],
    pool: 'forks',
    reporters: ['dot'],
  },
});
