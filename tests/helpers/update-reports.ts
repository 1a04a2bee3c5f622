import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll } from 'vitest';

/**
 * For one test file: every `update` object each device of tenant t1 reported in `P/up/state`, in
 * order, as an MQTT client watching the broker at `url()` sees them.
 */
export function updateReports(
  url: () => string,
  clientId: string,
): Map<string, Array<Record<string, unknown>>> {
  const reported = new Map<string, Array<Record<string, unknown>>>();
  let monitor: MqttClient | undefined;
  beforeAll(async () => {
    monitor = await mqtt.connectAsync(url(), { clientId, protocolVersion: 5 });
    monitor.on('message', (topic, payload) => {
      const device = topic.split('/')[3]!;
      try {
        const state = JSON.parse(payload.toString()) as { update?: Record<string, unknown> };
        if (state.update) reported.set(device, [...(reported.get(device) ?? []), state.update]);
      } catch {
        // not ours
      }
    });
    await monitor.subscribeAsync('pos/v1/t1/+/up/state', { qos: 1 });
  }, 60_000);
  afterAll(async () => {
    await monitor?.endAsync();
  });
  return reported;
}
