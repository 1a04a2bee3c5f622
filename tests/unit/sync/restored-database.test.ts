import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudService, type LedgerAck } from '../../../cloud/cloud-service.js';
import { verifyChain } from '../../../src/offline/chain.js';
import { openDatabase } from '../../../src/offline/db.js';
import { GroupCommit } from '../../../src/offline/group-commit.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { SalesStore } from '../../../src/offline/sales-store.js';
import { Uplink } from '../../../src/sync/uplink.js';
import { tempDir } from '../../helpers/daemon.js';
import { silentLogger } from '../../helpers/test-log.js';
import { waitFor } from '../../helpers/wait.js';

// mqtt-v1 "Restored database" (issue 12, case 1): the device side against the reference cloud,
// wired without a broker: the uplink's publish is the cloud's ingest, its ack comes back next.
const closers: Array<() => void> = [];
afterEach(() => {
  for (const c of closers.splice(0).reverse()) c();
});

const { privateKey } = generateKeyPairSync('ed25519');

function referenceCloud() {
  const cloud = new CloudService({
    brokerUrl: 'mqtt://unused',
    dbFile: join(tempDir('posd-cloud-'), 'cloud.db'),
    signingKey: privateKey,
  });
  closers.push(() => cloud.store.close());
  let retained: LedgerAck | undefined;
  return {
    cloud,
    /** A terminal's database, connected: sends, hears acks, as through a broker. */
    connect(
      ledger: Ledger,
      opts: {
        loseBatches?: number;
        acksAfterPubacks?: boolean;
        maxRecords?: number;
        /** Acks that carry a SEQ_CONFLICT the device never hears of (lost on the way). */
        loseConflictAcks?: number;
        /** Called when a batch is dropped (the test acts right then). */
        onLost?: () => void;
        /** Changes a batch on its way to the cloud. */
        tamper?: (payload: Buffer) => Buffer;
        /** Called once the uplink has taken a live ack (the test acts right then). */
        onAcked?: () => void;
      } = {},
    ): Uplink {
      let loseConflicts = opts.loseConflictAcks ?? 0;
      let lose = opts.loseBatches ?? 0;
      const uplink: Uplink = new Uplink({
        link: {
          isConnected: true,
          sendWindow: 4,
          publish: async (_topic, payload) => {
            // PUBACKed, but the broker drops it (no subscriber took it): the cloud never sees it.
            if (lose > 0) {
              lose -= 1;
              opts.onLost?.();
              return;
            }
            const ack = cloud.handleLedgerBatch(
              't1',
              'D1',
              opts.tamper ? opts.tamper(Buffer.from(payload)) : payload,
            );
            if (ack) {
              retained = ack;
              if (loseConflicts > 0 && ack.rejected.some((r) => r.code === 'SEQ_CONFLICT')) {
                loseConflicts -= 1;
                return;
              }
              const deliver = () => {
                uplink.onAck(ack.epoch, ack.ackedUpTo, ack.rejected);
                opts.onAcked?.();
              };
              // The broker's PUBACKs of the batches in flight may all come before the cloud's first ack.
              if (opts.acksAfterPubacks) setImmediate(deliver);
              else queueMicrotask(deliver);
            }
          },
        },
        outbox: ledger.outbox,
        topic: 'pos/v1/t1/D1/up/ledger',
        log: silentLogger(),
        settings: { resendAfterMs: 200, ...(opts.maxRecords ? { maxRecords: opts.maxRecords } : {}) },
      });
      uplink.start();
      closers.push(() => {
        try {
          uplink.stop();
        } catch {
          // stopped already, with its database closed
        }
      });
      uplink.onConnected();
      // The broker hands over the retained ack on subscribe (RETAIN set); acks to batches come live.
      if (retained) uplink.onAck(retained.epoch, retained.ackedUpTo, retained.rejected, true);
      else uplink.onAck(ledger.epoch, 0, [], true);
      return uplink;
    },
  };
}

