import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/daemon.js';
import { FakeRauc } from '../../helpers/fake-rauc.js';

const run = promisify(execFile);

// The rauc double is called by posd's boot health (`mark-good`) beside an update's `status` and
// `install`; a call that read the state half written failed the install (a CI run, 2026-12-07).
describe('the rauc test double', () => {
  it('calls at once each see the whole state and every one is recorded', async () => {
    const rauc = new FakeRauc(tempDir(), { bootedVersion: '1.0.0' });
    const [cmd, ...base] = rauc.argv;
    const calls = Array.from({ length: 12 }, (_, i) =>
      run(cmd!, [
        ...base,
        ...(i % 2 === 0 ? ['status', '--detailed', '--output-format=json'] : ['status', 'mark-good']),
      ]),
    );
    const results = await Promise.allSettled(calls);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(rauc.calls('status')).toHaveLength(6);
    expect(rauc.calls('mark-good')).toHaveLength(6);
  });
});
