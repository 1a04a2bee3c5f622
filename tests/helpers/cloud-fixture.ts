import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { CloudService } from '../../cloud/cloud-service.js';
import type { LedgerRecord } from '../../src/core/ledger-record.js';
import { verifyChain } from '../../src/offline/chain.js';
import type { apiClient } from './api.js';
import { tempDir } from './daemon.js';
import { waitFor } from './wait.js';

export function cloudKeys(): { privateKey: KeyObject; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export async function startCloud(
  brokerUrl: string,
  privateKey: KeyObject,
  dbFile = join(tempDir('posd-cloud-'), 'cloud.db'),
  instanceId?: string,
): Promise<CloudService> {
  const cloud = new CloudService({
    brokerUrl,
    dbFile,
    signingKey: privateKey,
    ...(instanceId ? { instanceId } : {}),
  });
  await cloud.start();
  return cloud;
}

/** Every record of the device's ledger, via the local API. */
export async function deviceLedger(
  api: ReturnType<typeof apiClient>,
): Promise<Array<LedgerRecord & { sync: string }>> {
  const all: Array<LedgerRecord & { sync: string }> = [];
  for (;;) {
    const page = await api.call<{ records: Array<LedgerRecord & { sync: string }> }>(
      'GET',
      `/api/v1/ledger?afterSeq=${all.at(-1)?.seq ?? 0}&limit=1000`,
    );
    if (page.body.records.length === 0) return all;
    all.push(...page.body.records);
  }
}

/**
 * The cloud pushes a business config to the device and the test waits, as a till would be set up,
 * until the device has applied it and its cloud link is up.
 */
export async function pushConfigAndWaitOnline(
  cloud: CloudService,
  api: ReturnType<typeof apiClient>,
  device: string,
  business: Record<string, unknown>,
): Promise<void> {
  await cloud.pushConfig('t1', device, 1, business);
  await waitFor(
    async () => ((await deviceLedger(api)).some((r) => r.type === 'config.applied') ? true : undefined),
    'the business config applied',
    30_000,
  );
  await waitFor(
    async () => ((await api.call('GET', '/api/v1/status')).body.cloud === 'online' ? true : undefined),
    'the cloud link',
    30_000,
  );
}

/** The cloud holds exactly the device's records: once each, in order, chain verified. */
export function expectCloudMatches(
  cloud: CloudService,
  tenant: string,
  device: string,
  ledger: ReadonlyArray<LedgerRecord>,
): { missing: number; extra: number; chainOk: boolean } {
  const stored = cloud.store.records(tenant, device);
  const seqs = stored.map((r) => r.seq);
  const missing = ledger.filter((r) => !seqs.includes(r.seq)).length;
  return {
    missing,
    extra: stored.length - (ledger.length - missing),
    chainOk: verifyChain(stored) === undefined && stored.every((r, i) => r.seq === i + 1),
  };
}
