import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../log.js';
import { type EscPosCommand, EscPosDecoder } from '../printer/escpos-decoder.js';
import { PAPER, type PaperWidth } from '../printer/escpos-encoder.js';
import { Listeners } from '../transport/listeners.js';
import type { Transport } from '../transport/transport.js';
import { pruneReceiptFiles, writeReceiptFile } from './receipt-files.js';
import { type RasterizedReceipt, ReceiptRasterizer } from './receipt-rasterizer.js';

export interface PrinterSimOptions {
  paperWidth: PaperWidth;
  log: Logger;
  /** Where each receipt's PNG is written (`receipt-{time}-{number}.png`, never overwritten); none if absent. */
  outDir?: string;
  /** Receipt images older than this many days are deleted (at start, then hourly); kept forever if absent. */
  keepDays?: number;
  /** Renders receipts off the event loop; the simulator makes (and closes) its own if absent. */
  rasterizer?: ReceiptRasterizer;
  now?: () => Date;
}

/** What happens when the line count given to `faultAfterLines` runs out. */
export type SimFault = 'paper-out' | 'cover-open' | 'disconnect';

export interface SimReceipt extends RasterizedReceipt {
  index: number;
  path?: string;
}

interface Link {
  write(bytes: Uint8Array): void;
  decoder: EscPosDecoder;
}

/**
 * A simulated ESC/POS printer: takes bytes over TCP (like port 9100) or any Transport (one end of
 * a pty pair), answers `DLE EOT`, `GS r` and ASB like a real one, can run out of paper (also in
 * the middle of a job), have its cover opened or go offline, and renders each receipt to a PNG.
 * While stopped it holds what it receives and prints it when the fault clears, as printers do,
 * unless told to clear its buffers (`DLE DC4 8`). After a cut it is busy until the receipt's image
 * is drawn (on the renderer's thread), so a job's completion reply means its image exists.
 */
export class PrinterSim {
  private paper: 'ok' | 'near-end' | 'out' = 'ok';
  private coverOpen = false;
  private offline = false;
  private silent = false;
  private asbMask = 0;
  private linesLeft: number | undefined;
  private pendingFault: SimFault = 'paper-out';
  private answerTransmit = true;
  private disconnectAll = false;
  private held: Array<{ link: Link; cmd: EscPosCommand }> = [];
  /** Commands of the receipt being printed, drawn at the cut. */
  private current: EscPosCommand[] = [];
  private rendering: Promise<void> | undefined;
  private readonly rasterizer: ReceiptRasterizer;
  private readonly ownRasterizer: boolean;
  private pruneTimer: NodeJS.Timeout | undefined;
  private readonly links = new Set<Link>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private readonly receiptListeners = new Listeners<[SimReceipt]>();
  readonly receipts: SimReceipt[] = [];
  /** Every command executed (not held), for tests. */
  readonly executed: EscPosCommand[] = [];
  bytesReceived = 0;

  constructor(private readonly options: PrinterSimOptions) {
    this.ownRasterizer = !options.rasterizer;
    this.rasterizer = options.rasterizer ?? new ReceiptRasterizer({ log: options.log });
    if (options.outDir && options.keepDays !== undefined) {
      this.prune();
      this.pruneTimer = setInterval(() => this.prune(), 3_600_000);
      this.pruneTimer.unref();
    }
  }

