import fc from 'fast-check';

/**
 * Arbitraries from the JSON Schema (TypeBox) the code validates with: valid documents, the same
 * documents mutated in one or a few places, and hostile JSON values (wrong types, huge arrays,
 * deep nesting, prototype-pollution keys).
 */

type Schema = Record<string, unknown>;

/** TypeBox schemas carry symbol keys; the JSON form is what the generator reads. */
export function plainSchema(schema: unknown): Schema {
  return JSON.parse(JSON.stringify(schema)) as Schema;
}

const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

/** Any JSON value, small. */
export const anyJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3 }).map((v) => v as unknown);

/** Values built to break parsers and validators. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    true,
    0,
    -1,
    1.5,
    -0,
    2 ** 53,
    1e308,
    '',
    '0',
    'null',
    '\u0000',
    '\ud800',
    '%00',
    '../../etc/passwd',
    '<script>',
    [],
    {},
    [null],
  ),
  fc.constantFrom(...FORBIDDEN_KEYS).map((k) => JSON.parse(`{"${k}": {"polluted": true}}`) as unknown),
  fc.integer({ min: 1_000, max: 50_000 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 1_000, max: 20_000 }).map((n) => new Array(n).fill(0)),
  fc.integer({ min: 50, max: 1_000 }).map((depth) => deepNest(depth)),
  anyJson,
);

/** `{"a":{"a":…}}` `depth` levels deep (built from text so building it cannot overflow). */
export function deepNest(depth: number): unknown {
  return JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
}

function stringArb(s: Schema): fc.Arbitrary<string> {
  const min = typeof s.minLength === 'number' ? s.minLength : 0;
  const max = typeof s.maxLength === 'number' ? Math.min(s.maxLength, min + 40) : min + 20;
  if (typeof s.pattern === 'string') {
    const re = new RegExp(s.pattern);
    return fc
      .stringMatching(re)
      .filter((v) => v.length >= min && (typeof s.maxLength !== 'number' || v.length <= s.maxLength));
  }
  if (s.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
  return fc.string({ minLength: min, maxLength: max });
}

function numberArb(s: Schema, integer: boolean): fc.Arbitrary<number> {
  const min = typeof s.minimum === 'number' ? s.minimum : integer ? -1_000_000 : -1e6;
  const max = typeof s.maximum === 'number' ? s.maximum : integer ? 1_000_000 : 1e6;
  const lo = typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum + (integer ? 1 : 1e-9) : min;
  const hi = typeof s.exclusiveMaximum === 'number' ? s.exclusiveMaximum - (integer ? 1 : 1e-9) : max;
  // Small values most of the time: sums of huge amounts only ever meet the overflow checks.
  const small = fc.integer({ min: Math.max(lo, 0), max: Math.max(Math.min(hi, 1_000), Math.max(lo, 0)) });
  return integer
    ? fc.oneof({ weight: 3, arbitrary: small }, fc.integer({ min: lo, max: hi }), fc.constantFrom(lo, hi))
    : fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
}

/** Documents valid under `schema` (the subset of JSON Schema TypeBox emits). */
export function validArb(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const alts = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (Array.isArray(alts)) return fc.oneof(...alts.map((a) => validArb(a, depth)));
  if (Array.isArray(schema.allOf)) return validArb(Object.assign({}, ...(schema.allOf as Schema[])), depth);
  const type = schema.type;
  if (Array.isArray(type)) return fc.oneof(...type.map((t) => validArb({ ...schema, type: t }, depth)));
  switch (type) {
    case 'string':
      return stringArb(schema);
    case 'integer':
      return numberArb(schema, true);
    case 'number':
      return numberArb(schema, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const items = (schema.items as Schema | undefined) ?? {};
      const minLength = typeof schema.minItems === 'number' ? schema.minItems : 0;
      const maxLength = Math.min(typeof schema.maxItems === 'number' ? schema.maxItems : 4, minLength + 4);
      const arr = fc.array(validArb(items, depth + 1), { minLength, maxLength });
      return schema.uniqueItems
        ? arr
            .map((a) => [...new Map(a.map((v) => [JSON.stringify(v), v])).values()])
            .filter((a) => a.length >= minLength)
        : arr;
    }
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      const required = new Set((schema.required ?? []) as string[]);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) record[k] = validArb(v, depth + 1);
      const requiredKeys = Object.keys(props).filter((k) => required.has(k));
      let obj: fc.Arbitrary<Record<string, unknown>> = fc.record(record, { requiredKeys });
      const pattern = schema.patternProperties as Record<string, Schema> | undefined;
      if (pattern && Object.keys(props).length === 0) {
        const [re, value] = Object.entries(pattern)[0]!;
        obj = fc.dictionary(fc.stringMatching(new RegExp(re)), validArb(value, depth + 1), { maxKeys: 3 });
      }
      return obj;
    }
    default:
      // {} (Unknown): anything JSON.
      return depth > 4 ? fc.constant(null) : anyJson;
  }
}

