import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RaucCli } from '../../../src/update/rauc.js';
import { tempDir } from '../../helpers/daemon.js';
import { FakeRauc } from '../../helpers/fake-rauc.js';

function setup(initial: { busy?: number; refuse?: string }) {
  const dir = tempDir('posd-rauc-cli-');
  const rauc = new FakeRauc(dir, { bootedVersion: '1.0.0', installVersion: '2.0.0', ...initial });
  const bundle = join(dir, 'bundle.raucb');
  writeFileSync(bundle, 'bundle');
  return { rauc, bundle };
}

describe('RAUC through its command line', () => {
  it('an install refused because RAUC still runs an earlier one (posd restarted mid-install) waits and goes on', async () => {
    const { rauc, bundle } = setup({ busy: 2 });
    await new RaucCli(rauc.argv, 60_000, 10).install(bundle);
    expect(rauc.calls('install')).toHaveLength(3);
    expect(rauc.state().primary).toBe('rootfs.1');
  });

  it('any other refusal fails at once, with RAUC’s reason', async () => {
    const { rauc, bundle } = setup({ refuse: 'signature verification failed' });
    await expect(new RaucCli(rauc.argv, 60_000, 10).install(bundle)).rejects.toThrow(
      /signature verification failed/,
    );
    expect(rauc.calls('install')).toHaveLength(1);
  });

  it('gives up when RAUC stays busy past the install timeout', async () => {
    const { rauc, bundle } = setup({ busy: 1000 });
    await expect(new RaucCli(rauc.argv, 1_500, 200).install(bundle)).rejects.toThrow(
      /already processing a different method/,
    );
  });
});
