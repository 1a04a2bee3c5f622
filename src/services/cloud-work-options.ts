import type { EventBus } from '../bus.js';
import type { BusinessConfig } from '../config/business.js';
import type { Logger } from '../log.js';
import type { Db } from '../offline/db.js';
import type { Ledger } from '../offline/ledger.js';
import type { CloudPort, Sleep } from './cloud-port.js';

/**
 * What a service is given that records on the terminal and settles with the cloud in the
 * background, retrying until answered (coupons, member recharges, payments).
 */
export interface CloudWorkOptions {
  db: Db;
  ledger: Ledger;
  cloud: CloudPort;
  bus: EventBus;
  log: Logger;
  business: () => BusinessConfig;
  /** Every wait of the background work goes through here (tests and the simulation run in fake time). */
  sleep: Sleep;
  now?: () => Date;
  newId?: () => string;
}
