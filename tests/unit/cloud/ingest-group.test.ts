import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudService, type LedgerAck } from '../../../cloud/cloud-service.js';
import type { IncomingRecord } from '../../../cloud/store.js';
import { chainOf, GENESIS_CHAIN } from '../../../src/offline/chain.js';
import { tempDir } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/wait.js';

const { privateKey } = generateKeyPairSync('ed25519');
const closers: Array<() => void> = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

function chained(count: number, prefix: string): IncomingRecord[] {
  let prev = GENESIS_CHAIN;
  return Array.from({ length: count }, (_, i) => {
    const r = {
      seq: i + 1,
      id: `${prefix}-${i + 1}`,
      type: 'sale.completed',
      at: '2026-12-05T10:00:00.000Z',
      body: { i },
    };
    prev = chainOf(prev, r);
    return { ...r, chain: prev };
  });
}

/** The cloud with its MQTT client replaced by one that records what it publishes. */
function cloudWithoutBroker() {
  const cloud = new CloudService({
    brokerUrl: 'mqtt://unused',
    dbFile: join(tempDir('posd-cloud-'), 'cloud.db'),
    signingKey: privateKey,
  });
  closers.push(() => cloud.store.close());
  const published: Array<{ topic: string; ack: LedgerAck }> = [];
  const seam = cloud as unknown as {
    client: { publishAsync(topic: string, payload: string): Promise<void> };
    onLedger(tenant: string, device: string, payload: Buffer): void;
  };
  seam.client = {
    publishAsync: async (topic, payload) => {
      published.push({ topic, ack: JSON.parse(payload) as LedgerAck });
    },
  };
  const arrive = (device: string, epoch: string, records: IncomingRecord[]) =>
    seam.onLedger('t1', device, Buffer.from(JSON.stringify({ epoch, records })));
  return { cloud, published, arrive };
}

describe('reference cloud ingest (issue 18)', () => {
  it('batches that arrive together are stored in one commit, each device acked once after it', async () => {
    const { cloud, published, arrive } = cloudWithoutBroker();
    const d1 = chained(6, 'd1');
    const d2 = chained(2, 'd2');
    arrive('D1', 'E1', d1.slice(0, 2));
    arrive('D1', 'E1', d1.slice(2, 4));
    arrive('D2', 'E2', d2);
    arrive('D1', 'E1', d1.slice(4, 6));
    expect(published).toEqual([]); // nothing is acked before the commit
    await waitFor(() => (published.length >= 2 ? true : undefined), 'the acks');
    expect(cloud.batches).toBe(4);
    expect(cloud.ingestCommits).toBe(1);
    expect(published).toEqual([
      { topic: 'pos/v1/t1/D2/down/ack', ack: { epoch: 'E2', ackedUpTo: 2, rejected: [] } },
      { topic: 'pos/v1/t1/D1/down/ack', ack: { epoch: 'E1', ackedUpTo: 6, rejected: [] } },
    ]);
    expect(cloud.store.countRecords()).toBe(8);
  });

  it('a batch that fails alone is rolled back alone; the others of its group are stored and acked', async () => {
    const { cloud, published, arrive } = cloudWithoutBroker();
    arrive('D1', 'E1', chained(2, 'd1'));
    // A record the store cannot take (no body to serialise is fine; a throwing getter is not).
    const bad = chained(1, 'd3');
    Object.defineProperty(bad[0]!, 'body', {
      get() {
        throw new Error('unreadable body');
      },
    });
    (cloud as unknown as { onLedger(t: string, d: string, p: Buffer | object): void }).onLedger('t1', 'D3', {
      epoch: 'E3',
      records: bad,
    } as unknown as Buffer);
    arrive('D2', 'E2', chained(1, 'd2'));
    await waitFor(() => (published.length >= 2 ? true : undefined), 'the acks');
    expect(published.map((p) => [p.topic, p.ack.ackedUpTo])).toEqual([
      ['pos/v1/t1/D1/down/ack', 2],
      ['pos/v1/t1/D2/down/ack', 1],
    ]);
    expect(cloud.store.countRecords()).toBe(3);
  });

  it('a SEQ_CONFLICT in one batch reaches the device when a later batch of its group is acked', async () => {
    const { published, arrive } = cloudWithoutBroker();
    // The lost database sent 1..6; a copy restored at 2 recorded 3..8 of its own at the same seqs.
    const lost = chained(6, 'lost');
    arrive('D1', 'E1', lost);
    await waitFor(() => (published.length === 1 ? true : undefined), 'the first ack');
    let prev = lost[1]!.chain;
    const own = [3, 4, 5, 6, 7, 8].map((seq) => {
      const r = {
        seq,
        id: `own-${seq}`,
        type: 'sale.completed',
        at: '2026-12-05T11:00:00.000Z',
        body: { seq },
      };
      prev = chainOf(prev, r);
      return { ...r, chain: prev };
    });
    // Two batches in flight at once (the send window), arriving together.
    arrive('D1', 'E1', [...lost.slice(0, 2), ...own.slice(0, 4)]);
    arrive('D1', 'E1', own.slice(4));
    await waitFor(() => (published.length === 2 ? true : undefined), 'the ack of the group');
    const ack = published[1]!.ack;
    // Without the conflict the device would take 3..6 as synced: the cloud holds other records there.
    expect(ack.rejected).toContainEqual(expect.objectContaining({ seq: 3, code: 'SEQ_CONFLICT' }));
  });
});
