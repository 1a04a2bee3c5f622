import { join } from 'node:path';
import type { EventBus } from '../bus.js';
import { fileConfirmation } from '../drivers/printer/confirmation.js';
import type { PaperWidth } from '../drivers/printer/escpos-encoder.js';
import { EscPosPrinter } from '../drivers/printer/printer.js';
import { PrinterSim } from '../drivers/sim/printer-sim.js';
import type { ReceiptRasterizer } from '../drivers/sim/receipt-rasterizer.js';
import { createTransport, parseDeviceUri, ReconnectingTransport } from '../drivers/transport/index.js';
import type { DeviceUri } from '../drivers/transport/uri.js';
import { UnusableDevice } from '../drivers/unusable-device.js';
import { describeError, isPosError, PosError } from '../errors.js';
import type { Logger } from '../log.js';

export interface BuiltPrinter {
  /** The driver, or an UnusableDevice when the address cannot be used (reported, never fatal). */
  device: EscPosPrinter | UnusableDevice;
  /** The simulated printer behind a `sim:` address (renders PNGs under `{stateDir}/receipts`). */
  sim?: PrinterSim;
  /** Starts the simulator (if any), then opens the driver; an absent printer stays offline. */
  open(): Promise<void>;
  close(): Promise<void>;
}

export interface PrinterFactoryOptions {
  uri: string;
  paperWidth: PaperWidth;
  stateDir: string;
  bus: EventBus;
  log: Logger;
  /** Draws the simulator's receipt images (off the event loop). */
  rasterizer?: ReceiptRasterizer;
  /** Days the simulator keeps its receipt images (`ledger.retentionDays`). */
  keepDays?: number;
}

/** The printer of `printer.uri`: tcp, serial or file (USB lp) through a reconnecting link, or `sim:`. */
export function buildPrinter(o: PrinterFactoryOptions): BuiltPrinter | undefined {
  let uri: DeviceUri;
  try {
    uri = parseDeviceUri(o.uri);
    if (uri.kind === 'hid') throw new PosError('DEVICE_URI_INVALID', 'a printer is not a HID device');
  } catch (err) {
    const e = isPosError(err) ? err : new PosError('DEVICE_URI_INVALID', describeError(err), { uri: o.uri });
    o.log.error({ uri: o.uri, err: e.message }, 'printer address unusable');
    const device = new UnusableDevice('printer', o.uri, e);
    return { device, open: () => device.open(), close: () => device.close() };
  }
  if (uri.kind === 'none') return undefined;

  let sim: PrinterSim | undefined;
  let target: DeviceUri = uri;
  if (uri.kind === 'sim') {
    sim = new PrinterSim({
      paperWidth: o.paperWidth,
      log: o.log,
      outDir: join(o.stateDir, 'receipts'),
      ...(o.rasterizer ? { rasterizer: o.rasterizer } : {}),
      ...(o.keepDays !== undefined ? { keepDays: o.keepDays } : {}),
    });
  }
  const link = new ReconnectingTransport(uri, { create: () => createTransport(target), log: o.log });
  // How this printer confirms jobs, learnt once and kept by its address: no probe on the next start.
  const memory = fileConfirmation(join(o.stateDir, 'printer-confirmation.json'), o.uri, o.log);
  const device = new EscPosPrinter({ transport: link, bus: o.bus, log: o.log, memory });
  return {
    device,
    ...(sim ? { sim } : {}),
    open: async () => {
      if (sim) {
        const port = await sim.listen(0, '127.0.0.1');
        target = parseDeviceUri(`tcp://127.0.0.1:${port}`);
      }
      await device.open();
    },
    close: async () => {
      await device.close();
      await sim?.close();
    },
  };
}
