import { createPublicKey } from 'node:crypto';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { createRootLogger } from '../../../src/log.js';
import { DEFAULT_UPLINK } from '../../../src/sync/uplink.js';
import { cloudKeys, startCloud } from '../../helpers/cloud-fixture.js';
import { FleetTerminal } from '../../helpers/fleet-terminal.js';
import { Mosquitto } from '../../helpers/mosquitto.js';
import { TcpProxy } from '../../helpers/tcp-proxy.js';
import { waitFor } from '../../helpers/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const P = 'pos/v1/t1/D1';
const BACKLOG = Number(process.env.DRAIN_BACKLOG ?? 5_000);

/**
 * A backlog drained through a real mosquitto to the reference cloud with the default uplink
 * settings (a window of batches in flight, acks coalesced by the cloud): an ack that follows a
 * batch sent from above it is not a gap, and the drain resends nothing.
 */
describe('a backlog drain against a real mosquitto and the reference cloud', () => {
  async function setup(viaProxy: boolean) {
    const broker = new Mosquitto();
    await broker.start();
    cleanups.push(() => broker.stop());
    const proxy = new TcpProxy(broker.port);
    await proxy.start();
    cleanups.push(() => proxy.stop());
    const keys = cloudKeys();
    const cloud = await startCloud(broker.url, keys.privateKey);
    cleanups.push(() => cloud.stop());
    // A spy on the wire: how many times each seq went up, how many acks came down.
    const spy = await mqtt.connectAsync(broker.url, { clientId: 'spy', protocolVersion: 5 });
    cleanups.push(() => spy.endAsync());
    const sent = new Map<number, number>();
    const counts = { acks: 0, batches: 0 };
    const states: Array<{ ackedUpTo: number; outboxDepth: number }> = [];
    spy.on('message', (topic, payload) => {
      if (topic.endsWith('/up/state')) {
        states.push(JSON.parse(payload.toString()));
        return;
      }
      if (topic.endsWith('/down/ack')) {
        counts.acks += 1;
        return;
      }
      counts.batches += 1;
      for (const r of (JSON.parse(payload.toString()) as { records: Array<{ seq: number }> }).records)
        sent.set(r.seq, (sent.get(r.seq) ?? 0) + 1);
    });
    await spy.subscribeAsync([`${P}/up/ledger`, `${P}/down/ack`, `${P}/up/state`], { qos: 1 });
    const lines: string[] = [];
    const log = createRootLogger('info', { write: (line: string) => lines.push(line) });
    const terminal = new FleetTerminal({
      tenant: 't1',
      device: 'D1',
      urls: [viaProxy ? `mqtt://127.0.0.1:${proxy.port}` : broker.url],
      cloudKey: createPublicKey(keys.publicPem),
      uplink: { ...DEFAULT_UPLINK },
      log,
      // The outbox figures, as src/app.ts reports them: each ack moves them.
      reportedState: (ledger) => {
        const f = ledger.figures();
        return { ackedUpTo: f.ackedUpTo, outboxDepth: f.outboxDepth, updatedAt: new Date().toISOString() };
      },
    });
    cleanups.push(() => terminal.stop());
    for (let i = 0; i < BACKLOG; i++) terminal.sell();
    return { cloud, broker, keys, proxy, terminal, sent, counts, lines, states };
  }

  async function drained(t: Awaited<ReturnType<typeof setup>>, started: number, what: string) {
    const { cloud, terminal, sent, counts, lines, states } = t;
    await waitFor(
      () => (terminal.ledger.outbox.ackedUpTo() === BACKLOG ? true : undefined),
      'the backlog synced',
      120_000,
      20,
    );
    const ms = Date.now() - started;
    // The state after the last ack is published (P/up/state: on change, at most once a second).
    await waitFor(
      () => (states.at(-1)?.ackedUpTo === BACKLOG ? true : undefined),
      'the reported state after the last ack',
      10_000,
      20,
    );
    const stateMs = Date.now() - started;
    const notApplied = lines.filter((l) => l.includes('ack may answer a batch across a gap')).length;
    const stalls = lines.filter((l) => l.includes('ack stalled')).length;
    const twice = [...sent.values()].filter((n) => n > 1).length;
    console.log(
      `drain of ${BACKLOG} (${what}): ${ms} ms, ${cloud.batches} batches at the cloud, ${counts.acks} acks, ${notApplied} not applied, ${stalls} stall resends, ${twice} records sent twice, window ${terminal.sync.link.sendWindow}, ${states.length} states in ${stateMs} ms`,
    );
    expect(states.at(-1)).toMatchObject({ ackedUpTo: BACKLOG, outboxDepth: 0 });
    // At most one a second, plus the one forced at each connect.
    expect(states.length).toBeLessThanOrEqual(Math.ceil(stateMs / 1_000) + terminal.connects + 1);
    expect(sent.size).toBe(BACKLOG);
    return { stalls, twice };
  }

  it(`drains ${BACKLOG} records with no record sent twice and every record synced`, async () => {
    const t = await setup(false);
    const started = Date.now();
    t.terminal.start();
    const { stalls, twice } = await drained(t, started, 'no fault');
    expect(stalls).toBe(0);
    expect(twice).toBe(0);
  });

  it(`drains ${BACKLOG} records across two link cuts, the acks of the batches before each queued in the session`, async () => {
    const t = await setup(true);
    const started = Date.now();
    t.terminal.start();
    for (const at of [5, 25]) {
      await waitFor(() => (t.counts.batches >= at ? true : undefined), `${at} batches`, 60_000, 5);
      const acks = t.counts.acks;
      t.proxy.setRefusing(true);
      await waitFor(() => (t.counts.acks > acks ? true : undefined), 'an ack while cut off', 60_000, 5);
      t.proxy.setRefusing(false);
    }
    const { twice } = await drained(t, started, 'two cuts');
    expect(twice).toBeLessThanOrEqual(2 * 32 * DEFAULT_UPLINK.maxRecords);
  });

  it(`drains ${BACKLOG} records across a cloud restart mid-drain, the stall rule resending what the cloud missed`, async () => {
    const t = await setup(false);
    const started = Date.now();
    t.terminal.start();
    await waitFor(() => (t.counts.batches >= 5 ? true : undefined), '5 batches', 60_000, 5);
    const file = t.cloud.store.db.name;
    await t.cloud.stop();
    const batches = t.counts.batches;
    await waitFor(
      () => (t.counts.batches >= batches + 5 ? true : undefined),
      'batches while the cloud is down',
      60_000,
      5,
    );
    t.cloud = await startCloud(t.broker.url, t.keys.privateKey, file);
    const restarted = t.cloud;
    cleanups.push(() => restarted.stop());
    const { stalls } = await drained(t, started, 'cloud restart');
    expect(stalls).toBeLessThanOrEqual(3);
  });
});
