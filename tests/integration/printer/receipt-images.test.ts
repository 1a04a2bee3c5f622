import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterEach, describe, expect, it } from 'vitest';
import { apiClient } from '../../helpers/api.js';
import {
  type DaemonProcess,
  MAIN_JS,
  spawnPosd,
  type TestConfig,
  waitHealthy,
  writeTestConfig,
} from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/wait.js';
import { saveArtifact, zbarRead } from './helpers/zbar.js';

/*
 * Issue 16: receipt images. The daemon (built, so rendering runs on its worker thread) with the
 * simulated printer: each receipt's image is kept under a name of its own across restarts and
 * `posd print-test`; any print job can be seen as an image through the local API, whatever the
 * printer, including one that never printed it.
 */

let daemon: DaemonProcess | undefined;
/** Waits on a loaded machine: the first receipt of a process loads the font on its thread. */
const SLOW = 30_000;

afterEach(async () => {
  if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  }
  daemon = undefined;
});

async function start(config: TestConfig) {
  daemon = spawnPosd(['run', '--config', config.file]);
  await waitHealthy(config.port);
  return apiClient(config.port, config.stateDir);
}

type Api = Awaited<ReturnType<typeof start>>;

async function stop(): Promise<void> {
  daemon?.child.kill('SIGTERM');
  await daemon?.exited;
  daemon = undefined;
}

async function cashSale(api: Api): Promise<{ saleId: string; receiptNo: string }> {
  const r = await api.call<{ saleId: string; receiptNo: string }>('POST', '/api/v1/sales', {
    lines: [{ name: '拿铁咖啡', qty: 1, unitPrice: 2800 }],
    tenders: [{ method: 'cash', amount: 3000 }],
  });
  expect(r.status).toBe(201);
  return r.body;
}

interface Job {
  id: string;
  kind: string;
  refId: string | null;
  status: string;
  reprint: boolean;
}

async function jobsOf(api: Api, refId: string): Promise<Job[]> {
  const r = await api.call<{ jobs: Job[] }>('GET', '/api/v1/print-jobs?limit=500');
  return r.body.jobs.filter((j) => j.refId === refId);
}

async function printedJob(api: Api, refId: string, reprint = false): Promise<Job> {
  return waitFor(
    async () => {
      const job = (await jobsOf(api, refId)).find((j) => j.reprint === reprint);
      return job?.status === 'printed' ? job : undefined;
    },
    `print job of ${refId} printed`,
    SLOW,
  );
}

async function image(
  api: Api,
  jobId: string,
  token = api.token,
): Promise<{ status: number; body: Buffer; type: string }> {
  const res = await fetch(`${api.base}/api/v1/print-jobs/${jobId}/image`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return {
    status: res.status,
    body: Buffer.from(await res.arrayBuffer()),
    type: res.headers.get('content-type') ?? '',
  };
}

const receiptFiles = (stateDir: string) =>
  readdirSync(join(stateDir, 'receipts'))
    .filter((n) => n.endsWith('.png'))
    .sort();

function printTest(configFile: string, png?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [MAIN_JS, 'print-test', '--config', configFile, ...(png ? ['--png', png] : [])],
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
  });
}

describe('receipt images of the simulated printer', () => {
  it('are named by receipt number and never overwritten: not by a restart, not by posd print-test', async () => {
    const config = await writeTestConfig({ printer: { uri: 'sim:' } });
    let api = await start(config);
    const first = await cashSale(api);
    await printedJob(api, first.saleId);
    await waitFor(() => (receiptFiles(config.stateDir).length === 1 ? true : undefined), 'first image', SLOW);
    const [firstName] = receiptFiles(config.stateDir);
    expect(firstName).toMatch(new RegExp(`^receipt-\\d{8}-\\d{6}-\\d{3}-${first.receiptNo}\\.png$`));
    const firstPath = join(config.stateDir, 'receipts', firstName!);
    const firstBytes = readFileSync(firstPath);
    const firstMtime = statSync(firstPath).mtimeMs;
    await stop();

    // print-test on the same state directory used to write receipt-0001.png over the first sale.
    const out = await printTest(config.file);
    expect(out).toContain('printed on sim:');
    expect(receiptFiles(config.stateDir)).toHaveLength(2);

    api = await start(config);
    const second = await cashSale(api);
    await printedJob(api, second.saleId);
    await waitFor(() => (receiptFiles(config.stateDir).length === 3 ? true : undefined), 'third image', SLOW);
    const names = receiptFiles(config.stateDir);
    expect(new Set(names).size).toBe(3);
    expect(names.some((n) => n.endsWith(`-${second.receiptNo}.png`))).toBe(true);
    expect(readFileSync(firstPath).equals(firstBytes)).toBe(true);
    expect(statSync(firstPath).mtimeMs).toBe(firstMtime);
  }, 180_000);

  it('GET /api/v1/print-jobs/{jobId}/image: the very image the printer drew; reprints; the test page QR reads back', async () => {
    const config = await writeTestConfig({ printer: { uri: 'sim:' } });
    const api = await start(config);
    const sale = await cashSale(api);
    const job = await printedJob(api, sale.saleId);
    await waitFor(
      () => (receiptFiles(config.stateDir).length === 1 ? true : undefined),
      'receipt image',
      SLOW,
    );
    const onPaper = readFileSync(join(config.stateDir, 'receipts', receiptFiles(config.stateDir)[0]!));

    const img = await image(api, job.id);
    expect(img.status).toBe(200);
    expect(img.type).toBe('image/png');
    expect(img.body.equals(onPaper)).toBe(true); // same bytes, same renderer
    const png = PNG.sync.read(img.body);
    expect(png.width).toBe(576);

    const reprint = await api.call<{ jobId: string }>('POST', `/api/v1/sales/${sale.saleId}/reprint`);
    expect(reprint.status).toBe(202);
    const again = await image(api, reprint.body.jobId);
    expect(again.status).toBe(200);
    // The 重打印 mark at the top and the bottom makes it longer than the original.
    expect(PNG.sync.read(again.body).height).toBeGreaterThan(png.height);

    const page = await api.call<{ jobId: string }>('POST', '/api/v1/devices/printer/test-page');
    const pageImg = await image(api, page.body.jobId);
    expect(await zbarRead(saveArtifact('api-test-page.png', pageImg.body))).toEqual(['posd:t1/D1']);

    expect((await image(api, 'no-such-job')).status).toBe(404);
    expect((await image(api, job.id, '')).status).toBe(401);
    const spec = await api.call<{
      paths: Record<string, { get?: { responses: Record<string, { content?: object }> } }>;
    }>('GET', '/api/v1/openapi.json');
    expect(
      spec.body.paths['/api/v1/print-jobs/{jobId}/image']?.get?.responses['200']?.content,
    ).toHaveProperty('image/png');
  });

  it('a job for a printer that is not there is shown as it would print', async () => {
    // A network printer nobody answers on: the receipt waits in the queue, its image does not.
    const config = await writeTestConfig({ printer: { uri: 'tcp://127.0.0.1:9', paperWidth: 58 } });
    const api = await start(config);
    const sale = await cashSale(api);
    const job = await waitFor(async () => (await jobsOf(api, sale.saleId))[0], 'receipt job queued', SLOW);
    expect(job.status).toBe('queued');
    const img = await image(api, job.id);
    expect(img.status).toBe(200);
    expect(PNG.sync.read(img.body).width).toBe(384);
  }, 120_000);
});
