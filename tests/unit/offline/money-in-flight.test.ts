import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/offline/db.js';
import { MoneyInFlightStore } from '../../../src/offline/money-in-flight.js';
import { type SaleDoc, SalesStore } from '../../../src/offline/sales-store.js';
import { blockerReasons } from '../../../src/update/safe-moment.js';
import { tempDir } from '../../helpers/daemon.js';
import { silentLogger } from '../../helpers/test-log.js';

const at = '2026-01-05T14:00:00.000Z';

describe('what a reboot into an update would cut short', () => {
  it('counts open sales holding money, print jobs printing and recharges not answered yet; not what is settled', () => {
    const db = openDatabase({ file: join(tempDir('posd-inflight-'), 'posd.db'), log: silentLogger() });
    const sales = new SalesStore(db);
    const inFlight = new MoneyInFlightStore(db);
    const sale = (id: string, status: 'open' | 'completed') =>
      sales.insertSale({
        id,
        kind: 'sale',
        originalSaleId: null,
        status,
        currency: 'CNY',
        total: 500,
        receiptNo: null,
        shiftId: null,
        doc: {} as SaleDoc,
        createdAt: at,
        completedAt: status === 'completed' ? at : null,
        voidedAt: null,
      });
    const pay = (saleId: string, id: string, method: 'cash' | 'qr', status: string) =>
      sales.insertPayment(
        saleId,
        {
          paymentId: id,
          method,
          channel: method === 'cash' ? 'cash' : 'wechat',
          amount: 200,
          change: 0,
          status,
        } as never,
        at,
      );
    expect(inFlight.figures()).toEqual({ openSalesWithPayments: 0, printing: 0, rechargesPending: 0 });
    sale('open-cash', 'open');
    pay('open-cash', 'p1', 'cash', 'succeeded'); // part paid in cash, the rest to come
    sale('open-failed', 'open');
    pay('open-failed', 'p2', 'qr', 'failed'); // nothing taken
    sale('done', 'completed');
    pay('done', 'p3', 'cash', 'succeeded');
    db.prepare(
      `INSERT INTO recharges (id, member_id, amount, tender, status, created_at, updated_at)
       VALUES ('r1', 'm1', 10000, 'cash', 'pending', ?, ?), ('r2', 'm1', 5000, 'cash', 'confirmed', ?, ?)`,
    ).run(at, at, at, at);
    const f = inFlight.figures();
    expect(f).toEqual({ openSalesWithPayments: 1, printing: 0, rechargesPending: 1 });
    expect(blockerReasons({ ...f, unresolvedPayments: 0, reversalsOwed: 0 })).toEqual([
      '1 open sale(s) with payments',
      '1 recharge(s) not answered yet',
    ]);
    db.close();
  });
});
