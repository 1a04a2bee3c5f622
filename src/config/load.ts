import { readFileSync } from 'node:fs';
import { Value, type ValueError } from '@sinclair/typebox/value';
import { nestedDeeperThan } from '../core/json-depth.js';
import { parseDeviceUri } from '../drivers/transport/uri.js';
import { describeError, PosError } from '../errors.js';
import { isLoopbackHost } from '../sync/broker-url.js';
import { loadPublicKey } from '../sync/signature.js';
import { CREDENTIAL_PREFIX, credentialPath } from './credentials.js';
import { coerceEnvValue, envKeys } from './env.js';
import { ConfigSchema, type PosdConfig } from './schema.js';

export const DEFAULT_CONFIG_FILE = '/etc/posd/posd.json';

/** Bad config: every problem at once, each as `path: message`. */
export class ConfigError extends PosError {
  constructor(readonly problems: string[]) {
    super('CONFIG_INVALID', `invalid config:\n${problems.join('\n')}`, { problems });
  }
}

export interface LoadedConfig {
  config: PosdConfig;
  warnings: string[];
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function setPath(target: Json, path: string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    if (!isObject(node[part])) node[part] = {};
    node = node[part] as Json;
  }
  node[path[path.length - 1]!] = value;
}

function friendly(error: ValueError): string {
  const { message, schema } = error;
  if (message === 'Expected required property') return 'is required';
  if (message === 'Unexpected property') return 'unknown key';
  if (Array.isArray(schema.anyOf) && schema.anyOf.every((s: { const?: unknown }) => s.const !== undefined)) {
    return `must be one of ${schema.anyOf.map((s: { const: unknown }) => String(s.const)).join(', ')}`;
  }
  if (typeof schema.pattern === 'string' && typeof schema.description === 'string') {
    return `must be ${schema.description}`;
  }
  return message.replace(/^Expected /, 'must be ');
}

function schemaProblems(value: unknown): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const e of Value.Errors(ConfigSchema, value)) {
    const path = e.path.replace(/^\//, '').replaceAll('/', '.') || '(root)';
    if (seen.has(path)) continue;
    seen.add(path);
    problems.push(`${path}: ${friendly(e)}`);
  }
  return problems;
}

/** `mqtt.url` and each of `mqtt.urls`, with the key to name in a problem. */
function brokerUrlKeys(mqtt: Json): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (typeof mqtt.url === 'string') out.push(['mqtt.url', mqtt.url]);
  if (Array.isArray(mqtt.urls)) {
    mqtt.urls.forEach((u, i) => {
      if (typeof u === 'string') out.push([`mqtt.urls.${i}`, u]);
    });
  }
  return out;
}

function brokerUrls(mqtt: Json): string[] {
  return [...new Set(brokerUrlKeys(mqtt).map(([, u]) => u))];
}

/** Checks beyond the schema; written defensively because it also runs on a config with schema errors. */
function semanticProblems(config: PosdConfig): string[] {
  const problems: string[] = [];
  for (const device of ['printer', 'scanner', 'display'] as const) {
    const uri = config[device]?.uri;
    if (typeof uri !== 'string') continue;
    try {
      parseDeviceUri(uri);
    } catch (err) {
      problems.push(`${device}.uri: ${describeError(err)}`);
    }
  }
  if (!isObject(config.mqtt) || !isObject(config.cloud)) return problems;
  const urls = brokerUrls(config.mqtt);
  const tls = urls.length > 0 && urls.every((u) => u.startsWith('mqtts://'));
  if (tls && (config.mqtt.cert === undefined) !== (config.mqtt.key === undefined)) {
    problems.push('mqtt.cert: a client certificate needs both mqtt.cert and mqtt.key');
  }
  if (!tls && (config.mqtt.cert || config.mqtt.key || config.mqtt.ca)) {
    problems.push('mqtt.url: TLS files are set but the broker URL is not mqtts://');
  }
  for (const key of ['ca', 'cert', 'key'] as const) {
    const file = config.mqtt[key];
    if (typeof file !== 'string' || file.startsWith(CREDENTIAL_PREFIX)) continue;
    try {
      readFileSync(file);
    } catch (err) {
      problems.push(
        `mqtt.${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? describeError(err)}`,
      );
    }
  }
  for (const [key, url] of brokerUrlKeys(config.mqtt)) {
    let host = '';
    try {
      host = new URL(url).hostname;
    } catch {
      problems.push(`${key}: not a valid URL`);
      continue;
    }
    if (url.startsWith('mqtt://') && host && !isLoopbackHost(host)) {
      problems.push(`${key}: plain mqtt:// is allowed only to a loopback host, not ${host}; use mqtts://`);
    }
  }
  const pem = config.cloud.publicKey;
  if (typeof pem === 'string' && !/-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----/.test(pem)) {
    problems.push('cloud.publicKey: must be a PEM public key (-----BEGIN PUBLIC KEY-----)');
  } else if (typeof pem === 'string') {
    try {
      loadPublicKey(pem);
    } catch (err) {
      problems.push(`cloud.publicKey: ${describeError(err)}`);
    }
  }
  return problems;
}

