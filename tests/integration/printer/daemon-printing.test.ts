import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PrinterSim, type SimReceipt } from '../../../src/drivers/sim/printer-sim.js';
import { apiClient } from '../../helpers/api.js';
import {
  type DaemonProcess,
  spawnPosd,
  type TestConfig,
  waitHealthy,
  writeTestConfig,
} from '../../helpers/daemon.js';
import { silentLogger } from '../../helpers/test-log.js';
import { waitFor } from '../../helpers/wait.js';
import { ARTIFACTS, zbarRead } from './helpers/zbar.js';

/*
 * The daemon as a child process, its printer a simulated ESC/POS printer on a real TCP socket
 * (like port 9100): receipts print by themselves from the committed sale, wait out paper-out,
 * and are printed again marked 重打印 when part of one may be on paper, including after SIGKILL.
 */

const REPRINT = '** 重打印 **';
const X_TITLE = 'X 报表（交班）';
let sim: PrinterSim;
let simPort: number;
let daemon: DaemonProcess | undefined;
let terminals = 0;

beforeAll(async () => {
  sim = new PrinterSim({ paperWidth: 80, log: silentLogger(), outDir: `${ARTIFACTS}/daemon` });
  simPort = await sim.listen();
});
afterAll(async () => {
  await sim.close();
});
afterEach(async () => {
  if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  }
  daemon = undefined;
  sim.loadPaper();
  sim.closeCover();
  sim.setAnswersTransmitStatus(true);
});

async function start(cfg?: TestConfig) {
  const config =
    cfg ??
    (await writeTestConfig({
      // A device of its own per test: receipt numbers are per device and the printer is shared.
      device: { tenant: 't1', id: `P${++terminals}` },
      printer: { uri: `tcp://127.0.0.1:${simPort}`, paperWidth: 80 },
    }));
  daemon = spawnPosd(['run', '--config', config.file]);
  await waitHealthy(config.port);
  const api = apiClient(config.port, config.stateDir);
  await waitFor(async () => {
    const d = await api.call<{ printer: { state: string } }>('GET', '/api/v1/devices');
    return d.body.printer.state === 'ready' ? true : undefined;
  }, 'printer ready');
  return { api, config };
}

type Api = Awaited<ReturnType<typeof start>>['api'];

async function cashSale(api: Api, name = '矿泉水'): Promise<{ saleId: string; receiptNo: string }> {
  const r = await api.call<{ saleId: string; receiptNo: string; status: string }>('POST', '/api/v1/sales', {
    lines: [
      { name, qty: 2, unitPrice: 250 },
      { name: '牛奶', qty: 1, unitPrice: 680 },
    ],
    tenders: [{ method: 'cash', amount: 2000 }],
  });
  expect(r.status).toBe(201);
  return r.body;
}

const withNo = (receiptNo: string) => sim.receipts.filter((r) => r.lines.some((l) => l.includes(receiptNo)));
const marked = (r: SimReceipt) => r.lines.includes(REPRINT);

async function printJobs(api: Api) {
  return (
    await api.call<{ jobs: Array<{ kind: string; refId: string; status: string; reprint: boolean }> }>(
      'GET',
      '/api/v1/print-jobs',
    )
  ).body.jobs;
}

