import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './daemon.js';

/**
 * A loopback front for a real broker that speaks MQTT 3.1.1 only the way RabbitMQ 3.10 does: it
 * reads the CONNECT and, when its protocol level is 5, closes the connection (FIN, no CONNACK, no
 * bytes back). A 3.1.1 CONNECT is passed on to the broker behind, and so is all that follows.
 */
export class Mqtt311Front {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** The protocol level of every CONNECT seen, in order. */
  readonly levels: number[] = [];
  port = 0;

  constructor(private readonly brokerPort: number) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = this.port || (await freePort());
    const server = createServer((client) => {
      this.sockets.add(client);
      client.on('error', () => undefined);
      client.on('close', () => this.sockets.delete(client));
      let head = Buffer.alloc(0);
      const onData = (d: Buffer) => {
        head = Buffer.concat([head, d]);
        const level = connectLevel(head);
        if (level === undefined) return;
        client.off('data', onData);
        this.levels.push(level);
        if (level === 5) {
          client.end();
          return;
        }
        const upstream = connect({ host: '127.0.0.1', port: this.brokerPort });
        this.sockets.add(upstream);
        upstream.on('error', () => client.destroy());
        upstream.on('close', () => {
          this.sockets.delete(upstream);
          client.destroy();
        });
        client.on('close', () => upstream.destroy());
        upstream.write(head);
        client.pipe(upstream);
        upstream.pipe(client);
      };
      client.on('data', onData);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The protocol level byte of a CONNECT at the start of `b`, once enough of it has arrived. */
function connectLevel(b: Buffer): number | undefined {
  if (b.length < 2) return undefined;
  // Fixed header: type, then 1..4 bytes of remaining length; then 0x00 0x04 "MQTT" and the level.
  let i = 1;
  while (i < 5 && i < b.length && ((b[i] ?? 0) & 0x80) !== 0) i++;
  const at = i + 1 + 6;
  return b.length > at ? b[at] : undefined;
}
