import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { CloudService } from '../cloud/cloud-service.js';
import { DemoOrderFeed } from '../cloud/demo-orders.js';
import type { Logger } from './log.js';

export interface DemoInfrastructure {
  mqttUrl: string;
  cloudPublicKeyPem: string;
  cloud: CloudService;
  /** The reference cloud's online orders, one every so often (undefined when turned off). */
  orders: DemoOrderFeed | undefined;
  /** The lines that greet a person once the UI answers. */
  greeting(ui: { url: string; pin: string | undefined }): string;
  stop(): Promise<void>;
}

/** For a person, not a log reader: where to open the UI, the PIN, what happens by itself. */
export function demoGreeting(o: {
  url: string;
  pin: string | undefined;
  stateDir: string;
  orderEverySeconds: number;
  mqttUrl: string;
  tenant: string;
  device: string;
}): string {
  const signIn = o.pin ? `PIN ${o.pin}` : `PIN: the cashiers in ${join(o.stateDir, 'cashiers.json')}`;
  return [
    '',
    `posd demo is ready: open ${o.url}/ , ${signIn}`,
    `  customer screen   ${o.url}/customer`,
    `  receipts          PNG files in ${join(o.stateDir, 'receipts')}`,
    o.orderEverySeconds > 0
      ? `  online orders     one every ${o.orderEverySeconds} s from the demo cloud (--orders-every SECONDS, 0 = none)`
      : '  online orders     none (--orders-every 0)',
    `  cloud CLI         node dist/cloud/cli.js push-order --broker ${o.mqttUrl} --key ${join(o.stateDir, 'demo-cloud-key.pem')} --tenant ${o.tenant} --device ${o.device} --db FILE --order JSON`,
    '  coupon CP2024, member card MB88886666; Ctrl-C stops the demo',
    '',
    '',
  ].join('\n');
}

export interface DemoOptions {
  /** Seconds between two online orders from the demo cloud; 0: none. */
  orderEverySeconds: number;
}

/** An online order now and then, so the order inbox shows itself; the first soon after the start. */
export const DEMO_ORDER_EVERY_SECONDS = 120;
const FIRST_ORDER_AFTER_SECONDS = 30;

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
  options: Partial<DemoOptions> = {},
): Promise<DemoInfrastructure> {
  const orderEverySeconds = options.orderEverySeconds ?? DEMO_ORDER_EVERY_SECONDS;
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
  const every = orderEverySeconds * 1000;
  const orders =
    every > 0
      ? new DemoOrderFeed(cloud, {
          tenant,
          device,
          everyMs: every,
          firstAfterMs: Math.min(every, FIRST_ORDER_AFTER_SECONDS * 1000),
          onError: (err) => log.warn({ err: String(err) }, 'demo cloud: order push failed'),
        })
      : undefined;
  orders?.start();
  log.info({ mqttUrl, orderEverySeconds }, 'demo broker and reference cloud started');
  return {
    mqttUrl,
    cloudPublicKeyPem: publicPem,
    cloud,
    orders,
    greeting: (ui) => demoGreeting({ ...ui, stateDir, orderEverySeconds, mqttUrl, tenant, device }),
    async stop() {
      orders?.stop();
      await cloud.stop();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
