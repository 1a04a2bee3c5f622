import { describe, expect, it } from 'vitest';
import { PosError } from '../../../src/errors.js';
import { takePulledOrders } from '../../../src/sync/pulled-orders.js';
import { silentLogger } from '../../helpers/test-log.js';

const page = [
  { downSeq: 4, order: { id: 'o4' } },
  { downSeq: 5, order: { id: 'o5' } },
  { downSeq: 6, order: { id: 'o6' } },
];

describe('a page of pulled orders', () => {
  it('takes every order and answers for the whole page', () => {
    const taken: unknown[] = [];
    const r = takePulledOrders(page, 3, (_d, o) => taken.push(o), silentLogger());
    expect(r).toEqual({ upTo: 6, complete: true });
    expect(taken).toHaveLength(3);
  });

  it('refuses a malformed order and goes on: the cloud would send it malformed again', () => {
    const taken: string[] = [];
    const r = takePulledOrders(
      page,
      3,
      (_d, o) => {
        const id = (o as { id: string }).id;
        if (id === 'o5') throw new PosError('VALIDATION_FAILED', 'order: /lines bad');
        taken.push(id);
      },
      silentLogger(),
    );
    expect(r).toEqual({ upTo: 6, complete: true });
    expect(taken).toEqual(['o4', 'o6']);
  });

  it('stops at an order it could not store (disk full): the watermark never passes an order not held', () => {
    const taken: string[] = [];
    const r = takePulledOrders(
      page,
      3,
      (_d, o) => {
        const id = (o as { id: string }).id;
        if (id === 'o5') throw new PosError('STORAGE_FULL', 'storage is full: nothing was recorded');
        taken.push(id);
      },
      silentLogger(),
    );
    expect(r).toEqual({ upTo: 4, complete: false });
    expect(taken).toEqual(['o4']);
  });

  it('keeps the order id as the cloud sent it and makes its text printable', () => {
    const seen: unknown[] = [];
    takePulledOrders(
      [{ downSeq: 1, order: { id: 'a\u001bb', note: 'x\u001bp' } }],
      0,
      (_d, o) => seen.push(o),
      silentLogger(),
    );
    expect(seen[0]).toMatchObject({ id: 'a\u001bb' });
    expect(JSON.stringify(seen[0])).not.toContain('x\\u001bp');
  });
});