export interface LoadOptions {
  /** The config file; absent means only the embedded `base` and the environment. */
  file?: string;
  /** Values under the file (the demo's embedded defaults). */
  base?: Json;
  env?: NodeJS.ProcessEnv;
}

function readFile(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? describeError(err);
    throw new ConfigError([`(file): cannot read ${file}: ${code}`]);
  }
  if (nestedDeeperThan(text, MAX_FILE_DEPTH)) {
    throw new ConfigError([`(file): ${file} nests deeper than ${MAX_FILE_DEPTH} levels`]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`(file): ${file} is not valid JSON: ${describeError(err)}`]);
  }
  if (!isObject(parsed)) throw new ConfigError([`(file): ${file} must hold a JSON object`]);
  return parsed;
}

const MAX_FILE_DEPTH = 64;

/**
 * Removes every `__proto__` key of the parsed file, each reported as unknown: merging or filling
 * defaults would assign it, which sets the prototype (values smuggled past the schema).
 */
function takeProtoKeys(node: unknown, path: string[], problems: string[]): void {
  if (Array.isArray(node)) {
    node.forEach((v, i) => {
      takeProtoKeys(v, [...path, String(i)], problems);
    });
    return;
  }
  if (!isObject(node)) return;
  if (Object.hasOwn(node, '__proto__')) {
    problems.push(`${[...path, '__proto__'].join('.')}: unknown key`);
    Reflect.deleteProperty(node, '__proto__');
  }
  for (const [k, v] of Object.entries(node)) takeProtoKeys(v, [...path, k], problems);
}

function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k] as Json, v) : v;
  }
  return out;
}

/** `mqtt.key` as `credential:NAME`: the file systemd gave this process, or a warning where it gave none. */
function resolveCredentials(
  config: PosdConfig,
  env: NodeJS.ProcessEnv,
  warnings: string[],
  problems: string[],
) {
  if (!isObject(config.mqtt) || typeof config.mqtt.key !== 'string') return;
  const where = credentialPath(config.mqtt.key, env);
  if ('path' in where) config.mqtt.key = where.path;
  else if ('absent' in where) warnings.push(`mqtt.key: ${where.absent}`);
  else problems.push(`mqtt.key: ${where.problem}`);
}

/** File, then `POSD_*` environment overrides, then defaults; all problems are collected before failing. */
export function loadConfig(options: LoadOptions): LoadedConfig {
  const env = options.env ?? process.env;
  const warnings: string[] = [];
  const problems: string[] = [];
  let raw: Json = structuredClone(options.base ?? {});
  if (options.file !== undefined) {
    const file = readFile(options.file);
    takeProtoKeys(file, [], problems);
    raw = deepMerge(raw, file);
  }

  const keys = envKeys(ConfigSchema);
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('POSD_') || value === undefined) continue;
    const key = keys.get(name);
    if (!key) {
      warnings.push(`${name}: names no config key, ignored`);
      continue;
    }
    const coerced = coerceEnvValue(value, key.schema);
    if ('error' in coerced) problems.push(`${key.path.join('.')}: ${name} ${coerced.error}`);
    else setPath(raw, key.path, coerced.value);
  }

  const withDefaults = Value.Default(ConfigSchema, raw);
  resolveCredentials(withDefaults as PosdConfig, env, warnings, problems);
  problems.push(...schemaProblems(withDefaults), ...semanticProblems(withDefaults as PosdConfig));
  if (problems.length > 0) throw new ConfigError(problems);
  const config = withDefaults as PosdConfig;
  // One list of brokers (`mqtt.url` first); `mqtt.url` stays "the" broker for what names one.
  const urls = brokerUrls(config.mqtt);
  if (urls.length > 0) {
    config.mqtt.urls = urls;
    config.mqtt.url = urls[0];
  }
  return { config, warnings };
}
