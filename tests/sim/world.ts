import { AcquirerSimulator } from '../../cloud/acquirer.js';
import { answerRequest, ingestLedgerBatch, type LedgerAck } from '../../cloud/cloud-service.js';
import { CloudStore } from '../../cloud/store.js';
import type { Prng, SimClock } from './clock.js';

export const TENANT = 'sim';

/** What the network does to the next messages of one kind on one terminal's link. */
export type RequestFault = 'requestLost' | 'replyLost' | 'replyLate' | 'duplicate' | 'systemError';
export type UplinkFault = 'batchLost' | 'ackLost' | 'batchTwice';

interface Pending<F> {
  kind: F;
  left: number;
}

/** One terminal's link to the cloud as the network sees it: up or down, and its queued faults. */
export class SimLink {
  up = true;
  upSince = 0;
  requestFaults: Array<Pending<RequestFault>> = [];
  uplinkFaults: Array<Pending<UplinkFault>> = [];
  /** Payment hints the cloud sends once the link is up (MQTT session queue). */
  notifies: string[] = [];

  takeRequestFault(): RequestFault | undefined {
    return take(this.requestFaults);
  }

  takeUplinkFault(): UplinkFault | undefined {
    return take(this.uplinkFaults);
  }

  heal(): void {
    this.requestFaults = [];
    this.uplinkFaults = [];
  }
}

function take<F>(queue: Array<Pending<F>>): F | undefined {
  const head = queue[0];
  if (!head) return undefined;
  head.left -= 1;
  if (head.left <= 0) queue.shift();
  return head.kind;
}

/**
 * The reference cloud in-process: the real CloudStore (in memory) and AcquirerSimulator, reached
 * through the transport-free request and ledger entries the MQTT service itself uses. The retained
 * `down/ack` of each device is kept as the broker would.
 */
export class SimCloud {
  readonly store = new CloudStore(':memory:');
  readonly acquirer = new AcquirerSimulator(this.store);
  readonly retainedAck = new Map<string, LedgerAck>();
  /** Ops the cloud handled, for the trace. */
  handled = 0;

  constructor(
    readonly clock: SimClock,
    readonly rand: Prng,
  ) {}

  request(device: string, reqId: string, op: string, args: Record<string, unknown>) {
    this.handled += 1;
    return answerRequest(this.store, this.acquirer, TENANT, device, reqId, op, args);
  }

  ingest(device: string, payload: string): LedgerAck | undefined {
    const ack = ingestLedgerBatch(this.store, this.acquirer, TENANT, device, payload);
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
