import { writeFile } from 'node:fs/promises';
import { EventBus } from './bus.js';
import { DEFAULT_BUSINESS } from './config/business.js';
import type { PosdConfig } from './config/schema.js';
import { testPage } from './core/receipt-templates.js';
import type { DeviceSnapshot } from './drivers/device.js';
import { PAPER } from './drivers/printer/escpos-encoder.js';
import { Gb18030Codec } from './drivers/printer/gb18030.js';
import { EscPosPrinter } from './drivers/printer/printer.js';
import { encodeReceipt } from './drivers/printer/receipt-encoder.js';
import { ReceiptRasterizer } from './drivers/sim/receipt-rasterizer.js';
import { ExitCode } from './lifecycle/exit-codes.js';
import { createRootLogger, type Logger } from './log.js';
import { buildPrinter } from './printing/printer-factory.js';
import { templateOptions, testPageData } from './printing/receipt-jobs.js';

const READY_WAIT_MS = 10_000;

export interface PrintTestOptions {
  /** Also write the test page as the paper shows it (PNG), the very bytes sent to the printer. */
  png?: string;
}

/**
 * `posd print-test`: opens the configured printer itself, prints the test page and says what
 * became of it. Exit 0 when the printer confirmed it, 69 when it could not print (with the reason).
 * A network printer takes one connection at a time: stop posd first, or use the local API.
 */
export async function runPrintTest(
  config: PosdConfig,
  out: NodeJS.WritableStream,
  options: PrintTestOptions = {},
): Promise<number> {
  const log = createRootLogger('warn', process.stderr);
  const rasterizer = new ReceiptRasterizer({ log });
  try {
    return await printTestPage(config, out, options, rasterizer, log);
  } finally {
    await rasterizer.close();
  }
}

async function printTestPage(
  config: PosdConfig,
  out: NodeJS.WritableStream,
  options: PrintTestOptions,
  rasterizer: ReceiptRasterizer,
  log: Logger,
): Promise<number> {
  const built = buildPrinter({
    uri: config.printer.uri,
    paperWidth: config.printer.paperWidth,
    stateDir: config.stateDir,
    bus: new EventBus(),
    log,
    rasterizer,
    keepDays: config.ledger.retentionDays,
  });
  if (!built) {
    if (options.png) await writePng(config, { state: 'disabled' }, options.png, rasterizer, out);
    out.write('print-test: printer.uri is none: no printer configured\n');
    return ExitCode.UNAVAILABLE;
  }
  try {
    await built.open();
    const printer = built.device;
    if (!(printer instanceof EscPosPrinter)) {
      out.write(`print-test: ${JSON.stringify(printer.snapshot())}\n`);
      return ExitCode.UNAVAILABLE;
    }
    const ready = await waitReady(printer, READY_WAIT_MS);
    const snap = printer.snapshot();
    if (!ready) {
      if (options.png) await writePng(config, snap, options.png, rasterizer, out);
      out.write(`print-test: printer ${config.printer.uri} not ready: ${snap.reason ?? snap.state}\n`);
      return ExitCode.UNAVAILABLE;
    }
    const bytes = testPageBytes(config, snap);
    if (options.png) await writePng(config, snap, options.png, rasterizer, out, bytes);
    const outcome = await printer.print(bytes);
    if (outcome.result === 'printed') {
      const where = built.sim?.receipts.at(-1)?.path;
      out.write(`print-test: printed on ${config.printer.uri}${where ? ` (${where})` : ''}\n`);
      return ExitCode.OK;
    }
    out.write(`print-test: not printed (${outcome.result}): ${outcome.reason}\n`);
    return ExitCode.UNAVAILABLE;
  } finally {
    await built.close();
  }
}

function testPageBytes(config: PosdConfig, snap: DeviceSnapshot): Uint8Array {
  const doc = testPage(testPageData(config, snap), templateOptions(DEFAULT_BUSINESS, false));
  return encodeReceipt(doc, { paperWidth: config.printer.paperWidth, codec: new Gb18030Codec() });
}

/** The test page as the paper shows it (or would, for a printer that is not there). */
async function writePng(
  config: PosdConfig,
  snap: DeviceSnapshot,
  file: string,
  rasterizer: ReceiptRasterizer,
  out: NodeJS.WritableStream,
  bytes = testPageBytes(config, snap),
): Promise<void> {
  const image = await rasterizer.render({ bytes }, PAPER[config.printer.paperWidth].dots);
  await writeFile(file, image.png);
  out.write(`print-test: test page image written to ${file}\n`);
}

function waitReady(printer: EscPosPrinter, ms: number): Promise<boolean> {
  if (printer.isReady()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      off();
      resolve(false);
    }, ms);
    const off = printer.onReady(() => {
      clearTimeout(timer);
      off();
      resolve(true);
    });
  });
}
