/** Something that emits a device's messages as `(topic, payload)` events (an MQTT client, a broker bridge). */
export interface MessageSource {
  on(event: string, listener: (topic: string, payload: Buffer) => void): unknown;
  off(event: string, listener: (topic: string, payload: Buffer) => void): unknown;
}

/**
 * The device's answer to request `reqId` on `replyTopic`, as `source` emits it under `event`;
 * undefined when none came within `waitMs`. Listen before publishing the request.
 */
export function awaitAnswer(
  source: MessageSource,
  event: string,
  replyTopic: string,
  reqId: string,
  waitMs: number,
): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      source.off(event, listener);
      resolve(undefined);
    }, waitMs);
    const listener = (topic: string, payload: Buffer) => {
      if (topic !== replyTopic) return;
      const body = JSON.parse(payload.toString()) as Record<string, unknown>;
      if (body.reqId !== reqId) return;
      clearTimeout(timer);
      source.off(event, listener);
      resolve(body);
    };
    source.on(event, listener);
  });
}
