import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BundleServerOptions {
  /** Per request (by its index): send this many bytes of the answer, then cut the connection. */
  dropAfter?: (request: number) => number | undefined;
  /** Per request: send this many bytes, then hold the connection open until `release()`. */
  holdAfter?: (request: number) => number | undefined;
  /** Answer 200 with the whole body whatever Range asks. */
  ignoreRange?: boolean;
  /** No Content-Length (chunked): the size is known only by counting. */
  chunked?: boolean;
}

/** A bundle served over HTTP with Range support; it can drop or hold connections mid-way. */
export class BundleServer {
  readonly requests: Array<{ range: string | undefined }> = [];
  private server: Server | undefined;
  private held: Array<() => void> = [];
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(
    readonly body: Buffer,
    private readonly options: BundleServerOptions = {},
  ) {}

  static random(size: number, options?: BundleServerOptions): BundleServer {
    return new BundleServer(randomBytes(size), options);
  }

  get sha256(): string {
    return createHash('sha256').update(this.body).digest('hex');
  }

  get url(): string {
    const port = (this.server!.address() as AddressInfo).port;
    return `http://127.0.0.1:${port}/bundle.raucb`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.answer(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  /** Lets held answers go on. */
  release(): void {
    const held = this.held;
    this.held = [];
    for (const go of held) go();
  }

  async stop(): Promise<void> {
    this.release();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    if (req.url !== '/bundle.raucb') {
      res.writeHead(404).end();
      return;
    }
    const index = this.requests.length;
    this.requests.push({ range: req.headers.range });
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let from = 0;
    if (m && !this.options.ignoreRange) {
      from = Number(m[1]);
      if (from >= this.body.length) {
        res.writeHead(416, { 'content-range': `bytes */${this.body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-range': `bytes ${from}-${this.body.length - 1}/${this.body.length}`,
        ...(this.options.chunked ? {} : { 'content-length': String(this.body.length - from) }),
      });
    } else {
      res.writeHead(200, this.options.chunked ? {} : { 'content-length': String(this.body.length) });
    }
    const rest = this.body.subarray(from);
    const drop = this.options.dropAfter?.(index);
    const hold = this.options.holdAfter?.(index);
    if (drop !== undefined) {
      res.write(rest.subarray(0, drop), () => res.socket?.end());
      return;
    }
    if (hold !== undefined) {
      res.write(rest.subarray(0, hold));
      this.held.push(() => res.end(rest.subarray(hold)));
      return;
    }
    res.end(rest);
  }
}
