import type pg from 'pg';
import type { CloudKv } from '../cloud-kv.js';

type Need =
  | { kind: 'key'; scope: string; key: string }
  | { kind: 'scope'; scope: string }
  | { kind: 'pickup'; tenant: string; pickupCode: string }
  | { kind: 'order'; tenant: string; orderId: string };

/** Thrown by a read the transaction has not loaded yet: the driver loads it and runs the work again. */
class NeedData {
  constructor(readonly need: Need) {}
}

const k = (scope: string, key: string) => `${scope}\u0000${key}`;
type CounterOrder = { device: string; order: { id: string } };

/**
 * The synchronous store the acquirer, coupons and counter orders are written against (`CloudKv`),
 * inside one PostgreSQL transaction. A read of a row not yet loaded stops the work; `run` loads that
 * row (`FOR UPDATE`, so instances take turns on it) and runs the work again from the start, until
 * it completes with everything it read at hand. The work is deterministic in what it reads, so the
 * run that completes is the one that counts; its writes are staged and written by `flush`.
 */
export class ReplayKv implements CloudKv {
  /** Rows as loaded from the database, JSON text (null: absent). */
  private readonly loaded = new Map<string, string | null>();
  private readonly scopes = new Set<string>();
  private readonly counterOrders = new Map<string, CounterOrder[]>();
  /** Writes of completed runs, not yet flushed (null: deleted). */
  private readonly staged = new Map<string, { scope: string; key: string; json: string | null }>();
  /** Writes of the run under way. */
  private current = new Map<string, { scope: string; key: string; json: string | null }>();

  constructor(private readonly client: pg.ClientBase) {}

  /** Runs `work` until it completes with every row it reads loaded; its writes are staged. */
  async run<T>(work: () => T): Promise<T> {
    for (;;) {
      this.current = new Map();
      try {
        const result = work();
        for (const [id, w] of this.current) this.staged.set(id, w);
        this.current = new Map();
        return result;
      } catch (err) {
        if (!(err instanceof NeedData)) throw err;
        await this.load(err.need);
      }
    }
  }

  /** Loads these rows in one query (the facts of a batch: their award keys, their sales). */
  async prefetch(keys: ReadonlyArray<readonly [string, string]>): Promise<void> {
    const todo = keys.filter(([s, key]) => !this.loaded.has(k(s, key)) && !this.scopes.has(s));
    if (todo.length === 0) return;
    const res = await this.client.query<{ scope: string; key: string; value: unknown }>(
      `SELECT scope, key, value FROM kv WHERE (scope, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))
       ORDER BY scope, key FOR UPDATE`,
      [todo.map((t) => t[0]), todo.map((t) => t[1])],
    );
    for (const [s, key] of todo) this.loaded.set(k(s, key), null);
    for (const r of res.rows) this.loaded.set(k(r.scope, r.key), JSON.stringify(r.value));
  }

  /** Writes the staged rows (one statement for the puts, one for the deletes). */
  async flush(): Promise<void> {
    const puts = [...this.staged.values()].filter((w) => w.json !== null);
    const dels = [...this.staged.values()].filter((w) => w.json === null);
    if (puts.length > 0)
      await this.client.query(
        `INSERT INTO kv (scope, key, value) SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])
         ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value`,
        [puts.map((w) => w.scope), puts.map((w) => w.key), puts.map((w) => w.json)],
      );
    if (dels.length > 0)
      await this.client.query(
        'DELETE FROM kv WHERE (scope, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))',
        [dels.map((w) => w.scope), dels.map((w) => w.key)],
      );
    for (const [id, w] of this.staged) this.loaded.set(id, w.json);
    this.staged.clear();
  }

