import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerRecord } from '../../src/core/ledger-record.js';
import { verifyChain } from '../../src/offline/chain.js';
import { apiClient } from '../helpers/api.js';
import { spawnPosd, waitHealthy, withTimeout, writeTestConfig } from '../helpers/daemon.js';

let child: ChildProcess;
let api: ReturnType<typeof apiClient>;
let port: number;

beforeAll(async () => {
  const cfg = await writeTestConfig();
  port = cfg.port;
  const d = spawnPosd(['run', '--config', cfg.file]);
  child = d.child;
  await waitHealthy(cfg.port);
  api = apiClient(cfg.port, cfg.stateDir);
});
afterAll(async () => {
  child.kill('SIGTERM');
  await withTimeout(new Promise((r) => child.once('exit', r)), 5_000, 'exit');
});

type Body = Record<string, unknown> & { error?: { code: string; message: string } };

describe('local sales API', () => {
  it('refuses every /api/ route without the token, or with a wrong one or a token in the URL', async () => {
    for (const [method, path] of [
      ['POST', '/api/v1/sales'],
      ['GET', '/api/v1/sales/x'],
      ['GET', '/api/v1/ledger'],
      ['POST', '/api/v1/sales/x/payments'],
    ] as const) {
      const none = await fetch(`http://127.0.0.1:${port}${path}`, { method });
      expect(none.status).toBe(401);
      const wrong = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: { authorization: 'Bearer nope' },
      });
      expect(wrong.status).toBe(401);
      const inUrl = await fetch(`http://127.0.0.1:${port}${path}?token=${api.token}`, { method });
      expect(inUrl.status).toBe(401);
    }
  });

  it('completes a cash sale in one call with change and a receipt number, then shows it', async () => {
    const r = await api.call<Body>('POST', '/api/v1/sales', {
      lines: [
        { name: '拿铁咖啡', qty: 1, unitPrice: 2800 },
        { sku: 'CR-1', name: '可颂', qty: 1, unitPrice: 400 },
      ],
      tenders: [{ method: 'cash', amount: 5000 }],
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: 'completed', total: 3200, change: 1800 });
    expect(r.body.receiptNo).toMatch(/^D1-\d{6}$/);
    const sale = await api.call<Body>('GET', `/api/v1/sales/${r.body.saleId}`);
    expect(sale.status).toBe(200);
    expect(sale.body).toMatchObject({ status: 'completed', total: 3200, paid: 3200, change: 1800, due: 0 });
  });

  it('opens a sale and pays it in two cash tenders', async () => {
    const open = await api.call<Body>('POST', '/api/v1/sales', {
      lines: [{ name: 'Tea', qty: 3, unitPrice: 1000 }],
    });
    expect(open.body).toMatchObject({ status: 'open', total: 3000 });
    const path = `/api/v1/sales/${open.body.saleId}/payments`;
    const first = await api.call<Body>('POST', path, { method: 'cash', amount: 1000 });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ saleStatus: 'open', due: 2000 });
    const second = await api.call<Body>('POST', path, { method: 'cash', amount: 2500 });
    expect(second.body).toMatchObject({ saleStatus: 'completed', due: 0, change: 500 });
    const again = await api.call<Body>('POST', path, { method: 'cash', amount: 100 });
    expect(again.status).toBe(409);
    expect(again.body.error?.code).toBe('SALE_NOT_OPEN');
  });

  it('splits tender between cash and a recorded bank card; change only from cash', async () => {
    const open = await api.call<Body>('POST', '/api/v1/sales', {
      lines: [{ name: 'Shoes', qty: 1, unitPrice: 30_000 }],
    });
    const path = `/api/v1/sales/${open.body.saleId}/payments`;
    expect((await api.call<Body>('POST', path, { method: 'cash', amount: 10_000 })).body.due).toBe(20_000);
    const tooMuch = await api.call<Body>('POST', path, { method: 'card', amount: 25_000 });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.error?.code).toBe('CHANGE_NOT_ALLOWED');
    const card = await api.call<Body>('POST', path, {
      method: 'card',
      amount: 20_000,
      reference: 'SLIP-0042',
    });
    expect(card.status).toBe(201);
    expect(card.body).toMatchObject({ saleStatus: 'completed', channel: 'card', due: 0 });
    const code = await api.call<Body>('POST', path, { method: 'code', authCode: '134567890123456789' });
    expect(code.status).toBe(422);
    expect(code.body.error?.code).toBe('TENDER_NOT_SUPPORTED');
  });

  it('caps refunds by what remains, through the API', async () => {
    const sale = await api.call<Body>('POST', '/api/v1/sales', {
      lines: [{ name: 'Bun', qty: 3, unitPrice: 333 }],
      orderDiscount: { amount: 100 },
      tenders: [{ method: 'cash', amount: 1000 }],
    });
    const path = `/api/v1/sales/${sale.body.saleId}/refunds`;
    const a = await api.call<Body>('POST', path, { lines: [{ lineNo: 1, qty: 2 }] });
    expect(a.status).toBe(201);
    const b = await api.call<Body>('POST', path, { lines: [{ lineNo: 1, qty: 2 }] });
    expect(b.status).toBe(422);
    expect(b.body.error?.code).toBe('REFUND_EXCEEDS_REMAINING');
    const c = await api.call<Body>('POST', path, { lines: [{ lineNo: 1, qty: 1 }] });
    expect((a.body.total as number) + (c.body.total as number)).toBe(899);
    const view = await api.call<Body>('GET', `/api/v1/sales/${sale.body.saleId}`);
    expect(view.body.refundable).toBe(0);
    const voided = await api.call<Body>('POST', `/api/v1/sales/${sale.body.saleId}/void`, {});
    expect(voided.status).toBe(409);
    expect(voided.body.error?.code).toBe('VOID_NOT_ALLOWED');
  });

  it('voids a cash sale once', async () => {
    const sale = await api.call<Body>('POST', '/api/v1/sales', {
      lines: [{ name: 'Milk', qty: 1, unitPrice: 600 }],
      tenders: [{ method: 'cash', amount: 600 }],
    });
    const path = `/api/v1/sales/${sale.body.saleId}/void`;
    const first = await api.call<Body>('POST', path, { reason: 'customer changed mind' });
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('voided');
    const second = await api.call<Body>('POST', path);
    expect(second.status).toBe(409);
  });

  it('replays a retried request with the same Idempotency-Key instead of selling twice', async () => {
    const body = {
      lines: [{ name: 'Water', qty: 1, unitPrice: 200 }],
      tenders: [{ method: 'cash', amount: 200 }],
    };
    const headers = { 'idempotency-key': `k-${Date.now()}` };
    const before = (await api.call<{ records: LedgerRecord[] }>('GET', '/api/v1/ledger?limit=1000')).body
      .records.length;
    const a = await api.call<Body>('POST', '/api/v1/sales', body, headers);
    const b = await api.call<Body>('POST', '/api/v1/sales', body, headers);
    expect(a.status).toBe(201);
    expect(b).toEqual(a);
    const after = (await api.call<{ records: LedgerRecord[] }>('GET', '/api/v1/ledger?limit=1000')).body
      .records.length;
    expect(after - before).toBe(2);
    const other = await api.call<Body>(
      'POST',
      '/api/v1/sales',
      { ...body, tenders: [{ method: 'cash', amount: 500 }] },
      headers,
    );
    expect(other.status).toBe(409);
    expect(other.body.error?.code).toBe('IDEMPOTENCY_MISMATCH');
  });

  it('answers malformed input on every route with a 4xx and a code, never a 500', async () => {
    const open = await api.call<Body>('POST', '/api/v1/sales', {
      lines: [{ name: 'X', qty: 1, unitPrice: 1 }],
    });
    const id = String(open.body.saleId);
    const bad: Array<[string, string, unknown, Record<string, string>?]> = [
      ['POST', '/api/v1/sales', '{"lines":'],
      ['POST', '/api/v1/sales', '[]'],
      ['POST', '/api/v1/sales', 'null'],
      ['POST', '/api/v1/sales', {}],
      ['POST', '/api/v1/sales', { lines: [] }],
      ['POST', '/api/v1/sales', { lines: [{ name: 'x', qty: 1.5, unitPrice: 1 }] }],
      ['POST', '/api/v1/sales', { lines: [{ name: 'x', qty: 1, unitPrice: '100' }] }],
      ['POST', '/api/v1/sales', { lines: [{ name: 'x', qty: 1, unitPrice: 1e20 }] }],
      [
        'POST',
        '/api/v1/sales',
        { lines: [{ name: 'x', qty: 1, unitPrice: 100 }], tenders: [{ method: 'cash', amount: 50 }] },
      ],
      [
        'POST',
        '/api/v1/sales',
        { lines: [{ name: 'x', qty: 1, unitPrice: 100 }], tenders: [{ method: 'gold', amount: 100 }] },
      ],
      [
        'POST',
        '/api/v1/sales',
        { lines: [{ name: 'x', qty: 1, unitPrice: 100, discount: { amount: 101 } }] },
      ],
      [
        'POST',
        '/api/v1/sales',
        { lines: [{ name: 'x', qty: 1, unitPrice: 1 }] },
        { 'content-type': 'text/plain' },
      ],
      ['POST', '/api/v1/sales', { lines: [{ name: 'x', qty: 1, unitPrice: 1 }], extra: 1 }],
      [
        'POST',
        '/api/v1/sales',
        { lines: [{ name: 'x', qty: 1, unitPrice: 1 }] },
        { 'idempotency-key': 'bad key with spaces' },
      ],
      ['POST', '/api/v1/sales', 'x'.repeat(300_000)],
      ['GET', '/api/v1/sales/does-not-exist', undefined],
      ['GET', '/api/v1/sales/%E0%A4%A', undefined],
      ['POST', `/api/v1/sales/${id}/payments`, { method: 'cash' }],
      ['POST', `/api/v1/sales/${id}/payments`, { method: 'cash', amount: -1 }],
      ['POST', `/api/v1/sales/${id}/payments`, { method: 'code', authCode: 'abc' }],
      ['POST', `/api/v1/sales/${id}/payments`, '{'],
      ['POST', '/api/v1/sales/nope/payments', { method: 'cash', amount: 1 }],
      ['POST', `/api/v1/sales/${id}/void`, { reason: 5 }],
      ['POST', `/api/v1/sales/${id}/refunds`, { lines: [{ lineNo: 1, qty: 1 }] }],
      ['POST', `/api/v1/sales/${id}/refunds`, { lines: 'all' }],
      ['GET', '/api/v1/ledger?afterSeq=-1', undefined],
      ['GET', '/api/v1/ledger?limit=abc', undefined],
      ['GET', '/api/v1/ledger?limit=100000', undefined],
      ['DELETE', '/api/v1/ledger', undefined],
      ['GET', '/api/v1/nothing-here', undefined],
      ['POST', '/api/v1/shifts', { openingCash: -5 }],
      ['POST', '/api/v1/shifts', { openingCash: 'lots' }],
      ['POST', '/api/v1/shifts/current/close', {}],
      ['POST', '/api/v1/shifts/current/close', { countedCash: 1.5 }],
      ['GET', '/api/v1/shifts/no-such-shift', undefined],
    ];
    for (const [method, path, body, headers] of bad) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${api.token}`,
          'content-type': 'application/json',
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      expect(
        res.status,
        `${method} ${path} ${JSON.stringify(body)?.slice(0, 80)} → ${text}`,
      ).toBeGreaterThanOrEqual(400);
      expect(res.status, `${method} ${path} → ${text}`).toBeLessThan(500);
      const parsed = JSON.parse(text) as Body;
      expect(parsed.error?.code, text).toMatch(/^[A-Z_]+$/);
      expect(parsed.error?.message).toBeTruthy();
    }
  });

  it('closes the shift with a Z report whose totals match the ledger, then opens the next', async () => {
    const x = await api.call<Body & { shiftId: string; totals: { byTender: Record<string, number> } }>(
      'GET',
      '/api/v1/shifts/current',
    );
    expect(x.status).toBe(200);
    expect(x.body.kind).toBe('X');
    const again = await api.call<Body>('POST', '/api/v1/shifts', { openingCash: 0 });
    expect(again.body.error?.code).toBe('SHIFT_ALREADY_OPEN');
    const z = await api.call<Body & { totals: { byTender: Record<string, number>; expectedCash: number } }>(
      'POST',
      '/api/v1/shifts/current/close',
      { countedCash: 12_345 },
    );
    expect(z.status).toBe(200);
    expect(z.body).toMatchObject({ kind: 'Z', status: 'closed', countedCash: 12_345 });
    expect(z.body.totals.byTender).toEqual(x.body.totals.byTender);
    expect(z.body.difference).toBe(12_345 - z.body.totals.expectedCash);
    const next = await api.call<Body>('POST', '/api/v1/shifts', { openingCash: 20_000 });
    expect(next.status).toBe(201);
    expect(next.body).toMatchObject({ kind: 'X', openingCash: 20_000 });
    const previous = await api.call<Body>('GET', `/api/v1/shifts/${x.body.shiftId}`);
    expect(previous.body).toMatchObject({ kind: 'Z', countedCash: 12_345 });
  });

  it('pages the ledger with gapless seq, a verifying chain and sync state', async () => {
    const all: LedgerRecord[] = [];
    let after = 0;
    let epoch = '';
    for (;;) {
      const page = await api.call<{ epoch: string; records: Array<LedgerRecord & { sync: string }> }>(
        'GET',
        `/api/v1/ledger?afterSeq=${after}&limit=3`,
      );
      epoch = page.body.epoch;
      if (page.body.records.length === 0) break;
      for (const r of page.body.records) expect(r.sync).toBe('pending');
      all.push(...page.body.records);
      after = page.body.records.at(-1)!.seq;
    }
    expect(epoch).toMatch(/^[0-9a-f-]{36}$/);
    expect(all.length).toBeGreaterThan(5);
    expect(all.map((r) => r.seq)).toEqual(all.map((_, i) => i + 1));
    expect(verifyChain(all)).toBeUndefined();
  });
});
