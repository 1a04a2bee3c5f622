/** One message a device sent (`P/up/ledger`, `P/up/req`, …), to settle once handled. */
export interface UplinkMessage {
  topic: string;
  payload: Buffer;
  /** MQTT 5 Correlation Data of a request, when the transport carries it. */
  correlationData?: Buffer;
  /** Handled (committed): the broker may forget it. */
  settle(): void;
  /** Not handled (the store failed): the broker delivers it again, here or to another instance. */
  retry(): void;
}

export interface PublishOptions {
  retain?: boolean;
  /** Dropped by the broker if not delivered by then (orders: 1 h). */
  expirySeconds?: number;
  correlationData?: Buffer;
}

/**
 * How a cloud instance meets the devices: uplinks shared among the instances (each handled by one),
 * command answers seen by every instance (the one that sent the command waits for it), downlinks
 * published to the device's MQTT topic.
 */
export interface CloudTransport {
  start(handlers: {
    onUplink: (m: UplinkMessage) => void;
    onAnswer: (topic: string, payload: Buffer) => void;
  }): Promise<void>;
  publish(topic: string, payload: string, options?: PublishOptions): Promise<void>;
  stop(): Promise<void>;
  /** Can carry MQTT 5 properties (Correlation Data, Message Expiry). */
  readonly mqtt5: boolean;
}
