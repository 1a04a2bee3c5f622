/**
 * What the acquirer, coupons and counter orders need of a store: keyed documents and the at-counter
 * orders, read and written synchronously inside one transaction (`exclusive`). The SQLite
 * `CloudStore` is one; on PostgreSQL a `ReplayKv` runs the same code inside a database transaction.
 */
export interface CloudKv {
  kvGet<T>(scope: string, key: string): T | undefined;
  kvPut(scope: string, key: string, value: unknown): void;
  kvDelete(scope: string, key: string): void;
  kvAll<T>(scope: string): Array<{ key: string; value: T }>;
  /** `work` as one transaction (or as part of the one under way). */
  exclusive<T>(work: () => T): T;
  atCounterOrders(tenant: string, pickupCode: string): Array<{ device: string; order: { id: string } }>;
  atCounterOrder(tenant: string, orderId: string): { device: string; order: { id: string } } | undefined;
}
