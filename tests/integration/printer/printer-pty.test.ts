import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/bus.js';
import { PrinterSim } from '../../../src/drivers/sim/printer-sim.js';
import { createTransport, parseDeviceUri } from '../../../src/drivers/transport/index.js';
import { silentLogger } from '../../helpers/test-log.js';
import { waitFor } from '../../helpers/wait.js';
import { printerOver, sampleJob } from './helpers/rig.js';
import { type PtyPair, startPtyPair } from './helpers/socat.js';
import { ARTIFACTS, zbarRead } from './helpers/zbar.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function ptyRig(uriFor: (path: string) => string) {
  const pty: PtyPair = await startPtyPair();
  cleanups.push(() => pty.stop());
  // The simulated printer sits on one end of the pair, as a serial device would.
  const simEnd = createTransport(parseDeviceUri(`serial://${pty.a}?baud=115200`));
  await simEnd.open();
  cleanups.push(() => simEnd.close());
  const sim = new PrinterSim({ paperWidth: 58, log: silentLogger(), outDir: `${ARTIFACTS}/pty` });
  sim.attach(simEnd);
  const uri = parseDeviceUri(uriFor(pty.b));
  const bus = new EventBus();
  const { printer, link } = printerOver(uri, () => createTransport(uri, { pollMs: 5 }), bus);
  await printer.open();
  cleanups.push(() => printer.close());
  await waitFor(() => (printer.isReady() ? true : undefined), 'printer ready over the pty');
  return { pty, sim, printer, link };
}

describe('printer driver over a real pty pair (socat)', () => {
  it('serial: prints a 58 mm receipt, and the QR reads back from the PNG', async () => {
    const { sim, printer } = await ptyRig((p) => `serial://${p}?baud=115200`);
    const qr = 'https://posd.example.cn/r/58mm?单号=A-0007';
    expect(await printer.print(sampleJob(8, qr, 58))).toEqual({
      result: 'printed',
      confirmedBy: 'transmit-status',
    });
    expect(sim.receipts).toHaveLength(1);
    expect(await zbarRead(sim.receipts[0]!.path!)).toEqual([qr]);
    expect(printer.snapshot()).toMatchObject({ state: 'ready', paper: 'ok', cover: 'closed' });
  });

  it('file (USB printer class style): paper out mid-job is reported as maybe partly printed', async () => {
    const { sim, printer } = await ptyRig((p) => `file://${p}`);
    sim.faultAfterLines(3, 'paper-out');
    expect(await printer.print(sampleJob(10, undefined, 58))).toMatchObject({
      result: 'maybe-partial',
      code: 'PRINTER_PAPER_OUT',
    });
    // The driver told the printer to drop the rest of the job before anyone reloads paper.
    await waitFor(() => (sim.heldCommands === 0 ? true : undefined), 'buffers cleared');
    sim.loadPaper();
    await waitFor(() => (printer.isReady() ? true : undefined), 'ready after reload');
    expect(await printer.print(sampleJob(4, undefined, 58))).toEqual({
      result: 'printed',
      confirmedBy: 'transmit-status',
    });
    expect(sim.receipts).toHaveLength(1);
  });

  it('the pty goes away: the printer is degraded (offline), a job is not started, nothing throws', async () => {
    const { pty, printer, link } = await ptyRig((p) => `serial://${p}?baud=115200`);
    await pty.stop();
    await waitFor(() => (link.health === 'degraded' ? true : undefined), 'link degraded');
    expect(printer.state).toBe('degraded');
    expect(printer.snapshot()).toMatchObject({ state: 'offline', online: false });
    expect(await printer.print(sampleJob(2))).toMatchObject({
      result: 'not-started',
      code: 'PRINTER_OFFLINE',
    });
  });
});
