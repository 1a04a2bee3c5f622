import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/app.js';
import { apiClient } from '../../helpers/api.js';
import { startApp } from './in-process-app.js';

type Sale = {
  saleId: string;
  status: string;
  receiptNo?: string;
  total: number;
  refundable: number;
  createdAt: string;
  lines: Array<{ name: string; qty: number }>;
  payments: Array<{ channel: string; amount: number }>;
};
type List = { sales: Sale[]; next?: string; error?: { code: string; message: string } };

let app: App;
let api: ReturnType<typeof apiClient>;
const sold: Array<{ saleId: string; receiptNo: string }> = [];

beforeAll(async () => {
  const started = await startApp();
  app = started.app;
  api = apiClient(started.port, started.stateDir);
  for (const [name, price] of [
    ['拿铁', 2800],
    ['可颂', 1200],
    ['美式', 2200],
  ] as const) {
    const r = await api.call<{ saleId: string; receiptNo: string }>('POST', '/api/v1/sales', {
      lines: [{ name, qty: 2, unitPrice: price }],
      tenders: [{ method: 'cash', amount: 10_000 }],
    });
    expect(r.status).toBe(201);
    sold.push(r.body);
  }
  // An open sale is on the list too (it can be voided from there).
  await api.call('POST', '/api/v1/sales', { lines: [{ name: '水', qty: 1, unitPrice: 300 }] });
});

afterAll(async () => {
  await app?.stop();
});

