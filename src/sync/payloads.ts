import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { nestedDeeperThan } from '../core/json-depth.js';

const Str = (max = 200) => Type.String({ maxLength: max });

/** Downlink payloads of mqtt-v1, each validated before anything is done with it. */
export const AckPayload = Type.Object({
  epoch: Str(64),
  ackedUpTo: Type.Integer({ minimum: 0 }),
  rejected: Type.Optional(
    Type.Array(Type.Object({ seq: Type.Integer({ minimum: 1 }), code: Str(64), message: Str(500) }), {
      maxItems: 10_000,
    }),
  ),
});

export const ConfigEnvelopePayload = Type.Object({
  version: Type.Integer({ minimum: 1 }),
  issuedAt: Str(40),
  doc: Type.Record(Type.String(), Type.Unknown()),
  sig: Str(200),
});

export const OrderPushPayload = Type.Object({
  downSeq: Type.Integer({ minimum: 0 }),
  order: Type.Record(Type.String(), Type.Unknown()),
});

export const CommandPayload = Type.Object({
  cmdId: Str(100),
  name: Str(64),
  args: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  issuedAt: Str(40),
  expiresAt: Str(40),
  sig: Str(200),
});

export const ResponsePayload = Type.Object({
  reqId: Str(100),
  ok: Type.Boolean(),
  result: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.Object({ code: Str(64), message: Str(1000) })),
});

export const NotifyPayload = Type.Object({
  type: Type.Literal('payment'),
  paymentId: Str(100),
  status: Str(32),
});

export type Ack = Static<typeof AckPayload>;
export type ConfigEnvelopeMessage = Static<typeof ConfigEnvelopePayload>;
export type OrderPush = Static<typeof OrderPushPayload>;
export type Command = Static<typeof CommandPayload>;
export type Response = Static<typeof ResponsePayload>;
export type Notify = Static<typeof NotifyPayload>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string; raw: unknown };

export const MAX_PAYLOAD = 1024 * 1024;
/** Deeper JSON than any payload of mqtt-v1 needs; deeper still overflows the stack of whatever walks it. */
export const MAX_DEPTH = 64;

/** Parses a payload as a JSON object matching `schema`; explains the first problem when not. */
export function parsePayload<S extends TSchema>(schema: S, payload: Buffer): Parsed<Static<S>> {
  if (payload.length > MAX_PAYLOAD)
    return { ok: false, message: `payload over ${MAX_PAYLOAD} bytes`, raw: undefined };
  const text = payload.toString('utf8');
  if (nestedDeeperThan(text, MAX_DEPTH))
    return { ok: false, message: `payload nested deeper than ${MAX_DEPTH} levels`, raw: undefined };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, message: 'payload is not JSON', raw: undefined };
  }
  const check = compiled(schema);
  if (check.Check(value)) return { ok: true, value: value as Static<S> };
  const first = [...check.Errors(value)][0];
  return { ok: false, message: `${first?.path || '(payload)'}: ${first?.message ?? 'invalid'}`, raw: value };
}

/** The same check for a value already parsed (a field of a response). */
export function parseValue<S extends TSchema>(schema: S, value: unknown): Parsed<Static<S>> {
  const check = compiled(schema);
  if (check.Check(value)) return { ok: true, value: value as Static<S> };
  const first = [...check.Errors(value)][0];
  return { ok: false, message: `${first?.path || '(payload)'}: ${first?.message ?? 'invalid'}`, raw: value };
}

const cache = new WeakMap<TSchema, ReturnType<typeof TypeCompiler.Compile>>();
function compiled(schema: TSchema) {
  let c = cache.get(schema);
  if (!c) {
    c = TypeCompiler.Compile(schema);
    cache.set(schema, c);
  }
  return c;
}