describe('receipts from the daemon to a network printer', () => {
  it('a cash sale prints its receipt by itself, once: receipt number, change, drawer kick, cut', async () => {
    const { api } = await start();
    const before = sim.receipts.length;
    const sale = await cashSale(api);
    await waitFor(() => (withNo(sale.receiptNo).length > 0 ? true : undefined), 'receipt printed');
    const [receipt] = withNo(sale.receiptNo);
    expect(receipt!.drawerKicks).toBe(1);
    expect(receipt!.cut).toBe(true);
    expect(marked(receipt!)).toBe(false);
    expect(receipt!.lines.join('\n')).toContain('矿泉水');
    expect(receipt!.lines.join('\n')).toContain('11.80'); // total 2×2.50 + 6.80
    expect(receipt!.lines.join('\n')).toContain('8.20'); // change from 20.00
    await waitFor(async () => {
      const jobs = await printJobs(api);
      return jobs.find((j) => j.refId === sale.saleId)?.status === 'printed' ? true : undefined;
    }, 'job printed');
    await new Promise((r) => setTimeout(r, 300));
    expect(sim.receipts.length - before).toBe(1);
  });

  it('the reprint route prints it again marked as a reprint, without opening the drawer', async () => {
    const { api } = await start();
    const sale = await cashSale(api);
    await waitFor(() => (withNo(sale.receiptNo).length === 1 ? true : undefined), 'first receipt');
    const r = await api.call<{ jobId: string }>('POST', `/api/v1/sales/${sale.saleId}/reprint`);
    expect(r.status).toBe(202);
    await waitFor(() => (withNo(sale.receiptNo).length === 2 ? true : undefined), 'reprint');
    const reprint = withNo(sale.receiptNo)[1]!;
    expect(reprint.lines.filter((l) => l === REPRINT)).toHaveLength(2);
    expect(reprint.drawerKicks).toBe(0);
    const missing = await api.call<{ error: { code: string } }>('POST', '/api/v1/sales/nope/reprint');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('SALE_NOT_FOUND');
  });

  it('paper out before the sale: the receipt waits, devices say so, and prints once when paper is loaded', async () => {
    const { api } = await start();
    sim.paperOut();
    await waitFor(async () => {
      const d = await api.call<{ printer: { state: string; paper: string } }>('GET', '/api/v1/devices');
      return d.body.printer.paper === 'out' && d.body.printer.state === 'error' ? true : undefined;
    }, 'paper out reported');
    const health = await api.call<{ status: string }>('GET', '/healthz');
    expect(health.body.status).toBe('degraded');
    const sale = await cashSale(api, '面包');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(withNo(sale.receiptNo)).toHaveLength(0);
    expect((await printJobs(api)).find((j) => j.refId === sale.saleId)?.status).toBe('queued');
    sim.loadPaper();
    await waitFor(
      () => (withNo(sale.receiptNo).length > 0 ? true : undefined),
      'printed after paper',
      15_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    const copies = withNo(sale.receiptNo);
    expect(copies).toHaveLength(1);
    expect(marked(copies[0]!)).toBe(false);
  });

  it('paper runs out in the middle of a receipt: it is printed again, marked as a reprint', async () => {
    const { api } = await start();
    sim.faultAfterLines(4, 'paper-out');
    const sale = await cashSale(api, '酸奶');
    await waitFor(async () => {
      const jobs = await printJobs(api);
      const job = jobs.find((j) => j.refId === sale.saleId);
      return job?.status === 'queued' && job.reprint ? true : undefined;
    }, 'job waits as a reprint');
    sim.loadPaper();
    await waitFor(
      () => (withNo(sale.receiptNo).some(marked) ? true : undefined),
      'reprint after paper-out',
      15_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    // Whatever reached the paper before the fault, the only full copy after it is the marked one.
    const copies = withNo(sale.receiptNo);
    expect(copies.filter((c) => !marked(c) && c.cut && c.lines.some((l) => l.includes('8.20')))).toHaveLength(
      0,
    );
    expect(copies.filter(marked)).toHaveLength(1);
  });

  it('cover opened during a job: printed again as a reprint once it is closed', async () => {
    const { api } = await start();
    sim.faultAfterLines(3, 'cover-open');
    const sale = await cashSale(api, '咖啡');
    await waitFor(async () => {
      const d = await api.call<{ printer: { cover: string } }>('GET', '/api/v1/devices');
      return d.body.printer.cover === 'open' ? true : undefined;
    }, 'cover open reported');
    sim.closeCover();
    sim.loadPaper();
    await waitFor(
      () => (withNo(sale.receiptNo).some(marked) ? true : undefined),
      'reprint after cover',
      15_000,
    );
    expect(withNo(sale.receiptNo).filter(marked)).toHaveLength(1);
  });

  it('the link drops in the middle of a receipt: after reconnecting it is printed again, marked', async () => {
    const { api } = await start();
    sim.faultAfterLines(5, 'disconnect');
    const sale = await cashSale(api, '果汁');
    await waitFor(
      () => (withNo(sale.receiptNo).some(marked) ? true : undefined),
      'reprint after reconnect',
      20_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(withNo(sale.receiptNo).filter(marked)).toHaveLength(1);
    const jobs = (await printJobs(api)).filter((j) => j.refId === sale.saleId);
    expect(jobs).toEqual([expect.objectContaining({ status: 'printed', reprint: true })]);
  });

  it('a printer that ignores GS r: the first receipt after start prints once, unmarked, confirmed by real-time status; the next start recalls it', async () => {
    sim.setAnswersTransmitStatus(false);
    const first = await start();
    const confirmation = async (api: Api) =>
      (await api.call<{ printer: { confirmation?: string } }>('GET', '/api/v1/devices')).body.printer
        .confirmation;
    expect(await confirmation(first.api)).toBe('realtime');
    const sale = await cashSale(first.api, '面包');
    await waitFor(async () => {
      const jobs = await printJobs(first.api);
      return jobs.find((j) => j.refId === sale.saleId)?.status === 'printed' ? true : undefined;
    }, 'job printed');
    await waitFor(() => (withNo(sale.receiptNo).length > 0 ? true : undefined), 'receipt on paper');
    const jobs = (await printJobs(first.api)).filter((j) => j.refId === sale.saleId);
    expect(jobs).toEqual([expect.objectContaining({ status: 'printed', reprint: false })]);
    expect(withNo(sale.receiptNo)).toHaveLength(1);
    expect(withNo(sale.receiptNo).filter(marked)).toHaveLength(0);
    // Restarted: known from the state directory before any job.
    daemon!.child.kill('SIGTERM');
    await daemon!.exited;
    const again = await start(first.config);
    expect(await confirmation(again.api)).toBe('realtime');
  });

  it('SIGKILL while a receipt is printing: after the restart it prints again marked as a reprint', async () => {
    const first = await start();
    // The printer takes the job but never confirms it, so the daemon is killed mid-job.
    sim.setAnswersTransmitStatus(false);
    const sale = await cashSale(first.api, '蛋糕');
    await waitFor(async () => {
      const jobs = await printJobs(first.api);
      return jobs.find((j) => j.refId === sale.saleId)?.status === 'printing' ? true : undefined;
    }, 'job printing');
    daemon!.child.kill('SIGKILL');
    await daemon!.exited;
    sim.setAnswersTransmitStatus(true);
    const again = await start(first.config);
    await waitFor(
      () => (withNo(sale.receiptNo).some(marked) ? true : undefined),
      'reprint after restart',
      15_000,
    );
    // On paper; its mark `printed` rides in the next transaction, within 20 ms (decision 0005).
    const jobs = await waitFor(async () => {
      const mine = (await printJobs(again.api)).filter((j) => j.refId === sale.saleId);
      return mine.some((j) => j.status === 'printing') ? undefined : mine;
    }, 'reprint marked printed');
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ status: 'printed', reprint: true });
    expect(withNo(sale.receiptNo).filter(marked)).toHaveLength(1);
    // The sale itself is in the ledger once.
    const ledger = await again.api.call<{ records: Array<{ type: string; body: { saleId?: string } }> }>(
      'GET',
      '/api/v1/ledger?afterSeq=0&limit=1000',
    );
    expect(
      ledger.body.records.filter((r) => r.type === 'sale.completed' && r.body.saleId === sale.saleId),
    ).toHaveLength(1);
  });

  it('X report and test page on paper; the test page QR reads back from the printed image', async () => {
    const { api } = await start();
    const sale = await cashSale(api);
    await waitFor(() => (withNo(sale.receiptNo).length > 0 ? true : undefined), 'receipt printed');
    const before = sim.receipts.length;
    const x = await api.call<{ jobId: string }>('POST', '/api/v1/shifts/current/print');
    expect(x.status).toBe(202);
    await waitFor(() => (sim.receipts.length > before ? true : undefined), 'x report printed');
    const report = sim.receipts[before]!.lines.join('\n');
    expect(report).toContain(X_TITLE);
    expect(report).toContain('11.80');
    const t = await api.call<{ jobId: string }>('POST', '/api/v1/devices/printer/test-page');
    expect(t.status).toBe(202);
    await waitFor(() => (sim.receipts.at(-1)!.qr.length > 0 ? true : undefined), 'test page printed');
    const page = sim.receipts.at(-1)!;
    expect(page.qr).toEqual([`posd:t1/P${terminals}`]);
    expect(await zbarRead(page.path!)).toEqual([`posd:t1/P${terminals}`]);
  });
});

describe('receipts off (printer.autoPrint false)', () => {
  it('a cash sale prints no receipt but opens the drawer; a code sale opens nothing', async () => {
    const cfg = await writeTestConfig({
      device: { tenant: 't1', id: `P${++terminals}` },
      printer: { uri: `tcp://127.0.0.1:${simPort}`, paperWidth: 80, autoPrint: false },
    });
    const { api } = await start(cfg);
    const before = sim.receipts.length;
    const kicks = () => sim.executed.filter((c) => c.op === 'drawer').length;
    const kicksBefore = kicks();
    const sale = await cashSale(api, '口香糖');
    await waitFor(async () => {
      const jobs = await printJobs(api);
      return jobs.find((j) => j.refId === sale.saleId && j.kind === 'drawer')?.status === 'printed'
        ? true
        : undefined;
    }, 'drawer job done');
    expect(kicks()).toBe(kicksBefore + 1);
    expect(withNo(sale.receiptNo)).toHaveLength(0);
    // The receipt can still be printed on request.
    await api.call('POST', `/api/v1/sales/${sale.saleId}/reprint`);
    await waitFor(() => (withNo(sale.receiptNo).length === 1 ? true : undefined), 'receipt on request');
    expect(sim.receipts.length).toBe(before + 1);
  });
});

describe('posd doctor beside the running daemon', () => {
  it('reports the printer as the daemon sees it: paper out fails the check, paper back passes', async () => {
    const { config } = await start();
    const doctor = async () => {
      const d = spawnPosd(['doctor', '--config', config.file]);
      const { code } = await d.exited;
      return {
        code,
        line:
          d
            .stdout()
            .split('\n')
            .find((l) => / printer /.test(l)) ?? '',
      };
    };
    const ready = await doctor();
    expect(ready.line).toMatch(
      /^ok\s+printer\s+tcp:\/\/.*: ready \(running daemon\); paper ok, cover closed/,
    );
    sim.paperOut();
    await waitFor(
      async () => ((await doctor()).line.startsWith('FAIL') ? true : undefined),
      'doctor sees paper out',
    );
    const out = await doctor();
    expect(out.code).not.toBe(0);
    expect(out.line).toMatch(/error \(running daemon\); paper out/);
    sim.loadPaper();
  }, 60_000);
});

describe('posd print-test', () => {
  it('prints the test page on the configured printer and exits 0; says why and exits 69 when it cannot', async () => {
    const cfg = await writeTestConfig({ printer: { uri: `tcp://127.0.0.1:${simPort}`, paperWidth: 80 } });
    const before = sim.receipts.length;
    const ok = spawnPosd(['print-test', '--config', cfg.file]);
    expect((await ok.exited).code).toBe(0);
    expect(ok.stdout()).toContain('print-test: printed');
    expect(sim.receipts.length).toBe(before + 1);
    expect(sim.receipts.at(-1)!.qr).toEqual(['posd:t1/D1']);

    sim.paperOut();
    const out = spawnPosd(['print-test', '--config', cfg.file]);
    expect((await out.exited).code).toBe(69);
    expect(out.stdout()).toContain('paper out');
    sim.loadPaper();

    const none = await writeTestConfig({ printer: { uri: 'none' } });
    const disabled = spawnPosd(['print-test', '--config', none.file]);
    expect((await disabled.exited).code).toBe(69);
    expect(disabled.stdout()).toContain('no printer configured');
  }, 30_000);
});