/** A terminal's ledger; `grouped`: as the daemon runs it (synchronous=NORMAL, group commit). */
function terminal(file: string, grouped = false) {
  const db = openDatabase({
    file,
    log: silentLogger(),
    ...(grouped ? { synchronous: 'NORMAL' as const } : {}),
  });
  const groupCommit = grouped ? new GroupCommit({ db, file, log: silentLogger() }) : undefined;
  const ledger = new Ledger({ db, dir: join(file, '..'), ...(groupCommit ? { groupCommit } : {}) });
  closers.push(() => db.open && db.close());
  const sell = (label: string) =>
    ledger.transact(() => ledger.append('sale.completed', { saleId: `${label}`, total: 100 }));
  return { db, ledger, sell, store: new SalesStore(db), groupCommit };
}

const allSynced = (ledger: Ledger) =>
  ledger.page(0, 1000).every((r) => r.sync === 'synced') ? true : undefined;

/** A database that sold `before` sales (synced), was backed up, then sold `after` more (synced). */
async function soldBackedUpAndSoldOn(before: number, after: number) {
  const dir = tempDir('posd-restore-');
  const file = join(dir, 'posd.db');
  const rc = referenceCloud();
  const a = terminal(file);
  const ua = rc.connect(a.ledger);
  for (let i = 1; i <= before; i++) a.sell(`A${i}`);
  await waitFor(() => allSynced(a.ledger), 'first sales synced');
  ua.stop();
  a.db.close();
  copyFileSync(file, join(dir, 'backup.db'));
  const a2 = terminal(file);
  const ua2 = rc.connect(a2.ledger);
  for (let i = before + 1; i <= before + after; i++) a2.sell(`A${i}`);
  await waitFor(() => allSynced(a2.ledger), 'later sales synced');
  ua2.stop();
  a2.db.close();
  // The disk is replaced: posd.db comes back from the backup.
  copyFileSync(join(dir, 'backup.db'), join(dir, 'restored.db'));
  return { rc, restored: terminal(join(dir, 'restored.db')), epoch: a2.ledger.epoch, dir };
}

function cloudSaleIds(rc: ReturnType<typeof referenceCloud>): string[] {
  return rc.cloud.store
    .facts('t1', 'D1')
    .filter((r) => r.type === 'sale.completed')
    .map((r) => String(r.body.saleId));
}

