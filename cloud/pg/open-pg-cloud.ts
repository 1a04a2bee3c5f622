import type { KeyObject } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { AmqpTransport } from '../transport/amqp-transport.js';
import { MqttTransport } from '../transport/mqtt-transport.js';
import { PgCloudService } from './pg-cloud.js';

export interface PgCloudCliOptions {
  db: string;
  signingKey: KeyObject;
  /** false for a client that only pushes: it takes no share of the uplinks. */
  ingest: boolean;
  log: (msg: string, extra?: Record<string, unknown>) => void;
  /** An MQTT 5 broker (shared subscriptions)… */
  broker?: string;
  /** …or the AMQP URLs of a RabbitMQ cluster's nodes. */
  amqp?: string[];
  group?: string;
}

/** The cloud on PostgreSQL with the transport the command line names. */
export function openPgCloud(o: PgCloudCliOptions): PgCloudService {
  const instanceId = uuidv7();
  const transport = o.amqp
    ? new AmqpTransport({ urls: o.amqp, ingest: o.ingest, log: o.log, instanceId })
    : new MqttTransport({
        url: o.broker ?? '',
        clientId: `posd-cloud-${instanceId}`,
        ingest: o.ingest,
        ...(o.group ? { group: o.group } : {}),
      });
  return new PgCloudService({ dbUrl: o.db, transport, signingKey: o.signingKey, log: o.log });
}
