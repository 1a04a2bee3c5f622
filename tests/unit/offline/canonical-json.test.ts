import { createHash } from 'node:crypto';
import { join } from 'node:path';
import canonicalizeModule from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  chainOf,
  GENESIS_CHAIN,
  sha256Hex,
  sha256HexStreamed,
} from '../../../src/offline/chain.js';
import { openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { tempDir } from '../../helpers/daemon.js';
import { silentLogger } from '../../helpers/test-log.js';

const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

// The chain and every signature hash RFC 8785 text: the fast path for a value already in canonical
// order (what the cloud parses from a device's batch) must write exactly what the library writes.
describe('canonical JSON', () => {
  it('any JSON value, in its own key order or parsed back from canonical text, is what RFC 8785 writes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const expected = canonicalize(value);
        expect(canonicalJson(value)).toBe(expected);
        expect(canonicalJson(JSON.parse(expected!))).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('keys V8 orders as indexes, undefined fields, toJSON and non-plain objects are written as the library does', () => {
    const odd: unknown[] = [
      { '10': 1, '9': 2, a: 3 },
      { b: undefined, a: 1 },
      { a: [1, undefined, 'x'] },
      { at: new Date(0) },
      { z: { y: 1, x: [{ d: 1, c: 2 }] }, '': -0, é: 'ü', A: '\u2028\u0001"\\' },
      Object.assign(Object.create(null) as object, { b: 1, a: 2 }),
    ];
    const withToJson = Object.assign([{ b: 1, a: 2 }], { toJSON: () => 'x' });
    class Listing extends Array {
      toJSON() {
        return 'listing';
      }
    }
    odd.push({ z: withToJson, a: 1 }, { b: Listing.from([{ d: 1, c: 2 }]), a: 1 });
    for (const value of odd) expect(canonicalJson(value)).toBe(canonicalize(value));
    // Nested deep: a thousand levels are written as the library writes them; far past the stack's
    // reach both refuse (between the two, where the stack ends depends on the compiler's frames).
    const nested = (depth: number) => {
      let deep: unknown = { b: 1, a: 2 };
      for (let i = 0; i < depth; i++) deep = i % 2 ? { z: deep, a: 1 } : [deep];
      return deep;
    };
    expect(canonicalJson(nested(1_000))).toBe(canonicalize(nested(1_000)));
    expect(() => canonicalJson(nested(100_000))).toThrow(RangeError);
    expect(() => canonicalize(nested(100_000))).toThrow(RangeError);
    expect(() => canonicalJson({ a: Number.NaN })).toThrow();
  });

  it('the uplink JSON SQLite builds reads back as the records, odd characters included', () => {
    const dir = tempDir();
    const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
    const ids = ['a"b\\c', 'tab\there\nnew', '收银\u0001\u001f', '😀\u2028'];
    let next = 0;
    const ledger = new Ledger({ db, dir, newId: () => ids[next++ % ids.length]! });
    ledger.transact(() => {
      ledger.append('sale.completed', { name: '拿铁 "大杯"\\', note: 'a\u0000b', n: 1.5 });
      ledger.append('note.added', { text: '😀\n' });
    });
    const wire = ledger.recordsJsonAfter(0, 10);
    expect(wire.map((r) => r.seq)).toEqual([1, 2]);
    expect(wire.map((r) => JSON.parse(r.json) as unknown)).toEqual(ledger.recordsAfter(0, 10));
    db.close();
  });
});

const outcome = (f: () => string): string => {
  try {
    return f();
  } catch {
    return 'refused';
  }
};

describe('the chain hash', () => {
  it('of any record is sha256 of the previous chain and the whole record in RFC 8785 text', () => {
    const odd = fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.double());
    const record = fc.record({
      seq: fc.oneof(fc.nat(), fc.double(), fc.constant(undefined)),
      id: fc.oneof(fc.string({ unit: 'binary' }), odd),
      type: fc.oneof(fc.string(), odd),
      at: fc.oneof(fc.string(), odd),
      body: fc.jsonValue(),
    });
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-f]{64}$/), record, (prev, r) => {
        const whole = { seq: r.seq, id: r.id, type: r.type, at: r.at, body: r.body };
        // A record without a canonical form (NaN, Infinity) is refused by both.
        expect(outcome(() => chainOf(prev, r as Parameters<typeof chainOf>[1]))).toBe(
          outcome(() => sha256Hex(prev, canonicalize(whole)!)),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('one-shot and streamed give the same sha256 for any text after a chain', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-f]{64}$/), fc.string({ unit: 'binary' }), (prev, text) => {
        expect(sha256Hex(prev, text)).toBe(sha256HexStreamed(prev, text));
      }),
      { numRuns: 1000 },
    );
    expect(sha256Hex(GENESIS_CHAIN, '{}')).toBe(
      createHash('sha256').update(`${GENESIS_CHAIN}{}`).digest('hex'),
    );
  });
});
