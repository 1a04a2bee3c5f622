import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../src/bus.js';
import { volatileConfirmation } from '../src/drivers/printer/confirmation.js';
import { EscPosEncoder } from '../src/drivers/printer/escpos-encoder.js';
import { Gb18030Codec } from '../src/drivers/printer/gb18030.js';
import { EscPosPrinter } from '../src/drivers/printer/printer.js';
import { PrinterSim } from '../src/drivers/sim/printer-sim.js';
import { createTransport, parseDeviceUri, ReconnectingTransport } from '../src/drivers/transport/index.js';
import { createRootLogger } from '../src/log.js';
import { fmt, nowMs } from './stats.js';

/*
 * Issue 18 item 3: a printer that ignores `GS r`. From opening the driver to ready (the probe
 * included on the first start), and from the first job sent to its confirmation, on the simulated
 * printer over TCP; then the same on a second start that recalls what the probe learnt.
 */

const job = () => {
  const e = new EscPosEncoder({ paperWidth: 58, codec: new Gb18030Codec() });
  e.line('测试商店');
  for (let i = 1; i <= 10; i++) e.row(`商品 ${i}`, `￥${i}.00`);
  return e.feed(2).cut().encode();
};

async function once(memory: ReturnType<typeof volatileConfirmation>, answersGsR: boolean) {
  const log = createRootLogger('silent');
  const sim = new PrinterSim({ paperWidth: 58, log, outDir: mkdtempSync(join(tmpdir(), 'posd-bench-prn-')) });
  sim.setAnswersTransmitStatus(answersGsR);
  const port = await sim.listen();
  const uri = parseDeviceUri(`tcp://127.0.0.1:${port}`);
  const link = new ReconnectingTransport(uri, { create: () => createTransport(uri), log });
  const printer = new EscPosPrinter({ transport: link, bus: new EventBus(), log, memory });
  const t0 = nowMs();
  const ready = new Promise<void>((r) => printer.onReady(() => r()));
  await printer.open();
  await ready;
  const readyMs = nowMs() - t0;
  const t1 = nowMs();
  const outcome = await printer.print(job());
  const jobMs = nowMs() - t1;
  const copies = sim.receipts.length;
  await printer.close();
  await sim.close();
  return { readyMs, jobMs, outcome, copies };
}

export async function benchPrinterConfirm(): Promise<void> {
  console.log('printer-confirm (simulated 58 mm printer over TCP)');
  for (const answers of [false, true]) {
    const memory = volatileConfirmation();
    for (const start of ['first start (probe)', 'next start (recalled)']) {
      const r = await once(memory, answers);
      console.log(
        `  ${answers ? 'answers GS r' : 'ignores GS r'}, ${start}: ready in ${fmt(r.readyMs, 1)} ms, ` +
          `first job ${r.outcome.result}${r.outcome.result === 'printed' ? ` (${r.outcome.confirmedBy})` : ''} ` +
          `in ${fmt(r.jobMs, 1)} ms`,
      );
    }
  }
}
