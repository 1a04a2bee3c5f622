import type { PosdConfig } from './config/schema.js';

/** Placeholder until the printer driver lands: says so instead of pretending to print. */
export async function runPrintTest(config: PosdConfig, out: NodeJS.WritableStream): Promise<number> {
  out.write(`print-test: printer ${config.printer.uri}: no printer driver in this build yet\n`);
  return 69;
}
