import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/bus.js';
import { EscPosPrinter, type SupervisedTransport } from '../../../src/drivers/printer/printer.js';
import type { LinkHealth } from '../../../src/drivers/transport/reconnecting-transport.js';
import { parseDeviceUri } from '../../../src/drivers/transport/uri.js';
import { createRootLogger } from '../../../src/log.js';

/** A printer link whose far end only sends line noise (a bad cable, a wrong baud rate). */
class NoisyLink implements SupervisedTransport {
  readonly uri = parseDeviceUri('tcp://127.0.0.1:9100');
  state: 'open' | 'closed' = 'closed';
  health: LinkHealth = 'open';
  private data: Array<(chunk: Buffer) => void> = [];
  async open(): Promise<void> {
    this.state = 'open';
  }
  async write(): Promise<void> {}
  async close(): Promise<void> {
    this.state = 'closed';
  }
  onData(listener: (chunk: Buffer) => void): () => void {
    this.data.push(listener);
    return () => {};
  }
  onClose(): () => void {
    return () => {};
  }
  onHealth(): () => void {
    return () => {};
  }
  noise(bytes: number): void {
    for (let i = 0; i < bytes; i++) for (const l of this.data) l(Buffer.of(0xff));
  }
}

describe('printer line noise in the log', () => {
  it('10,000 junk bytes make one warn line per 10 s, with the count held back; the counter stays exact', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = createRootLogger('warn', {
      write: (line: string) => {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    });
    let clock = 1_000_000;
    const link = new NoisyLink();
    const printer = new EscPosPrinter({
      transport: link,
      bus: new EventBus(),
      log,
      now: () => clock,
      replyTimeoutMs: 20,
      pollMs: 60_000,
    });
    await printer.open();
    const noiseLines = () => lines.filter((l) => l.msg === 'unexpected bytes from the printer');
    link.noise(10_000);
    expect(noiseLines()).toHaveLength(1);
    expect(printer.snapshot().junkBytes).toBe(10_000);
    clock += 10_000;
    link.noise(1);
    expect(noiseLines()).toHaveLength(2);
    expect(noiseLines()[1]).toMatchObject({ suppressed: 9_999, junkBytes: 10_001 });
    await printer.close();
  });
});
