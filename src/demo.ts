import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { CloudService } from '../cloud/cloud-service.js';
import type { Logger } from './log.js';

export interface DemoInfrastructure {
  mqttUrl: string;
  cloudPublicKeyPem: string;
  cloud: CloudService;
  stop(): Promise<void>;
}

/** The demo's business config: a merchant, a catalog, a coupon, a member and fast-enough timings. */
const DEMO_DOC = {
  merchant: {
    name: '示例咖啡 Demo Coffee',
    address: '上海市 示例路 1 号',
    receiptFooter: '谢谢惠顾 Thank you',
  },
  catalog: {
    items: [
      { sku: 'LATTE', name: '拿铁咖啡', price: 2800, category: 'coffee', barcode: '6901234567892' },
      { sku: 'AMER', name: '美式咖啡', price: 2200, category: 'coffee' },
      { sku: 'CAPP', name: '卡布奇诺', price: 2600, category: 'coffee' },
      { sku: 'CROI', name: '可颂', price: 1200, category: 'bakery' },
      { sku: 'MUFF', name: '蓝莓松饼', price: 1500, category: 'bakery' },
      { sku: 'WATER', name: '矿泉水', price: 300, category: 'drinks', barcode: '6920202888883' },
    ],
  },
  orders: { autoAcceptSeconds: 60, printKitchenTicket: true, printCustomerTicket: true },
  // Spend 50 yuan, get 5 off a next visit of 30 or more: its QR shows on the customer screen.
  coupons: {
    issueRules: [
      { ruleId: 'demo-back5', kind: 'amount', value: 500, minSpend: 3000, validDays: 30, afterSpend: 5000 },
    ],
  },
  payments: { queryDelayMs: 2_000, queryIntervalMs: 2_000, resolveWithinMs: 30_000, qrExpirySeconds: 120 },
};

async function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

function demoKey(stateDir: string): { privatePem: string; publicPem: string } {
  const file = join(stateDir, 'demo-cloud-key.pem');
  if (!existsSync(file)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
  }
  const privatePem = readFileSync(file, 'utf8');
  const publicPem = createPublicKey(createPrivateKey(privatePem))
    .export({ type: 'spki', format: 'pem' })
    .toString();
  return { privatePem, publicPem };
}

/**
 * `posd demo`: an MQTT broker inside the process (aedes, no system package; MQTT 3.1.1, which the
 * device falls back to) and the reference cloud beside it, with a demo merchant, coupon and member.
 */
export async function startDemoInfrastructure(
  stateDir: string,
  log: Logger,
  tenant: string,
  device: string,
): Promise<DemoInfrastructure> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  let port: number;
  try {
    port = await listen(server, 1883);
  } catch {
    port = await listen(server, 0); // 1883 is taken (a system broker): any free port
  }
  const mqttUrl = `mqtt://127.0.0.1:${port}`;
  const { privatePem, publicPem } = demoKey(stateDir);
  const cloud = new CloudService({
    brokerUrl: mqttUrl,
    dbFile: join(stateDir, 'demo-cloud.db'),
    signingKey: createPrivateKey(privatePem),
    protocolVersion: 4,
    shared: false,
    acquirer: { autoPayQrAfterQueries: 3 },
    log: (msg, extra) => log.warn(extra ?? {}, `demo cloud: ${msg}`),
  });
  await cloud.start();
  cloud.acquirer.addCoupon('CP2024', {
    couponId: 'demo-10-off',
    kind: 'amount',
    value: 1000,
    minSpend: 3000,
  });
  cloud.acquirer.addMember('MB88886666', {
    memberId: 'demo-member-1',
    name: '王小明',
    balance: 10_000,
    points: 120,
  });
  await cloud.pushConfig(tenant, device, 1, DEMO_DOC);
  log.info({ mqttUrl }, 'demo broker and reference cloud started');
  return {
    mqttUrl,
    cloudPublicKeyPem: publicPem,
    cloud,
    async stop() {
      await cloud.stop();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
