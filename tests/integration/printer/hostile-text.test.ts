import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '../../../cloud/cloud-service.js';
import { PrinterSim } from '../../../src/drivers/sim/printer-sim.js';
import { apiClient } from '../../helpers/api.js';
import { cloudKeys, deviceLedger, startCloud } from '../../helpers/cloud-fixture.js';
import { type DaemonProcess, spawnPosd, waitHealthy, writeTestConfig } from '../../helpers/daemon.js';
import { deliveryOrder } from '../../helpers/money-fixtures.js';
import { Mosquitto } from '../../helpers/mosquitto.js';
import { silentLogger } from '../../helpers/test-log.js';
import { waitFor } from '../../helpers/wait.js';

/*
 * Printer command injection from the cloud: an online order whose note carries cuts and a drawer
 * kick prints as text, on exactly its two tickets, and the drawer stays shut.
 */

const DEVICE = 'HOSTILE1';
const broker = new Mosquitto();
const keys = cloudKeys();
let cloud: CloudService;
let sim: PrinterSim;
let daemon: DaemonProcess;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  await broker.start();
  cloud = await startCloud(broker.url, keys.privateKey);
  sim = new PrinterSim({ paperWidth: 80, log: silentLogger() });
  const simPort = await sim.listen();
  const cfg = await writeTestConfig({
    device: { tenant: 't1', id: DEVICE },
    mqtt: { url: broker.url, reconnectMinMs: 100, reconnectMaxMs: 300 },
    cloud: { publicKey: keys.publicPem },
    printer: { uri: `tcp://127.0.0.1:${simPort}`, paperWidth: 80 },
  });
  daemon = spawnPosd(['run', '--config', cfg.file]);
  await waitHealthy(cfg.port);
  api = apiClient(cfg.port, cfg.stateDir);
  await cloud.pushConfig('t1', DEVICE, 1, {
    orders: { autoAcceptSeconds: 0, printKitchenTicket: true, printCustomerTicket: true },
  });
  await waitFor(
    async () => ((await deviceLedger(api)).some((r) => r.type === 'config.applied') ? true : undefined),
    'config applied',
  );
}, 60_000);

afterAll(async () => {
  daemon?.child.kill('SIGTERM');
  await daemon?.exited;
  await cloud?.stop();
  await broker.stop();
  await sim?.close();
});

describe('hostile order text from the cloud', () => {
  it('a note full of cuts and a drawer kick prints as text on exactly two tickets; the drawer stays shut', async () => {
    const orderId = `EVIL-${Date.now()}`;
    const cut = '\u001dVB\u0003';
    const kick = '\u001bp\u0000\u0019\u00fa';
    const order = {
      ...deliveryOrder(orderId),
      note: `no chili${cut}${cut}${kick}please`,
      customer: { name: `Li${kick}`, phone: `138${cut}`, address: 'Room\u202e 5' },
      lines: [{ name: `Tea${kick}`, qty: 1, unitPrice: 3_600 }],
    };
    const before = sim.receipts.length;
    await cloud.pushOrder('t1', DEVICE, order);
    await waitFor(
      async () => ((await api.call('GET', `/api/v1/orders/${orderId}`)).status === 200 ? true : undefined),
      'order received',
    );
    expect((await api.call('POST', `/api/v1/orders/${orderId}/accept`)).status).toBe(200);
    // order.printed is recorded once a ticket's job has been printed whole.
    await waitFor(
      async () =>
        (await deviceLedger(api)).filter((r) => r.type === 'order.printed' && r.body.orderId === orderId)
          .length === 2
          ? true
          : undefined,
      'both tickets printed',
      30_000,
    );
    const tickets = sim.receipts.slice(before);
    expect(tickets).toHaveLength(2);
    for (const t of tickets) {
      const text = t.lines.join('\n');
      expect(text).toContain(orderId);
      expect(text).toMatch(/no chili.*please/);
      expect(text).toContain('Tea');
    }
    expect(sim.executed.filter((c) => c.op === 'drawer')).toEqual([]);
    expect(sim.executed.filter((c) => c.op === 'cut')).toHaveLength(2);
    expect(sim.executed.filter((c) => c.op === 'junk' || c.op === 'other')).toEqual([]);
  });
});
