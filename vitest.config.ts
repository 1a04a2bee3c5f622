import { defineConfig } from 'vitest/config';
import { SlowFirstSequencer } from './tests/slow-first-sequencer.js';
import { SummaryReporter } from './tests/summary-reporter.js';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time: most tests wait on brokers, daemons and Chromium, not the CPU, and the
    // default on 2 cores (cores - 1) ran the suite one file at a time (816 s against 549 s).
    maxWorkers: 2,
    // The longest files start first: a fresh clone has no durations for vitest to order by.
    sequence: { sequencer: SlowFirstSequencer },
    reporters: ['default', new SummaryReporter()],
  },
});
