import { afterAll, beforeAll } from 'vitest';
import type { CloudService } from '../../cloud/cloud-service.js';
import { apiClient } from './api.js';
import { cloudKeys, deviceLedger, startCloud } from './cloud-fixture.js';
import {
  type DaemonProcess,
  spawnPosd,
  type TestConfig,
  tempDir,
  waitHealthy,
  writeTestConfig,
} from './daemon.js';
import { FAST_PAYMENTS } from './money-fixtures.js';
import { Mosquitto } from './mosquitto.js';
import { waitFor } from './wait.js';

export type Api = ReturnType<typeof apiClient>;
export type Body = Record<string, unknown> & { error?: { code: string } };

export interface TerminalOptions {
  /** The business config pushed before the terminal is handed over; fast payment timings by default. */
  doc?: Record<string, unknown>;
  /** false: no config is pushed (the terminal may not reach the cloud at all). */
  online?: boolean;
  brokerUrl?: string;
  /**
   * More of the daemon's config (its `update` section, …), made with the terminal's folder before
   * the config is written; a key set to undefined is left out (`mqtt: undefined`: no cloud link).
   */
  config?: (dir: string) => Record<string, unknown>;
  /** Runs once the config is written, before the daemon starts (state it should find on start). */
  beforeStart?: (cfg: TestConfig) => void;
}

export interface CloudTerminal {
  api: Api;
  cfg: TestConfig;
  device: string;
  daemon: DaemonProcess;
  /** Starts the daemon again on the same config and state (after the test killed it). */
  spawn(): Promise<DaemonProcess>;
}

/**
 * A real mosquitto and the reference cloud for one test file, and real daemons spawned against
 * them, each with the business config applied; all of them stopped after the file's tests.
 */
export function cloudTerminals() {
  const broker = new Mosquitto();
  const keys = cloudKeys();
  const daemons: DaemonProcess[] = [];
  let cloud: CloudService | undefined;

  beforeAll(async () => {
    await broker.start();
    cloud = await startCloud(broker.url, keys.privateKey);
  }, 60_000);
  afterAll(async () => {
    for (const d of daemons) d.child.kill('SIGKILL');
    await cloud?.stop();
    await broker.stop();
  });

  const started = (): CloudService => {
    if (!cloud) throw new Error('the reference cloud is started in beforeAll');
    return cloud;
  };

  async function terminal(device: string, o: TerminalOptions = {}): Promise<CloudTerminal> {
    const dir = tempDir();
    const cfg = await writeTestConfig(
      {
        device: { tenant: 't1', id: device },
        mqtt: { url: o.brokerUrl ?? broker.url, reconnectMinMs: 100, reconnectMaxMs: 300 },
        cloud: { publicKey: keys.publicPem },
        ...o.config?.(dir),
      },
      dir,
    );
    o.beforeStart?.(cfg);
    const spawn = async () => {
      const d = spawnPosd(['run', '--config', cfg.file]);
      daemons.push(d);
      await waitHealthy(cfg.port);
      return d;
    };
    const daemon = await spawn();
    const api = apiClient(cfg.port, cfg.stateDir);
    if (o.online !== false) {
      await started().pushConfig(
        't1',
        device,
        1,
        o.doc ?? { payments: FAST_PAYMENTS, coupons: { offlineWhitelist: [] } },
      );
      await waitFor(
        async () => ((await deviceLedger(api)).some((r) => r.type === 'config.applied') ? true : undefined),
        'the business config applied',
      );
    }
    return { api, cfg, device, daemon, spawn };
  }

  return {
    broker,
    keys,
    /** Other processes the test starts (posd doctor, ...), killed with the daemons. */
    daemons,
    get cloud(): CloudService {
      return started();
    },
    terminal,
  };
}

/** A one-line sale opened through the local API: its id. */
export async function openSale(api: Api, unitPrice: number): Promise<string> {
  const r = await api.call<Body>('POST', '/api/v1/sales', { lines: [{ name: 'Item', qty: 1, unitPrice }] });
  return String(r.body.saleId);
}
