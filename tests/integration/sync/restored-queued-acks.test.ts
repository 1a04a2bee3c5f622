import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudService, type LedgerAck } from '../../../cloud/cloud-service.js';
import { tempDir } from '../../helpers/daemon.js';
import { FleetTerminal } from '../../helpers/fleet-terminal.js';
import { Mosquitto } from '../../helpers/mosquitto.js';
import { waitFor } from '../../helpers/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const P = 'pos/v1/t1/D1';

/**
 * mqtt-v1 "Restored database" against a real mosquitto: the device's session is persistent
 * (clean start off, an hour's expiry), so acks the cloud published after the lost database went
 * down wait in the broker and reach the restored copy, which connects with the same client id,
 * as live acks (RETAIN 0). The cloud is the reference store, fed by hand so that the test decides
 * which batches the broker drops on their way to it.
 */
describe('a restored copy and the acks queued for the lost database', () => {
  it("acks queued for the lost database do not let an ack across a gap sync the copy's records at its seqs", async () => {
    const broker = new Mosquitto();
    await broker.start();
    cleanups.push(() => broker.stop());
    const cloudKey = generateKeyPairSync('ed25519');
    const cloud = new CloudService({
      brokerUrl: 'mqtt://unused',
      dbFile: join(tempDir('posd-cloud-'), 'cloud.db'),
      signingKey: cloudKey.privateKey,
    });
    cleanups.push(() => cloud.store.close());

    // The cloud's side: batches in order; some dropped (as a broker drops them), acks held or sent.
    const hand = await mqtt.connectAsync(broker.url, { clientId: 'cloud', protocolVersion: 5 });
    cleanups.push(() => hand.endAsync());
    let holdAcks = true;
    const held: LedgerAck[] = [];
    const dropFirst = new Set<number>();
    const seen: number[] = []; // first seq of each batch that reached the broker
    const publishAck = (ack: LedgerAck) =>
      hand.publishAsync(`${P}/down/ack`, JSON.stringify(ack), { qos: 1, retain: true });
    hand.on('message', (_topic, payload) => {
      const from =
        (JSON.parse(payload.toString()) as { records: Array<{ seq: number }> }).records[0]?.seq ?? 0;
      seen.push(from);
      if (dropFirst.delete(from)) return;
      const ack = cloud.handleLedgerBatch('t1', 'D1', payload);
      if (!ack) return;
      if (holdAcks) held.push(ack);
      else
        publishAck(ack).catch(() => {
          // the test is over: the client is closing
        });
    });
    await hand.subscribeAsync(`${P}/up/ledger`, { qos: 1 });

    // The lost database: backed up empty, then five sales, stored by the cloud in two batches; it
    // goes down before it hears the acks, which the broker keeps in its session.
    const dir = tempDir('posd-restore-');
    const lost = new FleetTerminal({
      tenant: 't1',
      device: 'D1',
      urls: [broker.url],
      cloudKey: cloudKey.publicKey,
      file: join(dir, 'posd.db'),
      uplink: { maxRecords: 3 },
    });
    const backup = join(dir, 'backup.db');
    lost.db.exec(`VACUUM INTO '${backup}'`);
    for (let i = 0; i < 5; i++) lost.sell();
    lost.start();
    await waitFor(() => (held.length === 2 ? true : undefined), "the cloud stored the lost database's 1-5");
    await lost.stop();
    expect(held.map((a) => a.ackedUpTo)).toEqual([3, 5]);
    for (const ack of held) await publishAck(ack);
    holdAcks = false;

    // The copy, restored from the backup, sells nine before it connects; its batches from 1 and 4
    // are dropped, the one from 7 reaches the cloud across the gap (the cloud answers: 5).
    seen.length = 0;
    dropFirst.add(1).add(4);
    const openCopy = () =>
      new FleetTerminal({
        tenant: 't1',
        device: 'D1',
        urls: [broker.url],
        cloudKey: cloudKey.publicKey,
        file: backup,
        uplink: { maxRecords: 3 },
      });
    let copy = openCopy();
    const epoch = copy.ledger.epoch;
    for (let i = 0; i < 9; i++) copy.sell();
    const copyIds = copy.records().map((r) => r.id);
    copy.start();
    // Either the ack to the batch across the gap synced records, or the stall resent from seq 1.
    await waitFor(
      () => (copy.ledger.ackedUpTo() > 0 || seen.filter((s) => s === 1).length > 1 ? true : undefined),
      'the answer to the batch across the gap taken, or a resend',
      20_000,
    );
    const held1 = new Set(cloud.store.facts('t1', 'D1').map((r) => r.id));
    const syncedNotHeld = copy.records().filter((r) => r.sync === 'synced' && !held1.has(r.id));
    // The daemon restarts there: what it then holds as synced is the base of its next connection.
    await copy.stop();
    copy = openCopy();
    cleanups.push(() => copy.stop());
    copy.start();
    await waitFor(
      () => (copy.records().every((r) => r.sync === 'synced' || r.sync === 'rejected') ? true : undefined),
      'the copy settled',
      30_000,
    );
    expect(syncedNotHeld.map((r) => r.seq)).toEqual([]);
    expect(copy.ledger.epoch).not.toBe(epoch);
    const held2 = new Set(cloud.store.facts('t1', 'D1').map((r) => r.id));
    expect(copyIds.filter((id) => !held2.has(id))).toEqual([]);
  });
});
