import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CloudStore } from '../../../cloud/store.js';
import { canonicalJson, chainOf, chainOfCanonicalBody, GENESIS_CHAIN } from '../../../src/offline/chain.js';
import { tempDir } from '../../helpers/daemon.js';

// Strings with lone surrogates, controls and astral characters; keys V8 or the library treat apart.
const text = fc.string({ unit: 'binary', maxLength: 12 });
const key = fc.oneof(text, fc.constantFrom('__proto__', 'toJSON', '10', '9', '1e21', '', 'é', 'E'));
const leaf = fc.oneof(
  text,
  fc.boolean(),
  fc.constant(null),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(1e21, -0, 5e-324, 0.1, 1e-7, 2 ** 53 + 2, -1e300),
);
const { body } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('value'), { maxLength: 4 }), tie('body')),
  body: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
}));

// The cloud checks a chain on canonicalJson of the body it parsed from the wire (JSON.stringify for
// a canonical body); the device chains canonicalize({seq, id, type, at, body}). Both must agree on
// every body a device can hold, or a right chain is refused / a wrong one accepted.
describe('chain check on the canonical body text', () => {
  it('any body, as the cloud parses it from the wire, checks as the device chained it; another body does not', () => {
    fc.assert(
      fc.property(body, body, fc.integer({ min: 1, max: 2 ** 40 }), text, (a, b, seq, at) => {
        const record = { seq, id: 'r-1', type: 'sale.completed', at, body: a };
        const chain = chainOf(GENESIS_CHAIN, record);
        const wire = JSON.parse(JSON.stringify({ ...record, chain })) as typeof record & { chain: string };
        const onCloud = chainOfCanonicalBody(
          GENESIS_CHAIN,
          wire.seq,
          wire.id,
          wire.type,
          wire.at,
          canonicalJson(wire.body),
        );
        expect(onCloud).toBe(chain);
        const other = chainOfCanonicalBody(GENESIS_CHAIN, seq, 'r-1', 'sale.completed', at, canonicalJson(b));
        expect(other === chain).toBe(canonicalJson(b) === canonicalJson(a));
      }),
      { numRuns: 1500 },
    );
  });

  it('the SQLite store acks a run of such records and refuses one whose body was changed on the way', () => {
    const store = new CloudStore(join(tempDir('posd-chaincheck-'), 'cloud.db'));
    let n = 0;
    fc.assert(
      fc.property(fc.array(body, { minLength: 1, maxLength: 4 }), (bodies) => {
        const device = `D${++n}`;
        let prev = GENESIS_CHAIN;
        const records = bodies.map((b, i) => {
          const r = {
            seq: i + 1,
            id: `${device}-${i}`,
            type: 'sale.completed',
            at: '2026-12-05T10:00:00Z',
            body: b,
          };
          prev = chainOf(prev, r);
          return { ...r, chain: prev };
        });
        const wire = JSON.parse(JSON.stringify(records)) as typeof records;
        const ack = store.ingest('t', device, 'E', wire);
        expect(ack).toMatchObject({ ackedUpTo: records.length, rejected: [] });
        const tampered = JSON.parse(JSON.stringify(records)) as typeof records;
        tampered[0]!.body = { ...tampered[0]!.body, tampered: 'x'.repeat(20) };
        const refused = store.ingest('t', `${device}x`, 'E', tampered);
        expect(refused.rejected[0]).toMatchObject({ seq: 1, code: 'CHAIN_BROKEN' });
      }),
      { numRuns: 150 },
    );
    store.close();
  });
});
