import { afterEach, describe, expect, it } from 'vitest';
import { volatileConfirmation } from '../../../src/drivers/printer/confirmation.js';
import type { PrinterSnapshot } from '../../../src/drivers/printer/printer.js';
import type { PrinterSim } from '../../../src/drivers/sim/printer-sim.js';
import { waitFor } from '../../helpers/wait.js';
import { type Rig, sampleJob, tcpRig } from './helpers/rig.js';
import { zbarRead } from './helpers/zbar.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

function statuses(r: Rig): PrinterSnapshot[] {
  const seen: PrinterSnapshot[] = [];
  r.bus.on('printer.status', (e) => seen.push(e.data));
  return seen;
}

describe('printer driver over a real TCP socket to the simulator', () => {
  it('prints a job, confirmed by GS r, and the QR on the rendered receipt reads back', async () => {
    rig = await tcpRig('tcp-print');
    expect(rig.printer.snapshot()).toMatchObject({
      state: 'ready',
      paper: 'ok',
      cover: 'closed',
      online: true,
    });
    const qr = 'https://posd.example.cn/r/000123?门店=静安';
    const outcome = await rig.printer.print(sampleJob(10, qr));
    expect(outcome).toEqual({ result: 'printed', confirmedBy: 'transmit-status' });
    expect(rig.sim.receipts).toHaveLength(1);
    const receipt = rig.sim.receipts[0]!;
    expect(receipt.lines[1]).toMatch(/^商品 1 +￥1\.00$/);
    expect(await zbarRead(receipt.path!)).toEqual([qr]);
    expect(rig.printer.confirmation).toBe('transmit-status');
  });

  it('paper out before the job: not started; loading paper makes it ready again', async () => {
    rig = await tcpRig('tcp-paper-out');
    const seen = statuses(rig);
    const readyAgain = new Promise<void>((r) => rig!.printer.onReady(() => r()));
    rig.sim.paperOut();
    await waitFor(() => (rig!.printer.snapshot().paper === 'out' ? true : undefined), 'paper out seen');
    expect(rig.printer.snapshot()).toMatchObject({ state: 'error', paper: 'out', reason: 'paper out' });
    const outcome = await rig.printer.print(sampleJob(3));
    expect(outcome).toMatchObject({ result: 'not-started', code: 'PRINTER_PAPER_OUT' });
    expect(rig.sim.receipts).toHaveLength(0);
    rig.sim.loadPaper();
    await readyAgain;
    expect(seen.some((s) => s.paper === 'out' && s.state === 'error')).toBe(true);
    expect(seen.at(-1)).toMatchObject({ state: 'ready', paper: 'ok' });
  });

  it('paper runs out mid-job: maybe partly printed, and the rest does not print after reloading', async () => {
    rig = await tcpRig('tcp-paper-out-mid');
    rig.sim.faultAfterLines(4, 'paper-out');
    const outcome = await rig.printer.print(sampleJob(20));
    expect(outcome).toMatchObject({ result: 'maybe-partial', code: 'PRINTER_PAPER_OUT' });
    // The driver told the printer to drop the rest of the job.
    await waitFor(() => (rig!.sim.heldCommands === 0 ? true : undefined), 'buffers cleared');
    rig.sim.loadPaper();
    await waitFor(() => (rig!.printer.isReady() ? true : undefined), 'ready after reload');
    expect(rig.sim.receipts).toHaveLength(0);
    // The reprint goes through in full.
    expect(await rig.printer.print(sampleJob(20))).toEqual({
      result: 'printed',
      confirmedBy: 'transmit-status',
    });
    expect(rig.sim.receipts).toHaveLength(1);
  });

  it('cover opened mid-job: maybe partly printed; cover open before a job: not started', async () => {
    rig = await tcpRig('tcp-cover');
    rig.sim.faultAfterLines(2, 'cover-open');
    expect(await rig.printer.print(sampleJob(12))).toMatchObject({
      result: 'maybe-partial',
      code: 'PRINTER_COVER_OPEN',
    });
    expect(rig.printer.snapshot()).toMatchObject({ state: 'error', cover: 'open' });
    expect(await rig.printer.print(sampleJob(2))).toMatchObject({
      result: 'not-started',
      code: 'PRINTER_COVER_OPEN',
    });
    rig.sim.closeCover();
    await waitFor(() => (rig!.printer.isReady() ? true : undefined), 'ready after closing the cover');
  });

  it('connection lost mid-job: maybe partly printed; the driver reconnects and prints again', async () => {
    rig = await tcpRig('tcp-disconnect');
    const readyAgain = new Promise<void>((resolve) => {
      let first = true;
      rig!.link.onHealth((h) => {
        if (h === 'degraded' && first) {
          first = false;
          rig!.printer.onReady(() => resolve());
        }
      });
    });
    rig.sim.faultAfterLines(3, 'disconnect');
    const outcome = await rig.printer.print(sampleJob(15));
    expect(outcome).toMatchObject({ result: 'maybe-partial', code: 'DEVICE_DISCONNECTED' });
    await readyAgain;
    expect(await rig.printer.print(sampleJob(2))).toEqual({
      result: 'printed',
      confirmedBy: 'transmit-status',
    });
    expect(rig.sim.receipts).toHaveLength(1);
  });

  it('a printer that stops answering: not started, never hangs, and is reported offline', async () => {
    rig = await tcpRig('tcp-silent', { replyTimeoutMs: 300 });
    rig.sim.setSilent(true);
    const outcome = await rig.printer.print(sampleJob(2));
    expect(outcome).toMatchObject({ result: 'not-started', code: 'PRINTER_OFFLINE' });
    expect(rig.printer.snapshot()).toMatchObject({ state: 'offline', reason: 'no status reply' });
    rig.sim.setSilent(false);
    await waitFor(() => (rig!.printer.isReady() ? true : undefined), 'answers again');
  });

  it('a printer that stops answering GS r after the probe: that job counts as partial, later jobs are confirmed by real-time status', async () => {
    rig = await tcpRig('tcp-no-gs-r', { jobTimeoutMs: 400 });
    rig.sim.setAnswersTransmitStatus(false);
    expect(await rig.printer.print(sampleJob(2))).toMatchObject({
      result: 'maybe-partial',
      code: 'DEVICE_TIMEOUT',
    });
    expect(rig.printer.confirmation).toBe('realtime');
    expect(await rig.printer.print(sampleJob(2))).toEqual({ result: 'printed', confirmedBy: 'realtime' });
  });

  it('a printer that ignores GS r from the start: probed at connect, the first job prints once and is confirmed, and the next start needs no probe', async () => {
    const memory = volatileConfirmation();
    // The default 60 s job timeout: without the probe the first job would wait it out.
    rig = await tcpRig('tcp-probe-no-gs-r', { memory, jobTimeoutMs: 60_000 }, (sim) =>
      sim.setAnswersTransmitStatus(false),
    );
    expect(rig.printer.confirmation).toBe('realtime');
    expect(memory.recall()).toBe('realtime');
    expect(await rig.printer.print(sampleJob(3))).toEqual({ result: 'printed', confirmedBy: 'realtime' });
    // Real-time status answers before the paper is out: the receipt lands just after.
    await waitFor(() => (rig!.sim.receipts.length > 0 ? true : undefined), 'receipt on paper');
    expect(rig.sim.receipts).toHaveLength(1);
    const probes = gsR(rig.sim);
    await rig.close();
    // The next start recalls it: known before connecting, and no GS r is sent.
    rig = await tcpRig('tcp-probe-no-gs-r-2', { memory, jobTimeoutMs: 60_000 }, (sim) =>
      sim.setAnswersTransmitStatus(false),
    );
    expect(probes).toBe(1);
    expect(gsR(rig.sim)).toBe(0);
    expect(await rig.printer.print(sampleJob(3))).toEqual({ result: 'printed', confirmedBy: 'realtime' });
    // Real-time status answers before the paper is out: the receipt lands just after.
    await waitFor(() => (rig!.sim.receipts.length > 0 ? true : undefined), 'receipt on paper');
    expect(rig.sim.receipts).toHaveLength(1);
  });

  it('a printer that answers GS r: probed at connect, and each job still waits for its completion reply', async () => {
    const memory = volatileConfirmation();
    rig = await tcpRig('tcp-probe-gs-r', { memory });
    expect(memory.recall()).toBe('transmit-status');
    expect(rig.printer.snapshot().confirmation).toBe('transmit-status');
    expect(await rig.printer.print(sampleJob(2))).toEqual({
      result: 'printed',
      confirmedBy: 'transmit-status',
    });
    // One GS r for the probe, one after the job.
    expect(gsR(rig.sim)).toBe(2);
  });
});

function gsR(sim: PrinterSim): number {
  return sim.executed.filter((c) => c.op === 'transmit-status').length;
}
