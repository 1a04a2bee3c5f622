import type { TSchema } from '@sinclair/typebox';

export interface EnvKey {
  path: string[];
  schema: TSchema;
}

/** `printer.paperWidth` → `POSD_PRINTER_PAPER_WIDTH`. */
export function envNameFor(path: readonly string[]): string {
  const words = path.flatMap((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').split('_'));
  return `POSD_${words.map((w) => w.toUpperCase()).join('_')}`;
}

/** Every leaf key of the schema, by its environment variable name. */
export function envKeys(schema: TSchema, prefix: string[] = []): Map<string, EnvKey> {
  const keys = new Map<string, EnvKey>();
  if (schema.type === 'object' && schema.properties) {
    for (const [name, child] of Object.entries(schema.properties as Record<string, TSchema>)) {
      for (const [env, key] of envKeys(child, [...prefix, name])) keys.set(env, key);
    }
  } else if (prefix.length > 0) {
    keys.set(envNameFor(prefix), { path: prefix, schema });
  }
  return keys;
}

function leafTypes(schema: TSchema): Set<string> {
  if (Array.isArray(schema.anyOf)) {
    return new Set((schema.anyOf as TSchema[]).flatMap((s) => [...leafTypes(s)]));
  }
  if (schema.const !== undefined) return new Set([typeof schema.const]);
  return new Set([String(schema.type)]);
}

/** Turns an environment string into the JSON value its key expects, or explains why it cannot. */
export function coerceEnvValue(raw: string, schema: TSchema): { value: unknown } | { error: string } {
  const types = leafTypes(schema);
  // A list: a JSON array (`["rauc","--conf","/x"]`), or comma- or space-separated (`mqtt.urls`).
  if (types.has('array')) {
    if (raw.trim().startsWith('[')) {
      try {
        const value = JSON.parse(raw) as unknown;
        if (Array.isArray(value)) return { value };
      } catch {
        // explained below
      }
      return { error: `must be a JSON array or a comma-separated list, got "${raw}"` };
    }
    return { value: raw.split(/[\s,]+/).filter((v) => v.length > 0) };
  }
  if (types.has('integer') || types.has('number')) {
    if (!/^-?\d+(\.\d+)?$/.test(raw.trim())) return { error: `must be a number, got "${raw}"` };
    return { value: Number(raw.trim()) };
  }
  if (types.has('boolean')) {
    const v = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return { value: true };
    if (['false', '0', 'no', 'off'].includes(v)) return { value: false };
    return { error: `must be true or false, got "${raw}"` };
  }
  return { value: raw };
}
