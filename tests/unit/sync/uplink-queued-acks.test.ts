import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { Uplink } from '../../../src/sync/uplink.js';
import { tempDir } from '../../helpers/daemon.js';
import { ManualTimers, settle } from '../../helpers/manual-timers.js';
import { silentLogger } from '../../helpers/test-log.js';

const closers: Array<() => void> = [];
afterEach(() => {
  for (const c of closers.splice(0).reverse()) c();
});

/**
 * A ledger of `sales` sales and its uplink, one batch of 3 in flight at a time; the broker's PUBACKs
 * are held in `pubacks` until the test releases them, and the cloud answers only when told.
 */
function heldPubacks(prefix: string, sales: number) {
  const file = join(tempDir(prefix), 'posd.db');
  const db = openDatabase({ file, log: silentLogger() });
  closers.push(() => db.close());
  const ledger = new Ledger({ db, dir: join(file, '..') });
  const sell = (i: number) =>
    ledger.transact(() => ledger.append('sale.completed', { saleId: `B${i}`, total: 100 }));
  for (let i = 1; i <= sales; i++) sell(i);
  const timers = new ManualTimers();
  const pubacks: Array<() => void> = [];
  const uplink = new Uplink({
    link: {
      isConnected: true,
      sendWindow: 1,
      publish: () => new Promise<void>((resolve) => pubacks.push(resolve)),
    },
    outbox: ledger.outbox,
    topic: 'pos/v1/t1/D1/up/ledger',
    log: silentLogger(),
    timers,
    now: () => timers.now,
    settings: { maxRecords: 3, resendAfterMs: 10_000 },
  });
  uplink.start();
  closers.push(() => uplink.stop());
  uplink.onConnected();
  return { ledger, sell, timers, pubacks, uplink };
}

/**
 * A restored copy's process hears, right at connect, live acks the broker kept in the device's
 * session for the lost database (mqtt-v1: clean start off). They speak of the lost database's
 * records at the same seqs: they must sync none of the copy's, now or after it has sent.
 */
describe('acks heard before this process sent anything (queued for a lost database)', () => {
  it("sync none of the copy's records when its own batches are PUBACKed later, the sent watermark written between", async () => {
    // The broker PUBACKs the batches, but the cloud never answers them.
    const { ledger, timers, pubacks, uplink } = heldPubacks('posd-queued-ack-', 9);
    // Queued for the lost database (its records 1-5), delivered live before the retained copy.
    uplink.onAck(ledger.epoch, 3, []);
    uplink.onAck(ledger.epoch, 5, []);
    uplink.onAck(ledger.epoch, 5, [], true); // the retained ack: sending starts
    expect(pubacks).toHaveLength(1);

    for (let batch = 0; batch < 3; batch++) {
      pubacks.shift()?.();
      await settle();
      timers.advance(1_000); // the stall check writes the sent watermark; the next batch goes
      await settle();
    }
    expect(ledger.outbox.ackedUpTo()).toBe(0);
    expect(ledger.page(0, 100).filter((r) => r.sync === 'synced')).toEqual([]);
  });

  it('an ack syncs no record put on the wire after it came, even once the sent watermark covers that record', async () => {
    const { ledger, sell, timers, pubacks, uplink } = heldPubacks('posd-late-sent-', 4);
    uplink.onAck(ledger.epoch, 0, [], true);
    expect(pubacks).toHaveLength(1); // 1..3 on the wire
    // The cloud's answer comes before the PUBACK: it holds 4 (a lost database's 4 above these).
    uplink.onAck(ledger.epoch, 4, []);
    pubacks.shift()?.();
    await settle();
    expect(ledger.outbox.ackedUpTo()).toBe(3);
    // This copy's own 4 goes after that ack, then a sale 5; the stall check writes the sent watermark between.
    timers.advance(0);
    expect(pubacks).toHaveLength(1);
    pubacks.shift()?.();
    await settle();
    timers.advance(1_000);
    sell(5);
    timers.advance(0);
    expect(pubacks).toHaveLength(1);
    pubacks.shift()?.();
    await settle();
    expect(ledger.outbox.ackedUpTo()).toBe(3);
  });
});
