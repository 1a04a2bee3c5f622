import type { KeyObject } from 'node:crypto';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { EventBus } from '../../src/bus.js';
import type { Logger } from '../../src/log.js';
import { type Db, openDatabase } from '../../src/offline/db.js';
import { Ledger } from '../../src/offline/ledger.js';
import { ConfigService } from '../../src/services/config-service.js';
import { CloudSync } from '../../src/sync/cloud-sync.js';
import type { UplinkSettings } from '../../src/sync/uplink.js';
import { tempDir } from './daemon.js';

const SILENT = pino({ level: 'silent' });

export interface FleetTerminalOptions {
  tenant: string;
  device: string;
  /** The brokers (a cluster's nodes), tried in turn. */
  urls: string[];
  cloudKey: KeyObject;
  protocolVersion?: 4 | 5;
  /** The reported state (`P/up/state`); by default only the config version. */
  reportedState?: (ledger: Ledger) => Record<string, unknown>;
  /** The database file (a restored copy); by default a new one in a temp dir. */
  file?: string;
  /** Uplink settings over the fleet defaults (e.g. small batches). */
  uplink?: Partial<UplinkSettings>;
  /** Where its sync logs go (silent by default). */
  log?: Logger;
}

/**
 * A terminal's cloud side in-process, as src/app.ts wires it: its own SQLite file, the real Ledger,
 * config service and CloudSync (link, uplink, downlink, requests). Sales are ledger records.
 */
export class FleetTerminal {
  readonly db: Db;
  readonly ledger: Ledger;
  readonly config: ConfigService;
  readonly sync: CloudSync;
  connects = 0;
  disconnects = 0;
  private sold = 0;

  constructor(readonly o: FleetTerminalOptions) {
    const file = o.file ?? join(tempDir('posd-fleet-terminal-'), 'posd.db');
    const dir = dirname(file);
    this.db = openDatabase({ file, log: SILENT, synchronous: 'NORMAL' });
    this.ledger = new Ledger({ db: this.db, dir });
    this.config = new ConfigService(this.db, this.ledger, new EventBus(() => new Date()));
    this.sync = new CloudSync({
      urls: o.urls,
      tenant: o.tenant,
      device: o.device,
      db: this.db,
      ledger: this.ledger,
      log: o.log ?? SILENT,
      appVersion: 'fleet-test',
      bootedAt: new Date().toISOString(),
      cloudKey: o.cloudKey,
      ...(o.protocolVersion ? { protocolVersion: o.protocolVersion } : {}),
      backoff: { initialMs: 200, maxMs: 2_000 },
      uplink: { ackWaitMs: 300, resendAfterMs: 3_000, ...o.uplink },
      reportedState: () => o.reportedState?.(this.ledger) ?? { configVersion: this.config.version },
    });
    this.sync.connectPorts({
      config: this.config,
      orders: { receive: () => ({ duplicate: false }) },
      commands: { run: async () => ({ ok: true, result: {} }) },
      notify: () => {},
      lastDownSeq: () => 0,
    });
    this.sync.link.onConnect(() => {
      this.connects += 1;
    });
    this.sync.link.onDisconnect(() => {
      this.disconnects += 1;
    });
  }

  start(): void {
    this.sync.start();
  }

  /** One sale, as the ledger records it. */
  sell(): void {
    this.sold += 1;
    const saleId = uuidv7();
    const total = 100 * this.sold;
    this.ledger.transact(() =>
      this.ledger.append('sale.completed', {
        saleId,
        total,
        currency: 'CNY',
        lines: [{ name: '拿铁咖啡', qty: 1, unitPrice: total }],
      }),
    );
  }

  get connected(): boolean {
    return this.sync.link.isConnected;
  }

  /** Every record of the ledger with its local sync state. */
  records(): Array<{ seq: number; id: string; type: string; sync: string }> {
    return this.ledger.page(0, 1_000_000).map((r) => ({ seq: r.seq, id: r.id, type: r.type, sync: r.sync }));
  }

  async stop(): Promise<void> {
    await this.sync.stop();
    this.db.close();
  }
}
