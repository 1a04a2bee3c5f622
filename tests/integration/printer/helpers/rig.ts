import { EventBus } from '../../../../src/bus.js';
import { EscPosEncoder, type PaperWidth } from '../../../../src/drivers/printer/escpos-encoder.js';
import { Gb18030Codec } from '../../../../src/drivers/printer/gb18030.js';
import { EscPosPrinter, type EscPosPrinterOptions } from '../../../../src/drivers/printer/printer.js';
import { PrinterSim } from '../../../../src/drivers/sim/printer-sim.js';
import {
  createTransport,
  parseDeviceUri,
  ReconnectingTransport,
} from '../../../../src/drivers/transport/index.js';
import type { Transport } from '../../../../src/drivers/transport/transport.js';
import type { DeviceUri } from '../../../../src/drivers/transport/uri.js';
import { silentLogger } from '../../../helpers/test-log.js';
import { waitFor } from '../../../helpers/wait.js';
import { ARTIFACTS } from './zbar.js';

export const codec = new Gb18030Codec();

/** A job of `lines` numbered lines with a QR, as the templates would make it. */
export function sampleJob(
  lines: number,
  qr = 'https://posd.example.cn/r/000123',
  paperWidth: PaperWidth = 80,
) {
  const e = new EscPosEncoder({ paperWidth, codec });
  e.align('center').style({ bold: true, width: 2, height: 2 }).line('测试商店').style({}).align('left');
  for (let i = 1; i <= lines; i++) e.row(`商品 ${i}`, `￥${i}.00`);
  e.align('center').qr(qr).align('left').feed(2).cut();
  return e.encode();
}

export interface Rig {
  sim: PrinterSim;
  printer: EscPosPrinter;
  link: ReconnectingTransport;
  bus: EventBus;
  close(): Promise<void>;
}

export function printerOver(
  uri: DeviceUri,
  create: () => Transport,
  bus: EventBus,
  extra: Partial<EscPosPrinterOptions> = {},
): { printer: EscPosPrinter; link: ReconnectingTransport } {
  const log = silentLogger();
  const link = new ReconnectingTransport(uri, { create, log, initialDelayMs: 20, maxDelayMs: 100 });
  const printer = new EscPosPrinter({
    transport: link,
    bus,
    log,
    pollMs: 100,
    jobPollMs: 20,
    replyTimeoutMs: 1_000,
    jobTimeoutMs: 5_000,
    ...extra,
  });
  return { printer, link };
}

/** The simulator on a TCP port and the real driver connected to it. */
export async function tcpRig(
  name: string,
  extra: Partial<EscPosPrinterOptions> = {},
  prepare: (sim: PrinterSim) => void = () => {},
): Promise<Rig> {
  const sim = new PrinterSim({ paperWidth: 80, log: silentLogger(), outDir: `${ARTIFACTS}/${name}` });
  prepare(sim);
  const port = await sim.listen();
  const uri = parseDeviceUri(`tcp://127.0.0.1:${port}`);
  const bus = new EventBus();
  const { printer, link } = printerOver(uri, () => createTransport(uri), bus, extra);
  await printer.open();
  await waitFor(() => (printer.isReady() ? true : undefined), 'printer ready');
  return {
    sim,
    printer,
    link,
    bus,
    close: async () => {
      await printer.close();
      await sim.close();
    },
  };
}
