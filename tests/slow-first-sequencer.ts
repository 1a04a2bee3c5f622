import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The suite's longest files (seconds on a quiet 2-core machine, two at a time), longest first.
 * On a fresh clone vitest knows no durations and starts the largest files first, so one of these
 * could start last and end the run alone on one worker while the other waits.
 */
export const SLOW_FIRST = [
  'tests/integration/rabbitmq/rabbitmq-helper.test.ts', // 58
  'tests/integration/money/money-loss.test.ts', // 48
  'tests/image/kiosk-screen.test.ts', // 41
  'tests/integration/printer/daemon-printing.test.ts', // 38
  'tests/e2e/cashier-words.test.ts', // 36
  'tests/integration/money/money-under-faults.test.ts', // 36
  'tests/integration/update/update-command.test.ts', // 31
  'tests/crash/sales-sigkill.test.ts', // 29
  'tests/integration/sync/drain-acks.test.ts', // 26
  'tests/integration/daemon-lifecycle.test.ts', // 23
  'tests/e2e/demo-payments.test.ts', // 22
  'tests/e2e/printed-flows.test.ts', // 20
];

/** The known-slow files first (in that order), then vitest's own order for the rest. */
export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const at = SLOW_FIRST.indexOf(relative(this.ctx.config.root, spec.moduleId));
      return at < 0 ? SLOW_FIRST.length : at;
    };
    return sorted
      .map((spec, i) => ({ spec, i, rank: rank(spec) }))
      .sort((a, b) => a.rank - b.rank || a.i - b.i)
      .map((x) => x.spec);
  }
}
