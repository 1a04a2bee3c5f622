import type { CloudKv } from './cloud-kv.js';
import type { IncomingRecord } from './store.js';

/** What the cloud knows of an order paid at the counter: the sale that paid it, from `order.paid`. */
export interface OrderPaid {
  saleId: string;
  device: string;
  at: string;
}

const PAID = 'orders.paid';
/** Sales voided after paying an order: a replayed `order.paid` of one never marks it paid again. */
const VOIDED = 'orders.voided-sales';

/**
 * Online orders paid at the counter, cloud side: `orders.lookup {pickupCode}` finds the tenant's
 * unpaid at-counter order pushed to any of its terminals (the reference cloud takes a tenant as
 * one store), and the stored `order.paid` records mark orders paid, once; a `sale.voided` of the
 * paying sale makes the order payable again.
 */
export class CloudOrders {
  constructor(private readonly store: CloudKv) {}

  /** `orderId` (our reading, docs/protocol.md) names the order; else the pickup code finds it. */
  lookup(tenant: string, pickupCode: unknown, orderId?: unknown): { order: unknown } {
    if (typeof orderId === 'string' && orderId !== '') {
      const byId = this.store.atCounterOrder(tenant, orderId);
      return { order: byId && !this.paid(tenant, orderId) ? byId.order : null };
    }
    if (typeof pickupCode !== 'string' || pickupCode === '') return { order: null };
    const found = this.store.atCounterOrders(tenant, pickupCode).find((o) => !this.paid(tenant, o.order.id));
    return { order: found?.order ?? null };
  }

  paid(tenant: string, orderId: string): OrderPaid | undefined {
    return this.store.kvGet<OrderPaid>(PAID, `${tenant}/${orderId}`);
  }

  /** A stored fact (each record is seen once per batch, a replayed batch again): applied once. */
  onFact(tenant: string, device: string, r: IncomingRecord): void {
    const body = r.body as { orderId?: unknown; saleId?: unknown };
    if (r.type === 'order.paid' && typeof body.orderId === 'string' && typeof body.saleId === 'string') {
      const key = `${tenant}/${body.orderId}`;
      const saleId = body.saleId;
      this.store.exclusive(() => {
        if (this.store.kvGet(PAID, key) || this.store.kvGet(VOIDED, `${tenant}/${saleId}`)) return;
        this.store.kvPut(PAID, key, { saleId, device, at: r.at } satisfies OrderPaid);
      });
    }
    if (r.type === 'sale.voided' && typeof body.saleId === 'string') {
      this.store.exclusive(() => {
        this.store.kvPut(VOIDED, `${tenant}/${body.saleId}`, true);
        for (const { key, value } of this.store.kvAll<OrderPaid>(PAID)) {
          if (key.startsWith(`${tenant}/`) && value.saleId === body.saleId) this.store.kvDelete(PAID, key);
        }
      });
    }
  }
}
