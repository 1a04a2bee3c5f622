import { generateKeyPairSync } from 'node:crypto';
import { CloudService, type LedgerAck } from '../../cloud/cloud-service.js';
import type { Prng, SimClock } from './clock.js';

export const TENANT = 'sim';

/** What the network does to the next messages of one kind on one terminal's link. */
export type RequestFault = 'requestLost' | 'replyLost' | 'replyLate' | 'duplicate' | 'systemError';
export type UplinkFault = 'batchLost' | 'ackLost' | 'batchTwice';

interface Pending<F> {
  kind: F;
  left: number;
  /** Only requests of this op (a fault aimed at one step of a flow); any when absent. */
  op?: string;
}

/** One terminal's link to the cloud as the network sees it: up or down, and its queued faults. */
export class SimLink {
  up = true;
  upSince = 0;
  requestFaults: Array<Pending<RequestFault>> = [];
  uplinkFaults: Array<Pending<UplinkFault>> = [];
  /** Payment hints the cloud sends once the link is up (MQTT session queue). */
  notifies: string[] = [];

  takeRequestFault(op: string): RequestFault | undefined {
    return take(this.requestFaults, op);
  }

  takeUplinkFault(): UplinkFault | undefined {
    return take(this.uplinkFaults);
  }

  heal(): void {
    this.requestFaults = [];
    this.uplinkFaults = [];
  }
}

function take<F>(queue: Array<Pending<F>>, op?: string): F | undefined {
  const i = queue.findIndex((f) => f.op === undefined || f.op === op);
  const head = queue[i];
  if (!head) return undefined;
  head.left -= 1;
  if (head.left <= 0) queue.splice(i, 1);
  return head.kind;
}

const SIGNING_KEY = generateKeyPairSync('ed25519').privateKey;

/**
 * The reference cloud in-process: the real CloudService (store in memory, acquirer simulator),
 * never started on a broker: requests and ledger batches reach it through its transport-free
 * entries. Its clock is the true time (a terminal's wall clock may be off). The retained
 * `down/ack` of each device is kept as the broker would.
 */
export class SimCloud {
  readonly service: CloudService;
  readonly retainedAck = new Map<string, LedgerAck>();

  constructor(
    readonly clock: SimClock,
    readonly rand: Prng,
  ) {
    this.service = new CloudService({
      brokerUrl: 'mqtt://unused',
      dbFile: ':memory:',
      signingKey: SIGNING_KEY,
      acquirer: { now: () => clock.trueNow() },
    });
  }

  get store() {
    return this.service.store;
  }

  get acquirer() {
    return this.service.acquirer;
  }

  request(device: string, request: Record<string, unknown>) {
    return this.service.handleRequest(TENANT, device, request);
  }

  ingest(device: string, payload: string): LedgerAck | undefined {
    const ack = this.service.handleLedgerBatch(TENANT, device, payload);
    if (ack) this.retainedAck.set(device, ack);
    return ack;
  }

  /** Network latency of one hop, in ms. */
  latency(): number {
    return this.rand.int(2, 120);
  }

  close(): void {
    this.store.close();
  }
}