describe('a restored database', () => {
  it('sales made on the copy before it reconnects hit SEQ_CONFLICT, move to a new epoch and arrive once', async () => {
    const { rc, restored: b, epoch } = await soldBackedUpAndSoldOn(3, 2);
    expect(b.ledger.epoch).toBe(epoch);
    b.sell('B1');
    b.sell('B2'); // same seqs (4, 5) as the lost database's A4, A5
    rc.connect(b.ledger);
    await waitFor(() => (b.ledger.epoch !== epoch ? true : undefined), 'a new epoch');
    await waitFor(() => allSynced(b.ledger), 'the copy synced under its new epoch');
    expect(cloudSaleIds(rc).sort()).toEqual(['A1', 'A2', 'A3', 'A4', 'A5', 'B1', 'B2']);
    // The new epoch holds B1, B2 as seq 1, 2, chained from genesis; the file keeps the originals.
    const newEpoch = rc.cloud.store.records('t1', 'D1').filter((r) => r.epoch === b.ledger.epoch);
    expect(newEpoch.map((r) => [r.seq, r.body.saleId])).toEqual([
      [1, 'B1'],
      [2, 'B2'],
    ]);
    expect(verifyChain(newEpoch)).toBeUndefined();
    expect(b.ledger.verify()).toBeUndefined();
    const rows = b.db.prepare('SELECT seq, moved_to FROM ledger ORDER BY seq').all();
    expect(rows).toEqual([
      { seq: 1, moved_to: null },
      { seq: 2, moved_to: null },
      { seq: 3, moved_to: null },
      { seq: 4, moved_to: 6 },
      { seq: 5, moved_to: 7 },
      { seq: 6, moved_to: null },
      { seq: 7, moved_to: null },
    ]);
    // Each fact once for the services (a shift's totals, the local API).
    expect(b.ledger.recordsAfter(0, 100).map((r) => r.body.saleId)).toEqual(['A1', 'A2', 'A3', 'B1', 'B2']);
    // Later sales go on in the new epoch.
    b.sell('B3');
    await waitFor(() => allSynced(b.ledger), 'B3 synced');
    expect(cloudSaleIds(rc)).toContain('B3');
    expect(b.ledger.lastSeq()).toBe(3);
  });

  it('under group commit, as the daemon runs it: the copy moves on SEQ_CONFLICT, sends only flushed records, and its watermarks survive a restart', async () => {
    const { rc, epoch, dir } = await soldBackedUpAndSoldOn(3, 2);
    const file = join(dir, 'restored.db');
    const b = terminal(file, true);
    b.sell('B1');
    b.sell('B2'); // same seqs (4, 5) as the lost database's A4, A5
    const ub = rc.connect(b.ledger);
    await waitFor(() => (b.ledger.epoch !== epoch ? true : undefined), 'a new epoch');
    await waitFor(() => allSynced(b.ledger), 'the copy synced under its new epoch');
    expect(cloudSaleIds(rc).sort()).toEqual(['A1', 'A2', 'A3', 'A4', 'A5', 'B1', 'B2']);
    b.sell('B3');
    await waitFor(() => allSynced(b.ledger), 'B3 synced');
    const newEpoch = b.ledger.epoch;
    ub.stop();
    await b.groupCommit?.close();
    b.db.close();
    // Restarted: same epoch, the watermarks say synced, nothing is sent again.
    const again = terminal(file, true);
    expect(again.ledger.epoch).toBe(newEpoch);
    expect(again.ledger.lastSeq()).toBe(3);
    expect(again.ledger.ackedUpTo()).toBe(3);
    expect(again.ledger.figures()).toMatchObject({ outboxDepth: 0, rejected: 0 });
    expect(allSynced(again.ledger)).toBe(true);
    again.sell('B4');
    const uAgain = rc.connect(again.ledger);
    await waitFor(() => allSynced(again.ledger), 'B4 synced after the restart');
    uAgain.stop();
    await again.groupCommit?.close();
    expect(cloudSaleIds(rc).sort()).toEqual(['A1', 'A2', 'A3', 'A4', 'A5', 'B1', 'B2', 'B3', 'B4']);
    const stored = rc.cloud.store.records('t1', 'D1').filter((r) => r.epoch === newEpoch);
    expect(stored.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(verifyChain(stored)).toBeUndefined();
  });

  it('a retained ack above the last seq moves the copy at once; nothing is marked synced by it', async () => {
    const { rc, restored: b, epoch } = await soldBackedUpAndSoldOn(3, 3);
    b.sell('B1'); // seq 4: the cloud holds 6 under this epoch
    rc.connect(b.ledger);
    await waitFor(() => (b.ledger.epoch !== epoch ? true : undefined), 'a new epoch');
    await waitFor(() => allSynced(b.ledger), 'synced under the new epoch');
    expect(cloudSaleIds(rc).sort()).toEqual(['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'B1']);
    expect(rc.cloud.store.records('t1', 'D1').filter((r) => r.epoch === b.ledger.epoch)).toHaveLength(1);
  });

  it('a copy that sold as many as the cloud held beyond it, its batch PUBACKed but lost, never takes the old retained ack as its own (case 1, hole)', async () => {
    const { rc, restored: b, epoch } = await soldBackedUpAndSoldOn(3, 2);
    b.sell('B1');
    b.sell('B2'); // seqs 4, 5: the retained ack says 5, this ledger's last seq
    rc.connect(b.ledger, { loseBatches: 1 });
    await waitFor(
      () => (b.ledger.epoch !== epoch ? true : undefined),
      'a new epoch (SEQ_CONFLICT on the resend)',
    );
    await waitFor(() => allSynced(b.ledger), 'synced under the new epoch');
    expect(cloudSaleIds(rc).sort()).toEqual(['A1', 'A2', 'A3', 'A4', 'A5', 'B1', 'B2']);
  });

  for (const { name, loseConflictAcks } of [
    {
      name: 'an ack to a batch the cloud already held does not sync the records of the copy sent behind it (their SEQ_CONFLICT moves them)',
      loseConflictAcks: 0,
    },
    {
      name: 'the acks that carried the first SEQ_CONFLICTs lost: the later conflict still moves every record synced since connecting',
      loseConflictAcks: 2,
    },
  ]) {
    it(name, async () => {
      const { rc, restored: b, epoch } = await soldBackedUpAndSoldOn(3, 3);
      // The backup was taken after A2, A3 went out and before their ack: they go out again.
      b.db.prepare('UPDATE ledger_head SET acked_up_to = 1, sent_up_to = 3').run();
      for (let i = 1; i <= 5; i++) b.sell(`B${i}`); // seqs 4..8: the cloud holds A4..A6 at 4..6
      rc.connect(b.ledger, { acksAfterPubacks: true, maxRecords: 1, loseConflictAcks });
      await waitFor(() => (b.ledger.epoch !== epoch ? true : undefined), 'a new epoch');
      await waitFor(() => allSynced(b.ledger), 'synced under the new epoch');
      expect(cloudSaleIds(rc).sort()).toEqual([
        'A1',
        'A2',
        'A3',
        'A4',
        'A5',
        'A6',
        'B1',
        'B2',
        'B3',
        'B4',
        'B5',
      ]);
    });
  }

  // Money simulation seed 473723518: restored twice from one backup, so the retained ack is the
  // first copy's new epoch and reveals nothing. The second copy's own sales went in a batch the
  // broker dropped; its next batch met SEQ_CONFLICT, and the records below the conflict were taken
  // as the cloud's and marked synced: two sales never reached the cloud (the move now starts at the
  // ack this connection began with).
  it("SEQ_CONFLICT after a lost batch of the copy's own sales: those sales are resent under the new epoch", async () => {
    const { rc, restored: b, epoch, dir } = await soldBackedUpAndSoldOn(3, 3);
    const ub = rc.connect(b.ledger);
    await waitFor(() => (b.ledger.epoch !== epoch ? true : undefined), 'the first copy moved');
    b.sell('B1'); // acked under the new epoch: the retained ack is now that epoch's
    await waitFor(() => allSynced(b.ledger), 'the first copy synced');
    ub.stop();
    b.db.close();
    // The same backup restored again: the old epoch, acked up to 3, the cloud holds 6 under it.
    copyFileSync(join(dir, 'backup.db'), join(dir, 'restored-again.db'));
    const c = terminal(join(dir, 'restored-again.db'));
    expect(c.ledger.epoch).toBe(epoch);
    c.sell('C1');
    c.sell('C2'); // seqs 4, 5: sent and PUBACKed, dropped by the broker
    rc.connect(c.ledger, { loseBatches: 1, onLost: () => c.sell('C3') }); // seq 6 meets A6
    await waitFor(() => (c.ledger.epoch !== epoch ? true : undefined), 'the second copy moved');
    await waitFor(() => allSynced(c.ledger), 'the second copy synced');
    expect(cloudSaleIds(rc).sort()).toEqual(['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'B1', 'C1', 'C2', 'C3']);
    const held = new Set(rc.cloud.store.facts('t1', 'D1').map((r) => r.id));
    for (const r of c.ledger.page(0, 1000)) expect(held.has(r.id)).toBe(true);
  });

  it('a copy that sold nothing since moves on before its first sale', async () => {
    const { rc, restored: b, epoch } = await soldBackedUpAndSoldOn(2, 2);
    rc.connect(b.ledger);
    await waitFor(() => (b.ledger.epoch !== epoch ? true : undefined), 'a new epoch');
    expect(b.ledger.lastSeq()).toBe(0);
    b.sell('B1');
    await waitFor(() => allSynced(b.ledger), 'B1 synced');
    expect(cloudSaleIds(rc).sort()).toEqual(['A1', 'A2', 'A3', 'A4', 'B1']);
  });

  it('a fact the cloud already holds under the old epoch is resent (its fate unknown) but counted once', async () => {
    const { rc, restored: b, epoch } = await soldBackedUpAndSoldOn(2, 2);
    // The backup was taken before A2's ack reached the device: the copy thinks A2 unsent.
    // Sent and synced are watermarks (decision 0005): the copy's head says A1 acked, A2 never sent.
    b.db.prepare('UPDATE ledger_head SET acked_up_to = 1, sent_up_to = 1').run();
    rc.connect(b.ledger);
    await waitFor(() => (b.ledger.epoch !== epoch ? true : undefined), 'a new epoch');
    await waitFor(() => allSynced(b.ledger), 'synced');
    expect(cloudSaleIds(rc).sort()).toEqual(['A1', 'A2', 'A3', 'A4']);
  });

  it('receipt numbers after the move carry the new epoch series and never repeat', async () => {
    const { rc, restored: b, epoch } = await soldBackedUpAndSoldOn(1, 1);
    const before = b.ledger.transact(() => b.store.nextReceiptNo('D1'));
    expect(before).toBe('D1-000001');
    rc.connect(b.ledger);
    await waitFor(() => (b.ledger.epoch !== epoch ? true : undefined), 'a new epoch');
    const series = b.ledger.epoch.replaceAll('-', '').slice(-8).toUpperCase();
    expect(b.ledger.transact(() => b.store.nextReceiptNo('D1'))).toBe(`D1-${series}-000002`);
  });

  it('restored twice (the older backup again after a first move): a third epoch, every sale once, no receipt series reused', async () => {
    const { rc, restored: b, epoch } = await soldBackedUpAndSoldOn(3, 2);
    b.sell('B1');
    b.sell('B2');
    const ub = rc.connect(b.ledger);
    await waitFor(() => (b.ledger.epoch !== epoch ? true : undefined), 'a first new epoch');
    await waitFor(() => allSynced(b.ledger), 'the first copy synced');
    const firstMove = b.ledger.epoch;
    const bReceipt = b.ledger.transact(() => b.store.nextReceiptNo('D1'));
    ub.stop();
    b.db.close();
    // The disk is replaced again, from the same older backup.
    const dir = join(b.db.name, '..');
    copyFileSync(join(dir, 'backup.db'), join(dir, 'restored-again.db'));
    const c = terminal(join(dir, 'restored-again.db'));
    expect(c.ledger.epoch).toBe(epoch);
    c.sell('C1');
    c.sell('C2');
    rc.connect(c.ledger); // the retained ack is the first copy's epoch: not its own
    await waitFor(() => (c.ledger.epoch !== epoch ? true : undefined), 'a second new epoch');
    await waitFor(() => allSynced(c.ledger), 'the second copy synced');
    expect(c.ledger.epoch).not.toBe(firstMove);
    expect(cloudSaleIds(rc).sort()).toEqual(['A1', 'A2', 'A3', 'A4', 'A5', 'B1', 'B2', 'C1', 'C2']);
    const cReceipt = c.ledger.transact(() => c.store.nextReceiptNo('D1'));
    expect(cReceipt.split('-')[1]).not.toBe(bReceipt.split('-')[1]);
    expect(cReceipt).not.toBe(bReceipt);
  });
  it('a copy whose first batches the broker dropped meets CHAIN_BROKEN, not SEQ_CONFLICT: it moves, and the ack syncs nothing the cloud lacks', async () => {
    const { rc, restored: b, epoch } = await soldBackedUpAndSoldOn(3, 2);
    b.sell('B1');
    b.sell('B2');
    b.sell('B3'); // seqs 4, 5, 6: the cloud holds the lost database's A4, A5 at 4, 5
    // One record per batch; 4 and 5 dropped: 6 arrives above the cloud's A5, its chain from B2.
    rc.connect(b.ledger, { maxRecords: 1, loseBatches: 2 });
    await waitFor(() => (b.ledger.epoch !== epoch ? true : undefined), 'a new epoch');
    await waitFor(() => allSynced(b.ledger), 'the copy synced under its new epoch');
    expect(cloudSaleIds(rc).sort()).toEqual(['A1', 'A2', 'A3', 'A4', 'A5', 'B1', 'B2', 'B3']);
    expect(b.ledger.verify()).toBeUndefined();
  });
  // Money simulation seeds 500674, 502032: the copy's first batches dropped, a later one arrived
  // across the gap; its ack said what the cloud held (the lost database's records at those seqs)
  // and synced the copy's own. A restart before the resend left the CHAIN_BROKEN above them read
  // as genuine: the copy's sales never reached the cloud.
  it('an ack that may answer a batch across a gap syncs nothing: after a restart the copy still meets SEQ_CONFLICT and moves', async () => {
    const { rc, restored: b, epoch } = await soldBackedUpAndSoldOn(0, 5);
    for (let i = 1; i <= 8; i++) b.sell(`B${i}`); // seqs 1..8: the cloud holds A1..A5 at 1..5
    // Three records a batch: 1..3 and 4..6 dropped, 7..8 arrives above the cloud's 5 (a gap).
    let first: Uplink | undefined;
    await new Promise<void>((resolve) => {
      first = rc.connect(b.ledger, {
        maxRecords: 3,
        loseBatches: 2,
        onAcked: () => {
          first?.stop(); // the daemon restarts right after that ack
          resolve();
        },
      });
    });
    expect(b.ledger.ackedUpTo()).toBe(0);
    rc.connect(b.ledger);
    await waitFor(() => (b.ledger.epoch !== epoch ? true : undefined), 'a new epoch');
    await waitFor(() => allSynced(b.ledger), 'the copy synced under its new epoch');
    expect(cloudSaleIds(rc).sort()).toEqual([
      'A1',
      'A2',
      'A3',
      'A4',
      'A5',
      'B1',
      'B2',
      'B3',
      'B4',
      'B5',
      'B6',
      'B7',
      'B8',
    ]);
    const held = new Set(rc.cloud.store.facts('t1', 'D1').map((r) => r.id));
    for (const r of b.ledger.page(0, 1000)) expect(held.has(r.id)).toBe(true);
  });
  it('a genuine chain break (the same record refused again) moves the database once at most, then is rejected', async () => {
    const rc = referenceCloud();
    const t = terminal(join(tempDir('posd-chain-'), 'posd.db'));
    const first = t.ledger.epoch;
    t.sell('S1');
    t.sell('S2');
    t.sell('S3');
    // S2's chain comes out differently in the cloud, every time it is sent.
    const tamper = (payload: Buffer) => {
      const batch = JSON.parse(payload.toString()) as {
        records: Array<{ body: { saleId?: string }; chain: string }>;
      };
      for (const r of batch.records) if (r.body.saleId === 'S2') r.chain = '0'.repeat(64);
      return Buffer.from(JSON.stringify(batch));
    };
    rc.connect(t.ledger, { maxRecords: 1, tamper });
    const settled = () =>
      t.ledger.page(0, 1000).every((r) => r.sync === 'synced' || r.sync === 'rejected') ? true : undefined;
    await waitFor(settled, 'every record synced or rejected');
    const epochs = new Set(rc.cloud.store.records('t1', 'D1').map((r) => r.epoch));
    epochs.add(first);
    expect(epochs.size).toBeLessThanOrEqual(2);
    expect(t.ledger.rejected().map((r) => r.syncError?.code)).toContain('CHAIN_BROKEN');
    expect(cloudSaleIds(rc)).toContain('S1');
  });
});
