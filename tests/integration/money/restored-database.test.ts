import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiClient } from '../../helpers/api.js';
import { deviceLedger } from '../../helpers/cloud-fixture.js';
import { type CloudTerminal, cloudTerminals } from '../../helpers/cloud-terminals.js';
import type { DaemonProcess } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/wait.js';

// Issue 12, case 1, end to end: the real daemon, mosquitto and the reference cloud. posd.db is
// copied while the daemon is stopped, the terminal sells on, then the copy is restored.
const fx = cloudTerminals();
let daemon: DaemonProcess | undefined;

async function start(t: CloudTerminal) {
  daemon = await t.spawn();
  return apiClient(t.cfg.port, t.cfg.stateDir);
}

async function stop(): Promise<void> {
  const d = daemon!;
  d.child.kill('SIGTERM');
  expect((await d.exited).code).toBe(0);
  daemon = undefined;
}

type Api = Awaited<ReturnType<typeof start>>;

async function sell(api: Api, price: number): Promise<{ saleId: string; receiptNo: string }> {
  const r = await api.call<{ saleId: string; receiptNo: string; status: string }>('POST', '/api/v1/sales', {
    lines: [{ name: 'Item', qty: 1, unitPrice: price }],
    tenders: [{ method: 'cash', amount: price }],
  });
  expect(r.body.status).toBe('completed');
  return { saleId: r.body.saleId, receiptNo: r.body.receiptNo };
}

async function allSynced(api: Api): Promise<void> {
  await waitFor(
    async () => ((await deviceLedger(api)).every((r) => r.sync === 'synced') ? true : undefined),
    'every record synced',
    20_000,
  );
}

async function epochOf(api: Api): Promise<string> {
  return (await api.call<{ epoch: string }>('GET', '/api/v1/ledger?limit=1')).body.epoch;
}

describe('a posd.db restored from a backup', () => {
  it('loses no sale made after the restore, counts none twice, and repeats no receipt number', async () => {
    const t = await fx.terminal('RS1', { online: false });
    const { cfg } = t;
    daemon = t.daemon;
    const db = join(cfg.stateDir, 'posd.db');
    const backup = join(cfg.dir, 'posd.db.backup');
    const sold: Array<{ saleId: string; receiptNo: string }> = [];

    let api = t.api;
    sold.push(await sell(api, 100), await sell(api, 200));
    await allSynced(api);
    const firstEpoch = await epochOf(api);
    await stop();
    copyFileSync(db, backup); // the nightly backup

    api = await start(t);
    sold.push(await sell(api, 300), await sell(api, 400));
    await allSynced(api);
    await stop();

    // The disk is replaced; posd.db comes back from the backup.
    for (const f of [db, `${db}-wal`, `${db}-shm`]) if (existsSync(f)) rmSync(f);
    copyFileSync(backup, db);
    api = await start(t);
    // The cloud's retained ack speaks of seqs this copy never had: it moves to a new epoch.
    await waitFor(async () => ((await epochOf(api)) !== firstEpoch ? true : undefined), 'a new epoch');
    sold.push(await sell(api, 500), await sell(api, 600));
    await allSynced(api);

    const cloud = fx.cloud;
    const facts = cloud.store.facts('t1', 'RS1').filter((r) => r.type === 'sale.completed');
    const ids = facts.map((r) => String(r.body.saleId));
    expect(ids.sort()).toEqual(sold.map((s) => s.saleId).sort());
    const receipts = sold.map((s) => s.receiptNo);
    expect(new Set(receipts).size).toBe(receipts.length);
    expect(facts.map((r) => String(r.body.receiptNo)).sort()).toEqual([...receipts].sort());
    // The two epochs at the cloud: the lost database's four sales, then the restored copy's two.
    const epochs = new Set(cloud.store.records('t1', 'RS1').map((r) => r.epoch));
    expect(epochs.size).toBe(2);
  });
});
