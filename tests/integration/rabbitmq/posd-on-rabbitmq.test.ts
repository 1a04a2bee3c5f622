import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DaemonProcess, spawnPosd, writeTestConfig } from '../../helpers/daemon.js';
import { type RabbitCluster, startRabbitMq } from '../../helpers/rabbitmq.js';
import { waitFor } from '../../helpers/wait.js';

/** posd against a real RabbitMQ 3.10 (MQTT 3.1.1 only), told nothing about the version. */
let rabbit: RabbitCluster;
beforeAll(async () => {
  rabbit = await startRabbitMq();
}, 300_000);
afterAll(() => rabbit?.stop(), 60_000);

interface Line {
  msg: string;
  level: string;
  mqtt?: number;
}

const lines = (p: DaemonProcess): Line[] =>
  p
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);

async function runUntilLinkUp(file: string): Promise<Line[]> {
  const posd = spawnPosd(['run', '--config', file]);
  try {
    await waitFor(
      () => lines(posd).find((l) => l.msg === 'cloud link up'),
      `posd's link up on RabbitMQ\n${posd.stdout()}\n${posd.stderr()}`,
      120_000,
      100,
    );
  } finally {
    posd.child.kill('SIGTERM');
    await posd.exited;
  }
  return lines(posd);
}

describe('posd on RabbitMQ 3.10', () => {
  it('connects over MQTT 3.1.1 without being told, and the next start goes straight to 3.1.1', async () => {
    const node = rabbit.nodes[0];
    if (!node) throw new Error('no node');
    const cfg = await writeTestConfig({ mqtt: { urls: [node.mqttUrl] }, log: { level: 'info' } });
    const first = await runUntilLinkUp(cfg.file);
    expect(first.find((l) => l.msg === 'cloud link up')?.mqtt).toBe(4);
    expect(first.map((l) => l.msg)).toContain('broker refused MQTT 5; trying MQTT 3.1.1');

    const second = await runUntilLinkUp(cfg.file);
    expect(second.find((l) => l.msg === 'cloud link up')?.mqtt).toBe(4);
    expect(second.map((l) => l.msg)).not.toContain('broker refused MQTT 5; trying MQTT 3.1.1');
  }, 300_000);
});
