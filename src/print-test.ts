import { EventBus } from './bus.js';
import { DEFAULT_BUSINESS } from './config/business.js';
import type { PosdConfig } from './config/schema.js';
import { testPage } from './core/receipt-templates.js';
import { Gb18030Codec } from './drivers/printer/gb18030.js';
import { EscPosPrinter } from './drivers/printer/printer.js';
import { encodeReceipt } from './drivers/printer/receipt-encoder.js';
import { ExitCode } from './lifecycle/exit-codes.js';
import { createRootLogger } from './log.js';
import { buildPrinter } from './printing/printer-factory.js';
import { templateOptions, testPageData } from './printing/receipt-jobs.js';

const READY_WAIT_MS = 10_000;

/**
 * `posd print-test`: opens the configured printer itself, prints the test page and says what
 * became of it. Exit 0 when the printer confirmed it, 69 when it could not print (with the reason).
 * A network printer takes one connection at a time: stop posd first, or use the local API.
 */
export async function runPrintTest(config: PosdConfig, out: NodeJS.WritableStream): Promise<number> {
  const log = createRootLogger('warn', process.stderr);
  const built = buildPrinter({
    uri: config.printer.uri,
    paperWidth: config.printer.paperWidth,
    stateDir: config.stateDir,
    bus: new EventBus(),
    log,
  });
  if (!built) {
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
      out.write(`print-test: printer ${config.printer.uri} not ready: ${snap.reason ?? snap.state}\n`);
      return ExitCode.UNAVAILABLE;
    }
    const doc = testPage(testPageData(config, snap), templateOptions(DEFAULT_BUSINESS, false));
    const bytes = encodeReceipt(doc, { paperWidth: config.printer.paperWidth, codec: new Gb18030Codec() });
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
