import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BusinessConfigSchema, businessProblems, resolveBusiness } from '../../src/config/business.js';
import { envKeys } from '../../src/config/env.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { tempDir } from '../helpers/daemon.js';
import { fuzzParams } from './helpers/fuzz-env.js';
import { documentsFor, hostileValue, prototypesClean } from './helpers/schema-arb.js';

/*
 * The local config file, its POSD_* environment overrides and the business config the cloud
 * pushes: either accepted (and then valid under the schema) or refused with every problem as
 * `path: message`, never any other exception.
 */

const dir = tempDir('posd-fuzz-config-');
const file = join(dir, 'posd.json');
const PROBLEM = /^[^\n]+: \S/;

type Outcome = { ok: true; config: unknown } | { ok: false; problems: string[] };

function load(text: string | Buffer, env: NodeJS.ProcessEnv = {}): Outcome {
  writeFileSync(file, text);
  try {
    return { ok: true, config: loadConfig({ file, env }).config };
  } catch (err) {
    // Anything but the coded config error fails the property.
    if (!(err instanceof ConfigError)) throw err;
    expect(err.code).toBe('CONFIG_INVALID');
    return { ok: false, problems: err.problems };
  }
}

function checkOutcome(out: Outcome): void {
  expect(prototypesClean()).toBe(true);
  if (out.ok) {
    expect(Value.Check(ConfigSchema, out.config)).toBe(true);
    expect(Object.getPrototypeOf(out.config)).toBe(Object.prototype);
  } else {
    expect(out.problems.length).toBeGreaterThan(0);
    for (const p of out.problems) expect(p).toMatch(PROBLEM);
  }
}

const ENV_NAMES = [...envKeys(ConfigSchema).keys()];

describe('local config file (loadConfig)', () => {
  it('any bytes or JSON text: accepted and valid, or refused with path: message problems', () => {
    const text = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      fc.string({ maxLength: 200 }),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc.constantFrom('', '{', '[]', 'null', '{"__proto__":{}}', '\ufeff{}'),
      fc.constantFrom('[', '{"a":').map((open) => `{"device":${open.repeat(100_000)}`),
      fc.constant(`{"ledger":${'['.repeat(100_000)}${']'.repeat(100_000)}}`),
    );
    fc.assert(
      fc.property(text, (t) => checkOutcome(load(t))),
      fuzzParams(40),
    );
  });

  it('valid, mutated and hostile configs (wrong types, unknown and prototype keys, huge values)', () => {
    fc.assert(
      fc.property(documentsFor(ConfigSchema), ({ doc }) => {
        const text = JSON.stringify(doc) ?? 'null';
        const out = load(text);
        checkOutcome(out);
        // A key that is not in the schema is never accepted silently, `__proto__` included.
        if (out.ok && doc !== null && typeof doc === 'object' && !Array.isArray(doc)) {
          for (const k of Object.keys(doc)) expect(Object.keys(ConfigSchema.properties)).toContain(k);
        }
      }),
      fuzzParams(40),
    );
  });

  it('any POSD_* environment values over a valid file', () => {
    const env = fc.dictionary(
      fc.oneof(fc.constantFrom(...ENV_NAMES), fc.constantFrom('POSD_', 'POSD___PROTO__', 'POSD_DEVICE_NOPE')),
      fc.oneof(
        fc.string({ maxLength: 30 }),
        fc.constantFrom('', '0', '-1', '1e3', '99999999999', 'true', 'null', '{}'),
      ),
      { maxKeys: 4 },
    );
    fc.assert(
      fc.property(env, (e) => checkOutcome(load('{"device":{"tenant":"t1","id":"D1"}}', e))),
      fuzzParams(40),
    );
  });

  // Found by this fuzzer: `__proto__` in the file became the merged config's prototype, so its
  // values were taken (stateDir here) and the unknown key passed without a word.
  it('regression: a __proto__ key in the file is an unknown key, and nothing under it is used', () => {
    const out = load('{"device":{"tenant":"t","id":"d"},"__proto__":{"stateDir":"/tmp/evil","polluted":1}}');
    expect(out).toEqual({ ok: false, problems: ['__proto__: unknown key'] });
    const nested = load('{"device":{"tenant":"t","id":"d","__proto__":{"x":1}},"stateDir":"/tmp/x"}');
    expect(nested).toEqual({ ok: false, problems: ['device.__proto__: unknown key'] });
    const deep = load(`{"printer":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    expect(deep).toEqual({ ok: false, problems: [`(file): ${file} nests deeper than 64 levels`] });
    expect(prototypesClean()).toBe(true);
  });
});

describe('business config (the doc of down/config)', () => {
  it('valid, mutated and hostile docs: valid ones resolve, the others list each problem as path: message', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          documentsFor(BusinessConfigSchema),
          hostileValue.map((doc) => ({ kind: 'hostile', doc })),
        ),
        ({ kind, doc }) => {
          const problems = businessProblems(doc);
          expect(prototypesClean()).toBe(true);
          expect(problems.length).toBeLessThanOrEqual(50);
          for (const p of problems) expect(p).toMatch(PROBLEM);
          if (kind === 'valid') expect(problems).toEqual([]);
          if (problems.length === 0) {
            const resolved = resolveBusiness(doc as never);
            expect(Array.isArray(resolved.catalog.items)).toBe(true);
            expect(typeof resolved.currency).toBe('string');
          }
        },
      ),
      fuzzParams(80),
    );
  });
});