  /** Listens like a network printer; resolves with the port. */
  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    const link: Link = {
      write: (b) => {
        if (!socket.destroyed) socket.write(b);
      },
      decoder: new EscPosDecoder(),
    };
    this.links.add(link);
    socket.on('data', (chunk: Buffer) => this.receive(link, chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.links.delete(link);
    });
  }

  /** Sits on an already open transport (e.g. one end of a socat pty pair). */
  attach(transport: Transport): () => void {
    const link: Link = {
      write: (b) => {
        transport.write(b).catch(() => {});
      },
      decoder: new EscPosDecoder(),
    };
    this.links.add(link);
    const off = transport.onData((chunk) => this.receive(link, chunk));
    return () => {
      off();
      this.links.delete(link);
    };
  }

  onReceipt(listener: (receipt: SimReceipt) => void): () => void {
    return this.receiptListeners.add(listener);
  }

  // Faults a person (or a test) can cause.
  paperOut(): void {
    this.paper = 'out';
    this.changed();
  }
  paperNearEnd(): void {
    this.paper = 'near-end';
    this.changed();
  }
  /** After printing `lines` more lines: runs out of paper, has its cover opened, or loses the link. */
  faultAfterLines(lines: number, fault: SimFault = 'paper-out'): void {
    this.linesLeft = lines;
    this.pendingFault = fault;
  }
  /** A printer without `GS r` support ignores it. */
  setAnswersTransmitStatus(answer: boolean): void {
    this.answerTransmit = answer;
  }
  loadPaper(): void {
    this.paper = 'ok';
    this.linesLeft = undefined;
    this.changed();
  }
  openCover(): void {
    this.coverOpen = true;
    this.changed();
  }
  closeCover(): void {
    this.coverOpen = false;
    this.changed();
  }
  setOffline(offline: boolean): void {
    this.offline = offline;
    this.changed();
  }
  /** Stops answering anything (a wedged printer or a dumb network box in front of a dead one). */
  setSilent(silent: boolean): void {
    this.silent = silent;
  }

  /** Drops every TCP connection (cable pulled). */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  get heldCommands(): number {
    return this.held.length;
  }

  async close(): Promise<void> {
    clearInterval(this.pruneTimer);
    this.dropConnections();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
    await this.rendering;
    if (this.ownRasterizer) await this.rasterizer.close();
  }

  /** Resolves once the receipt being drawn (if any) is done. */
  async idle(): Promise<void> {
    while (this.rendering) await this.rendering;
  }

  private get stopped(): boolean {
    return this.paper === 'out' || this.coverOpen || this.offline;
  }

  private receive(link: Link, chunk: Uint8Array): void {
    this.bytesReceived += chunk.length;
    for (const cmd of link.decoder.push(chunk)) {
      if (this.disconnectAll) break;
      // Real-time commands act on receipt, even while the printer is stopped.
      if (cmd.op === 'status-query') this.reply(link, [this.realtime(cmd.n)]);
      else if (cmd.op === 'clear-buffers') this.held = [];
      else if (this.stopped || this.rendering || this.held.length > 0) this.held.push({ link, cmd });
      else this.execute(link, cmd);
    }
    if (this.disconnectAll) {
      this.disconnectAll = false;
      this.current = [];
      this.dropConnections();
    }
  }

  private execute(link: Link, cmd: EscPosCommand): void {
    this.executed.push(cmd);
    switch (cmd.op) {
      case 'asb':
        this.asbMask = cmd.mask;
        if (cmd.mask) this.reply(link, this.asbBytes());
        return;
      case 'transmit-status':
        if (this.answerTransmit)
          this.reply(link, [(this.paper === 'near-end' ? 0x03 : 0) | (this.paper === 'out' ? 0x0c : 0)]);
        return;
      case 'junk':
        this.options.log.warn({ bytes: [...cmd.bytes] }, 'sim printer: unknown bytes');
        return;
    }
    this.current.push(cmd);
    if (cmd.op === 'cut') this.finishReceipt();
    if ((cmd.op === 'lf' || cmd.op === 'feed') && this.linesLeft !== undefined) {
      this.linesLeft -= cmd.op === 'feed' ? Math.max(1, cmd.lines) : 1;
      if (this.linesLeft <= 0) {
        this.linesLeft = undefined;
        if (this.pendingFault === 'paper-out') this.paperOut();
        else if (this.pendingFault === 'cover-open') this.openCover();
        else {
          // Unplugged: what was not yet printed is lost with the printer's power.
          this.held = [];
          this.disconnectAll = true;
        }
      }
    }
  }

  /** After a fault clears: print what was held, in order, until the next fault. */
  private resume(): void {
    while (this.held.length > 0 && !this.stopped && !this.rendering && !this.disconnectAll) {
      const next = this.held.shift()!;
      this.execute(next.link, next.cmd);
    }
  }

  private changed(): void {
    if (this.asbMask) for (const link of this.links) this.reply(link, this.asbBytes());
    if (!this.stopped) this.resume();
  }

  private reply(link: Link, bytes: number[]): void {
    if (!this.silent) link.write(Uint8Array.from(bytes));
  }

  private realtime(n: number): number {
    const stopped = this.stopped;
    switch (n) {
      case 1:
        return 0x12 | (stopped ? 0x08 : 0);
      case 2:
        return 0x12 | (this.coverOpen ? 0x04 : 0) | (this.paper === 'out' ? 0x20 : 0);
      case 3:
        return 0x12;
      default:
        return 0x12 | (this.paper === 'near-end' ? 0x0c : 0) | (this.paper === 'out' ? 0x6c : 0);
    }
  }

  private asbBytes(): number[] {
    const b1 = 0x10 | (this.stopped ? 0x08 : 0) | (this.coverOpen ? 0x20 : 0);
    const b3 = (this.paper === 'near-end' ? 0x03 : 0) | (this.paper === 'out' ? 0x0f : 0);
    return [b1, 0x00, b3, 0x00];
  }

  /** Draws the receipt off the event loop; what arrives meanwhile waits, as on a busy printer. */
  private finishReceipt(): void {
    const commands = this.current;
    this.current = [];
    const index = this.receipts.length + 1;
    this.rendering = this.rasterizer
      .render({ commands }, PAPER[this.options.paperWidth].dots)
      .then((rendered) => this.store(index, rendered))
      .catch((err: unknown) => {
        this.options.log.error({ index, err: String(err) }, 'sim printer: receipt image not made');
      })
      .finally(() => {
        this.rendering = undefined;
        this.resume();
      });
  }

  private async store(index: number, rendered: RasterizedReceipt): Promise<void> {
    const receipt: SimReceipt = { ...rendered, index };
    if (this.options.outDir) {
      receipt.path = await writeReceiptFile(
        this.options.outDir,
        rendered.png,
        rendered.lines,
        this.options.now?.() ?? new Date(),
      );
    }
    this.receipts.push(receipt);
    this.options.log.info(
      { index, lines: rendered.lines.length, path: receipt.path },
      'sim printer: receipt',
    );
    if (rendered.missingGlyphs.length > 0) {
      this.options.log.warn({ index, missing: rendered.missingGlyphs.join('') }, 'sim printer: no glyph for');
    }
    this.receiptListeners.emit(receipt);
  }

  private prune(): void {
    const { outDir, keepDays } = this.options;
    if (!outDir || keepDays === undefined) return;
    pruneReceiptFiles(outDir, keepDays, this.options.now?.())
      .then((removed) => {
        if (removed > 0)
          this.options.log.info({ removed, keepDays }, 'sim printer: old receipt images deleted');
      })
      .catch(() => {});
  }
}