type Path = Array<string | number>;

function paths(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (out.length > 200) return out;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && out.length <= 200; i++) paths(value[i], [...prefix, i], out);
  } else if (value !== null && typeof value === 'object')
    for (const k of Object.keys(value)) paths((value as Record<string, unknown>)[k], [...prefix, k], out);
  return out;
}

export type Mutation =
  | { kind: 'replace'; at: number; value: unknown }
  | { kind: 'delete'; at: number }
  | { kind: 'add-key'; at: number; key: string; value: unknown };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: hostileValue }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('add-key' as const),
    at: fc.nat(),
    key: fc.oneof(fc.constantFrom(...FORBIDDEN_KEYS), fc.string({ maxLength: 8 })),
    value: hostileValue,
  }),
);

/** `doc` with the mutations applied (on a copy); a `__proto__` key is added as an own property, as JSON.parse would. */
export function applyMutations(doc: unknown, mutations: Mutation[]): unknown {
  let root = structuredClone(doc);
  for (const m of mutations) {
    const all = paths(root);
    const path = all[m.at % all.length]!;
    if (path.length === 0) {
      if (m.kind === 'replace') root = m.value;
      else if (m.kind === 'add-key' && root !== null && typeof root === 'object' && !Array.isArray(root))
        Object.defineProperty(root, m.key, {
          value: m.value,
          enumerable: true,
          configurable: true,
          writable: true,
        });
      continue;
    }
    const parent = path
      .slice(0, -1)
      .reduce<unknown>((node, k) => (node as Record<string, unknown>)[k], root) as
      | Record<string | number, unknown>
      | unknown[];
    const last = path[path.length - 1]!;
    if (m.kind === 'replace') (parent as Record<string | number, unknown>)[last] = m.value;
    else if (m.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last as string];
    } else {
      const target = (parent as Record<string | number, unknown>)[last];
      if (target !== null && typeof target === 'object' && !Array.isArray(target))
        Object.defineProperty(target, m.key, {
          value: m.value,
          enumerable: true,
          configurable: true,
          writable: true,
        });
    }
  }
  return root;
}

/** A valid document changed in 1 to 3 places. */
export function mutatedArb(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc
    .tuple(valid, fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
    .map(([doc, ms]) => applyMutations(doc, ms));
}

/** Valid, mutated and hostile documents for `schema`, as JSON text. */
export function documentsFor(
  schema: unknown,
): fc.Arbitrary<{ kind: 'valid' | 'mutated' | 'hostile'; doc: unknown }> {
  const valid = validArb(plainSchema(schema));
  return fc.oneof(
    { weight: 3, arbitrary: valid.map((doc) => ({ kind: 'valid' as const, doc })) },
    { weight: 4, arbitrary: mutatedArb(valid).map((doc) => ({ kind: 'mutated' as const, doc })) },
    { weight: 2, arbitrary: hostileValue.map((doc) => ({ kind: 'hostile' as const, doc })) },
  );
}

/** Nothing has been added to the shared prototypes. */
export function prototypesClean(): boolean {
  const probe = {} as Record<string, unknown>;
  return probe.polluted === undefined && (Object.prototype as Record<string, unknown>).polluted === undefined;
}
