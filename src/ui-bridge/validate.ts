import type { Static, TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { PosError } from '../errors.js';

/** Checks a request body against its schema; every problem is named as `path: message`. */
const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checkerFor<S extends TSchema>(schema: S): TypeCheck<S> {
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  return check as TypeCheck<S>;
}

export function validateBody<S extends TSchema>(schema: S, body: unknown): Static<S> {
  if (body === undefined) throw new PosError('BAD_REQUEST', 'a JSON body is required');
  const check = checkerFor(schema);
  if (check.Check(body)) return body as Static<S>;
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const e of check.Errors(body)) {
    const path = e.path.replace(/^\//, '').replaceAll('/', '.') || '(body)';
    if (seen.has(path)) continue;
    seen.add(path);
    problems.push(`${path}: ${e.message}`);
    if (problems.length >= 10) break;
  }
  if (problems.length > 0) {
    throw new PosError('VALIDATION_FAILED', problems.join('; '), { problems });
  }
  return body as Static<S>;
}

export function intQuery(
  query: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw)) throw new PosError('BAD_REQUEST', `${name} must be a whole number`);
  const value = Number(raw);
  if (value < min || value > max)
    throw new PosError('BAD_REQUEST', `${name} must be between ${min} and ${max}`);
  return value;
}
