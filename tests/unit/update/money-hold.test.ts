import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/offline/db.js';
import { type SaleDoc, SalesStore } from '../../../src/offline/sales-store.js';
import { moneyHold } from '../../../src/update/money-hold.js';
import { tempDir } from '../../helpers/daemon.js';
import { silentLogger } from '../../helpers/test-log.js';

const at = '2026-01-05T14:00:00.000Z';

function req(method: string, url: string): IncomingMessage {
  return { method, url } as IncomingMessage;
}

describe('the hold from the last money check to the reboot', () => {
  it('refuses new payments and recharges, at the door (UPDATE_RESTARTING) and in the database; opened again, selling goes on', () => {
    const db = openDatabase({ file: join(tempDir('posd-hold-'), 'posd.db'), log: silentLogger() });
    const store = new SalesStore(db); // its statements are prepared before the hold: they see it all the same
    store.insertSale({
      id: 's1',
      kind: 'sale',
      originalSaleId: null,
      status: 'open',
      currency: 'CNY',
      total: 500,
      receiptNo: null,
      shiftId: null,
      doc: {} as SaleDoc,
      createdAt: at,
      completedAt: null,
      voidedAt: null,
    });
    const pay = (id: string) =>
      store.insertPayment(
        's1',
        { paymentId: id, method: 'qr', channel: 'wechat', amount: 500, change: 0, status: 'pending' },
        at,
      );
    const hold = moneyHold(db);
    hold.close('2.0.0');
    for (const [method, url] of [
      ['POST', '/api/v1/sales'],
      ['POST', '/api/v1/sales/s1/payments'],
      ['POST', '/api/v1/sales/s1/refunds'],
      ['POST', '/api/v1/members/m1/recharges'],
      ['POST', '/api/v1/orders/o1/checkout'],
    ] as const) {
      expect(() => hold.guard(req(method, url)), url).toThrow(
        expect.objectContaining({ code: 'UPDATE_RESTARTING' }),
      );
    }
    // What settles money in flight stays open: a QR's cancel, a void, reading.
    hold.guard(req('POST', '/api/v1/payments/p0/cancel'));
    hold.guard(req('POST', '/api/v1/sales/s1/void'));
    hold.guard(req('GET', '/api/v1/sales/s1'));
    // A request already past the door: its payment row is refused, so no request reaches the acquirer.
    expect(() => pay('p1')).toThrow(/UPDATE_RESTARTING/);
    expect(db.prepare('SELECT count(*) AS n FROM payments').get()).toEqual({ n: 0 });
    hold.open();
    hold.guard(req('POST', '/api/v1/sales/s1/payments'));
    pay('p2');
    expect(db.prepare('SELECT id FROM payments').all()).toEqual([{ id: 'p2' }]);
    db.close();
  });
});
