import { generateKeyPairSync } from 'node:crypto';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { Ledger } from '../../../src/offline/ledger.js';
import { FleetTerminal } from '../../helpers/fleet-terminal.js';
import { Mosquitto } from '../../helpers/mosquitto.js';
import { waitFor } from '../../helpers/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const P = 'pos/v1/t1/S1';

/** The contract's outbox figures of `P/up/state`, as src/app.ts reports them. */
function outboxState(ledger: Ledger): Record<string, unknown> {
  const f = ledger.figures();
  return {
    epoch: ledger.epoch,
    lastSeq: f.lastSeq,
    ackedUpTo: f.ackedUpTo,
    outboxDepth: f.outboxDepth,
    oldestUnsyncedAt: f.oldestUnsyncedAt ?? null,
    updatedAt: new Date().toISOString(),
  };
}

describe('reported state (P/up/state) against a real mosquitto', () => {
  it('is published again when an ack syncs records, once for a burst of acks', async () => {
    const broker = new Mosquitto();
    await broker.start();
    cleanups.push(() => broker.stop());
    const terminal = new FleetTerminal({
      tenant: 't1',
      device: 'S1',
      urls: [broker.url],
      cloudKey: generateKeyPairSync('ed25519').publicKey,
      reportedState: outboxState,
    });
    cleanups.push(() => terminal.stop());

    // The test plays the cloud: it sees the batches and the state, and acks by hand.
    const cloud = await mqtt.connectAsync(broker.url, { clientId: 'cloud', protocolVersion: 5 });
    cleanups.push(() => cloud.endAsync());
    const states: Array<Record<string, number | string | null>> = [];
    let cloudHas = 0;
    cloud.on('message', (topic, payload) => {
      const body = JSON.parse(payload.toString());
      if (topic === `${P}/up/state`) states.push(body);
      else for (const r of body.records as Array<{ seq: number }>) cloudHas = Math.max(cloudHas, r.seq);
    });
    await cloud.subscribeAsync([`${P}/up/state`, `${P}/up/ledger`], { qos: 1 });
    const ack = (upTo: number) =>
      cloud.publishAsync(
        `${P}/down/ack`,
        JSON.stringify({ epoch: terminal.ledger.epoch, ackedUpTo: upTo, rejected: [] }),
        { qos: 1, retain: true },
      );
    const stateWith = (what: string, match: (s: (typeof states)[number]) => boolean) =>
      waitFor(() => states.find(match), what);

    terminal.start();
    await stateWith('the state on connect', () => true);
    for (let i = 0; i < 3; i++) terminal.sell();
    await waitFor(() => (cloudHas === 3 ? true : undefined), 'three records at the cloud');
    await stateWith('the state after the sales', (s) => s.lastSeq === 3 && s.ackedUpTo === 0);

    await ack(3);
    const synced = await stateWith('the state after the ack', (s) => s.ackedUpTo === 3);
    expect(synced).toMatchObject({ lastSeq: 3, outboxDepth: 0, oldestUnsyncedAt: null });

    // Forty acks in a row, one record each: the state follows at most once per second, not forty times.
    for (let i = 0; i < 40; i++) terminal.sell();
    await waitFor(() => (cloudHas === 43 ? true : undefined), 'forty more records at the cloud');
    await stateWith('the state after forty more sales', (s) => s.lastSeq === 43);
    const before = states.length;
    const started = Date.now();
    for (let upTo = 4; upTo <= 43; upTo++) await ack(upTo);
    await stateWith('the state after the last ack', (s) => s.ackedUpTo === 43);
    const elapsed = Date.now() - started;
    const during = states.slice(before);
    expect(during.length).toBeLessThanOrEqual(Math.ceil(elapsed / 1_000) + 1);
    expect(during.at(-1)).toMatchObject({ lastSeq: 43, ackedUpTo: 43, outboxDepth: 0 });
  });
});
