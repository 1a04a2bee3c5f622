import { v7 as uuidv7 } from 'uuid';

/** What the feed needs of the cloud: push one order to one device. */
export interface OrderPusher {
  pushOrder(tenant: string, device: string, order: { id: string } & Record<string, unknown>): Promise<number>;
}

export interface DemoOrderFeedOptions {
  tenant: string;
  device: string;
  /** Time between two orders; the first comes after `firstAfterMs` (default: the same). */
  everyMs: number;
  firstAfterMs?: number;
  onError?: (err: unknown) => void;
}

interface Dish {
  name: string;
  sku?: string;
  unitPrice: number;
}

/** The demo catalog's items (src/demo.ts) and a few kitchen dishes: a delivery platform's basket. */
const DISHES: Dish[] = [
  { sku: 'LATTE', name: '拿铁咖啡', unitPrice: 2800 },
  { sku: 'AMER', name: '美式咖啡', unitPrice: 2200 },
  { sku: 'CROI', name: '可颂', unitPrice: 1200 },
  { sku: 'MUFF', name: '蓝莓松饼', unitPrice: 1500 },
  { name: '火腿三明治', unitPrice: 1800 },
];

const SOURCES = ['meituan', 'eleme', 'mini-program'] as const;

/**
 * The n-th demo order: delivery platforms (prepaid) in turn with a mini-program order paid at the
 * counter (pickup code), so the inbox shows both kinds. Deterministic in n.
 */
export function demoOrder(n: number, now: Date = new Date()): { id: string } & Record<string, unknown> {
  const source = SOURCES[n % SOURCES.length] ?? 'meituan';
  const lines = [0, 1]
    .map((k) => DISHES[(n * 2 + k) % DISHES.length] as Dish)
    .map((d, k) => ({ ...d, qty: 1 + ((n + k) % 2) }));
  const total = lines.reduce((sum, l) => sum + l.qty * l.unitPrice, 0);
  const code = `${String.fromCharCode(65 + (n % 26))}${String((n * 7) % 100).padStart(2, '0')}`;
  const base = { id: `demo-${uuidv7()}`, source, placedAt: now.toISOString(), lines, total, currency: 'CNY' };
  return source === 'mini-program'
    ? { ...base, payment: 'at-counter', pickupCode: code }
    : { ...base, note: n % 2 ? '少冰' : '多加一张餐巾纸', pickup: { code } };
}

/** The reference cloud's demo feed: an online order every `everyMs`, until stopped. */
export class DemoOrderFeed {
  private timer: NodeJS.Timeout | undefined;
  private n = 0;
  pushed = 0;

  constructor(
    private readonly cloud: OrderPusher,
    private readonly o: DemoOrderFeedOptions,
  ) {}

  start(): void {
    this.schedule(this.o.firstAfterMs ?? this.o.everyMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => void this.pushNext(), ms);
    this.timer.unref();
  }

  private async pushNext(): Promise<void> {
    const order = demoOrder(this.n++);
    try {
      await this.cloud.pushOrder(this.o.tenant, this.o.device, order);
      this.pushed += 1;
    } catch (err) {
      this.o.onError?.(err);
    }
    if (this.timer) this.schedule(this.o.everyMs);
  }
}