  private async load(need: Need): Promise<void> {
    const c = this.client;
    if (need.kind === 'key') {
      const res = await c.query<{ value: unknown }>(
        'SELECT value FROM kv WHERE scope = $1 AND key = $2 FOR UPDATE',
        [need.scope, need.key],
      );
      this.loaded.set(k(need.scope, need.key), res.rows[0] ? JSON.stringify(res.rows[0].value) : null);
    } else if (need.kind === 'scope') {
      const res = await c.query<{ key: string; value: unknown }>(
        'SELECT key, value FROM kv WHERE scope = $1 ORDER BY key FOR UPDATE',
        [need.scope],
      );
      for (const r of res.rows) {
        const id = k(need.scope, r.key);
        if (!this.loaded.has(id)) this.loaded.set(id, JSON.stringify(r.value));
      }
      this.scopes.add(need.scope);
    } else if (need.kind === 'pickup') {
      const res = await c.query<{ device: string; doc: { id: string } }>(
        `SELECT device, doc FROM orders WHERE tenant = $1 AND doc->>'payment' = 'at-counter'
         AND doc->>'pickupCode' = $2 ORDER BY down_seq DESC`,
        [need.tenant, need.pickupCode],
      );
      this.counterOrders.set(`p\u0000${need.tenant}\u0000${need.pickupCode}`, res.rows.map(toCounterOrder));
    } else {
      const res = await c.query<{ device: string; doc: { id: string } }>(
        `SELECT device, doc FROM orders WHERE tenant = $1 AND doc->>'payment' = 'at-counter'
         AND doc->>'id' = $2 ORDER BY down_seq DESC LIMIT 1`,
        [need.tenant, need.orderId],
      );
      this.counterOrders.set(`o\u0000${need.tenant}\u0000${need.orderId}`, res.rows.map(toCounterOrder));
    }
  }

  private json(scope: string, key: string): string | null {
    const id = k(scope, key);
    const w = this.current.get(id) ?? this.staged.get(id);
    if (w) return w.json;
    const row = this.loaded.get(id);
    if (row !== undefined) return row;
    if (this.scopes.has(scope)) return null;
    throw new NeedData({ kind: 'key', scope, key });
  }

  kvGet<T>(scope: string, key: string): T | undefined {
    const json = this.json(scope, key);
    return json === null ? undefined : (JSON.parse(json) as T);
  }

  kvPut(scope: string, key: string, value: unknown): void {
    this.current.set(k(scope, key), { scope, key, json: JSON.stringify(value) });
  }

  kvDelete(scope: string, key: string): void {
    this.current.set(k(scope, key), { scope, key, json: null });
  }

  kvAll<T>(scope: string): Array<{ key: string; value: T }> {
    if (!this.scopes.has(scope)) throw new NeedData({ kind: 'scope', scope });
    const prefix = `${scope}\u0000`;
    const ids = new Set<string>();
    for (const m of [this.loaded, this.staged, this.current])
      for (const id of m.keys()) if (id.startsWith(prefix)) ids.add(id);
    const out: Array<{ key: string; value: T }> = [];
    for (const id of [...ids].sort()) {
      const key = id.slice(prefix.length);
      const json = this.json(scope, key);
      if (json !== null) out.push({ key, value: JSON.parse(json) as T });
    }
    return out;
  }

  /** Already inside the transaction. */
  exclusive<T>(work: () => T): T {
    return work();
  }

  atCounterOrders(tenant: string, pickupCode: string): CounterOrder[] {
    const found = this.counterOrders.get(`p\u0000${tenant}\u0000${pickupCode}`);
    if (!found) throw new NeedData({ kind: 'pickup', tenant, pickupCode });
    return found;
  }

  atCounterOrder(tenant: string, orderId: string): CounterOrder | undefined {
    const found = this.counterOrders.get(`o\u0000${tenant}\u0000${orderId}`);
    if (!found) throw new NeedData({ kind: 'order', tenant, orderId });
    return found[0];
  }
}

function toCounterOrder(r: { device: string; doc: { id: string } }): CounterOrder {
  return { device: r.device, order: r.doc };
}