describe('GET /api/v1/sales (recent sales from the ledger database)', () => {
  it('lists sales newest first with time, lines, payments and status, page by page', async () => {
    const first = await api.call<List>('GET', '/api/v1/sales?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.sales.map((s) => s.status)).toEqual(['open', 'completed']);
    const newestSold = first.body.sales[1]!;
    expect(newestSold).toMatchObject({ saleId: sold[2]!.saleId, receiptNo: sold[2]!.receiptNo, total: 4400 });
    expect(newestSold.lines[0]).toMatchObject({ name: '美式', qty: 2 });
    expect(newestSold.payments[0]).toMatchObject({ channel: 'cash', amount: 10_000 });
    expect(Date.parse(newestSold.createdAt)).not.toBeNaN();
    expect(first.body.next).toBe(newestSold.saleId);

    const second = await api.call<List>('GET', `/api/v1/sales?limit=2&before=${first.body.next}`);
    expect(second.body.sales.map((s) => s.saleId)).toEqual([sold[1]!.saleId, sold[0]!.saleId]);
    expect(second.body.next).toBeUndefined();
  });

  it('finds a sale by its receipt number, exactly or by its last digits, and by its refund’s number', async () => {
    const exact = await api.call<List>('GET', `/api/v1/sales?receiptNo=${sold[1]!.receiptNo}`);
    expect(exact.body.sales.map((s) => s.saleId)).toEqual([sold[1]!.saleId]);
    const tail = sold[0]!.receiptNo.slice(-3);
    const part = await api.call<List>('GET', `/api/v1/sales?q=${tail}`);
    expect(part.body.sales.map((s) => s.saleId)).toEqual([sold[0]!.saleId]);
    // Its last digits, not digits anywhere: "001" is not D1-000010.
    const middle = await api.call<List>('GET', `/api/v1/sales?q=${sold[0]!.receiptNo.slice(3, 6)}`);
    expect(middle.body.sales.map((s) => s.saleId)).toEqual([]);
    const none = await api.call<List>('GET', '/api/v1/sales?receiptNo=D1-999999');
    expect(none.body.sales).toEqual([]);

    const refund = await api.call<{ receiptNo: string }>('POST', `/api/v1/sales/${sold[1]!.saleId}/refunds`, {
      lines: [{ lineNo: 1, qty: 1 }],
    });
    expect(refund.status).toBe(201);
    const byRefund = await api.call<List>('GET', `/api/v1/sales?receiptNo=${refund.body.receiptNo}`);
    expect(byRefund.body.sales.map((s) => [s.saleId, s.refundable])).toEqual([[sold[1]!.saleId, 1200]]);
    // A refund is not a row of its own.
    const all = await api.call<List>('GET', '/api/v1/sales?limit=100');
    expect(all.body.sales).toHaveLength(4);
  });

  it('refuses malformed queries with a 400 and a code', async () => {
    for (const query of [
      'limit=0',
      'limit=101',
      'limit=abc',
      'before=%27%20OR%201%3D1',
      'receiptNo=%E4%B8%AD',
      `q=${'9'.repeat(41)}`,
      'q=',
    ]) {
      const r = await api.call<List>('GET', `/api/v1/sales?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.body.error?.code, query).toBe('BAD_REQUEST');
    }
  });
});

describe('PUT /api/v1/sales/{saleId}/lines (back from the pay screen to the cart)', () => {
  type View = Sale & { due: number; paid: number; error?: { code: string } };

  it('re-prices an open sale nothing was paid on, records nothing, and keeps its id', async () => {
    const opened = await api.call<{ saleId: string }>('POST', '/api/v1/sales', {
      lines: [{ name: '拿铁', qty: 1, unitPrice: 2800 }],
    });
    const before = await api.call<{ records: unknown[] }>('GET', '/api/v1/ledger?limit=1000');
    const r = await api.call<View>('PUT', `/api/v1/sales/${opened.body.saleId}/lines`, {
      lines: [
        { name: '拿铁', qty: 1, unitPrice: 2800 },
        { name: '可颂', qty: 1, unitPrice: 1200 },
      ],
      orderDiscount: { percentBp: 1000 },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ saleId: opened.body.saleId, status: 'open', total: 3600, due: 3600 });
    expect(r.body.lines.map((l) => l.name)).toEqual(['拿铁', '可颂']);
    const after = await api.call<{ records: unknown[] }>('GET', '/api/v1/ledger?limit=1000');
    expect(after.body.records.length).toBe(before.body.records.length);
    // Paid in full afterwards, at the new total.
    const paid = await api.call<{ saleStatus: string }>(
      'POST',
      `/api/v1/sales/${opened.body.saleId}/payments`,
      {
        method: 'cash',
        amount: 3600,
      },
    );
    expect(paid.body.saleStatus).toBe('completed');
  });

  it('refuses once money was taken, on a completed sale, and malformed lines', async () => {
    const opened = await api.call<{ saleId: string }>('POST', '/api/v1/sales', {
      lines: [{ name: '美式', qty: 2, unitPrice: 2200 }],
    });
    const id = opened.body.saleId;
    const lines = [{ name: '美式', qty: 3, unitPrice: 2200 }];
    await api.call('POST', `/api/v1/sales/${id}/payments`, { method: 'cash', amount: 1000 });
    const taken = await api.call<View>('PUT', `/api/v1/sales/${id}/lines`, { lines });
    expect([taken.status, taken.body.error?.code]).toEqual([409, 'CONFLICT']);
    const done = await api.call<View>('PUT', `/api/v1/sales/${sold[0]!.saleId}/lines`, { lines });
    expect([done.status, done.body.error?.code]).toEqual([409, 'SALE_NOT_OPEN']);
    const missing = await api.call<View>('PUT', '/api/v1/sales/nope/lines', { lines });
    expect([missing.status, missing.body.error?.code]).toEqual([404, 'SALE_NOT_FOUND']);
    for (const body of [
      { lines: [] },
      { lines: [{ name: 'x', qty: 0, unitPrice: 1 }] },
      { lines, tenders: [] },
    ]) {
      const bad = await api.call<View>('PUT', `/api/v1/sales/${id}/lines`, body);
      expect(bad.status, JSON.stringify(body)).toBe(422);
      expect(bad.body.error?.code).toBe('VALIDATION_FAILED');
    }
  });
});
