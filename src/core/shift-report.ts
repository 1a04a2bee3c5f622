/**
 * X/Z reports as a fold over the ledger records of one shift: the ledger is the source of truth, so
 * the report equals the sum of the ledger by construction.
 */
export interface ReportRecord {
  type: string;
  body: Record<string, unknown>;
}

export interface ShiftTotals {
  /** Net received per tender channel (cash, wechat, alipay, …): payments − refunds − voids. */
  byTender: Record<string, number>;
  sales: { count: number; amount: number };
  refunds: { count: number; amount: number };
  voids: { count: number; amount: number };
  discounts: number;
  /** Stored value sold to members: cash in the drawer, owed to members, not revenue. */
  recharges: { count: number; amount: number };
  /** Cash that should be in the drawer: opening + cash in − cash out. */
  expectedCash: number;
  pendingPayments: number;
}

interface Paid {
  channel?: unknown;
  method?: unknown;
  amount?: unknown;
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : 0;
}

function channelOf(p: Paid): string {
  return typeof p.channel === 'string' ? p.channel : typeof p.method === 'string' ? p.method : 'unknown';
}

function add(map: Record<string, number>, key: string, amount: number): void {
  map[key] = (map[key] ?? 0) + amount;
}

export function foldShift(openingCash: number, records: readonly ReportRecord[]): ShiftTotals {
  const t: ShiftTotals = {
    byTender: {},
    sales: { count: 0, amount: 0 },
    refunds: { count: 0, amount: 0 },
    voids: { count: 0, amount: 0 },
    discounts: 0,
    recharges: { count: 0, amount: 0 },
    expectedCash: openingCash,
    pendingPayments: 0,
  };
  const pending = new Set<string>();
  for (const r of records) {
    const b = r.body;
    switch (r.type) {
      case 'payment.succeeded': {
        const channel = channelOf(b);
        add(t.byTender, channel, num(b.amount));
        if (channel === 'cash') t.expectedCash += num(b.amount);
        if (typeof b.paymentId === 'string') pending.delete(b.paymentId);
        break;
      }
      case 'payment.pending':
        if (typeof b.paymentId === 'string') pending.add(b.paymentId);
        break;
      case 'payment.failed':
      case 'payment.reversed':
        if (typeof b.paymentId === 'string') pending.delete(b.paymentId);
        if (r.type === 'payment.reversed' && b.wasCaptured === true)
          add(t.byTender, channelOf(b), -num(b.amount));
        break;
      case 'sale.completed':
        t.sales.count += 1;
        t.sales.amount += num(b.total);
        t.discounts += num(b.discount);
        break;
      case 'sale.voided': {
        t.voids.count += 1;
        t.voids.amount += num(b.total);
        const cash = num(b.cashReturned);
        add(t.byTender, 'cash', -cash);
        t.expectedCash -= cash;
        break;
      }
      case 'refund.completed': {
        t.refunds.count += 1;
        t.refunds.amount += num(b.total);
        for (const p of Array.isArray(b.payments) ? (b.payments as Paid[]) : []) {
          const channel = channelOf(p);
          add(t.byTender, channel, -num(p.amount));
          if (channel === 'cash') t.expectedCash -= num(p.amount);
        }
        break;
      }
      case 'member.recharged':
        t.recharges.count += 1;
        t.recharges.amount += num(b.amount);
        if (b.tender === 'cash') t.expectedCash += num(b.amount);
        break;
      // The cloud refused the recharge: its cash goes back to the customer.
      case 'member.recharge.failed':
        t.recharges.count -= 1;
        t.recharges.amount -= num(b.amount);
        if (b.tender === 'cash') t.expectedCash -= num(b.amount);
        break;
      default:
        break;
    }
  }
  t.pendingPayments = pending.size;
  return t;
}
