import mqtt, { type MqttClient } from 'mqtt';
import type { CloudTransport, PublishOptions, UplinkMessage } from './transport.js';

export interface MqttTransportOptions {
  url: string;
  clientId: string;
  /** Shared-subscription group: instances in one group split the uplinks between them. */
  group?: string;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** false for a client that only pushes (the CLI): it takes no share of the uplinks. */
  ingest?: boolean;
}

/**
 * The cloud on an MQTT 5 broker (mosquitto): uplinks through `$share/{group}/…`, so instances
 * split them. mqtt.js acknowledges a message as it arrives: one the instance then fails to store
 * is not redelivered, and the device sends it again (mqtt-v1 resend rule).
 */
export class MqttTransport implements CloudTransport {
  readonly mqtt5 = true;
  private client: MqttClient | undefined;

  constructor(private readonly o: MqttTransportOptions) {}

  async start(handlers: Parameters<CloudTransport['start']>[0]): Promise<void> {
    const client = await mqtt.connectAsync(this.o.url, {
      clientId: this.o.clientId,
      protocolVersion: 5,
      clean: true,
      reconnectPeriod: 500,
      ...(this.o.tls ?? {}),
    });
    client.on('message', (topic, payload, packet) => {
      if (/\/up\/resp$/.test(topic)) {
        handlers.onAnswer(topic, payload);
        return;
      }
      const m: UplinkMessage = {
        topic,
        payload,
        settle: () => {},
        retry: () => {},
      };
      const corr = packet.properties?.correlationData;
      if (corr) m.correlationData = corr;
      handlers.onUplink(m);
    });
    const share = `$share/${this.o.group ?? 'posd-cloud'}/`;
    await client.subscribeAsync('pos/v1/+/+/up/resp', { qos: 1 });
    if (this.o.ingest !== false)
      await client.subscribeAsync([`${share}pos/v1/+/+/up/ledger`, `${share}pos/v1/+/+/up/req`], { qos: 1 });
    this.client = client;
  }

  async publish(topic: string, payload: string, options: PublishOptions = {}): Promise<void> {
    if (!this.client) throw new Error('cloud not started');
    const properties = {
      ...(options.correlationData ? { correlationData: options.correlationData } : {}),
      ...(options.expirySeconds ? { messageExpiryInterval: options.expirySeconds } : {}),
    };
    await this.client.publishAsync(topic, payload, { qos: 1, retain: options.retain ?? false, properties });
  }

  async stop(): Promise<void> {
    await this.client?.endAsync();
    this.client = undefined;
  }
}
