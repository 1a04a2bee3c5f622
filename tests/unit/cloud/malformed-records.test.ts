import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CloudService } from '../../../cloud/cloud-service.js';
import { parseLedgerBatch } from '../../../cloud/ledger-batch.js';
import { chainedSales } from '../../helpers/chained-records.js';
import { tempDir } from '../../helpers/daemon.js';

/*
 * mqtt-v1: a rejected record stays rejected and does not block later records. A record whose
 * fields cannot be stored or checked (no body, a chain that is not one, NUL in its type) is stored
 * as rejected with INVALID_RECORD and acked: before, it made the whole batch fail, unacked, so the
 * device sent it again for ever and nothing it recorded later reached the cloud.
 */

const { privateKey } = generateKeyPairSync('ed25519');
const cloud = new CloudService({
  brokerUrl: 'mqtt://unused',
  dbFile: join(tempDir('posd-cloud-'), 'cloud.db'),
  signingKey: privateKey,
});
afterAll(() => cloud.store.close());

type Rec = Record<string, unknown>;

const chained = (count: number, prefix: string): Rec[] =>
  chainedSales(
    Array.from({ length: count }, (_, i) => ({
      id: `${prefix}-${i + 1}`,
      body: { saleId: `${prefix}-${i + 1}`, total: 100 + i },
    })),
    '2026-12-05T10:00:00.000Z',
  ).map((r) => ({ ...r }));

let devices = 0;
/** JSON no JSON.stringify writes: a number past a double's range, arrays nested past the stack. */
const RAW_BODIES = ['{"total":1e400}', `{"lines":${'['.repeat(20_000)}${']'.repeat(20_000)}}`];
/** The batch as text; a field set to `@raw:N` goes out as RAW_BODIES[N]. */
const send = (device: string, records: Rec[]) =>
  cloud.handleLedgerBatch(
    't1',
    device,
    JSON.stringify({ epoch: 'E1', records }).replace(
      /"@raw:(\d)"/g,
      (_, n: string) => RAW_BODIES[Number(n)]!,
    ),
  );

describe('reference cloud: a record it cannot store as sent', () => {
  it('is stored as rejected and acked; the records after it are facts; a resend is a duplicate', () => {
    const records = chained(4, 'm');
    const { body: _dropped, ...bodiless } = records[1]!;
    records[1] = bodiless;
    records[2] = { ...records[2]!, type: 'sale.\u0000completed' };
    records[3] = { ...records[3]!, id: 'x'.repeat(513) };
    const ack = send('MALFORMED', records)!;
    expect(ack.ackedUpTo).toBe(4);
    expect(ack.rejected).toEqual([
      { seq: 2, code: 'INVALID_RECORD', message: 'seq 2: body is not a JSON object' },
      { seq: 3, code: 'INVALID_RECORD', message: 'seq 3: type is not a text' },
      { seq: 4, code: 'INVALID_RECORD', message: 'seq 4: id is not a text of 1 to 512 characters' },
    ]);
    expect(cloud.store.facts('t1', 'MALFORMED').map((r) => r.id)).toEqual(['m-1']);
    // The next batch is not held up by them.
    const next = chained(5, 'm')[4]!;
    next.seq = 5;
    expect(send('MALFORMED', [next])?.ackedUpTo).toBe(5);
    expect(cloud.store.facts('t1', 'MALFORMED').map((r) => r.id)).toEqual(['m-1', 'm-5']);
    // The ack lost, the same batch again: nothing new, no SEQ_CONFLICT.
    const again = send('MALFORMED', records)!;
    expect(again).toEqual({ ...ack, ackedUpTo: 5 });
    expect(cloud.store.records('t1', 'MALFORMED')).toHaveLength(5);
  });

  it('whatever a record holds besides its seq, the batch is acked to its end; resent, it is the same ack', () => {
    const fields = ['id', 'type', 'at', 'body', 'chain'] as const;
    const damage = fc.record({
      index: fc.nat(),
      field: fc.constantFrom(...fields),
      value: fc.option(fc.oneof(fc.jsonValue(), fc.constantFrom('@raw:0', '@raw:1')), { nil: undefined }),
    });
    // Fields a device never sends: whatever they hold, they change nothing.
    const extra = fc.record({
      index: fc.nat(),
      name: fc.constantFrom('fault', 'bodyText', 'status', 'note'),
      value: fc.jsonValue(),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(damage, { maxLength: 6 }),
        fc.array(extra, { maxLength: 3 }),
        (count, damages, extras) => {
          const device = `D${++devices}`;
          const records = chained(count, device);
          const original = records.map((r) => ({ ...r }));
          for (const d of damages) {
            const r = records[d.index % count]!;
            if (d.value === undefined) delete r[d.field];
            else r[d.field] = d.value;
          }
          for (const x of extras) records[x.index % count]![x.name] = x.value;
          const ack = send(device, records)!;
          expect(ack.ackedUpTo).toBe(count);
          expect(ack.rejected.every((x) => x.code === 'INVALID_RECORD' || x.code === 'CHAIN_BROKEN')).toBe(
            true,
          );
          // A record untouched after an untouched chain is a fact; every other one is rejected.
          const same = (i: number, f: string) =>
            JSON.stringify(records[i]![f]) === JSON.stringify(original[i]![f]);
          const intact = (i: number) => fields.every((f) => same(i, f));
          const expectedFacts = original
            .filter((_, i) => intact(i) && (i === 0 || same(i - 1, 'chain')))
            .map((r) => r.id);
          expect(cloud.store.facts('t1', device).map((r) => r.id)).toEqual(expectedFacts);
          expect(new Set(ack.rejected.map((x) => x.seq)).size + expectedFacts.length).toBe(count);
          expect(send(device, records)).toEqual(ack);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a record without a usable seq is not one the ack can name: left out, the rest of the batch kept', () => {
    const batch = parseLedgerBatch(
      JSON.stringify({
        epoch: 'E',
        records: [null, 7, { seq: '1' }, { seq: -1 }, { seq: 1.5 }, chained(1, 'k')[0]],
      }),
    );
    expect(batch?.records.map((r) => [r.seq, r.fault])).toEqual([[1, undefined]]);
    expect(parseLedgerBatch('{"epoch":')).toBeUndefined();
    expect(parseLedgerBatch(JSON.stringify({ epoch: 5, records: [] }))).toBeUndefined();
    expect(parseLedgerBatch(JSON.stringify({ epoch: 'E\u0000', records: [] }))).toBeUndefined();
  });
});
