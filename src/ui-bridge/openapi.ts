import { type TSchema, Type } from '@sinclair/typebox';
import { APP_VERSION } from '../version.js';
import type { Route } from './http-server.js';
import type { RouteDoc } from './route-doc.js';

export const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'stable code: branch on it (src/errors.ts)' }),
    message: Type.String(),
  }),
});

const UNDOCUMENTED: RouteDoc = {
  summary: 'undocumented route',
  tag: 'other',
  responses: { 200: { description: 'see docs/local-api.md' } },
};

/** TypeBox schemas are JSON Schema; JSON drops TypeBox's symbol keys. */
function plain(schema: TSchema): unknown {
  return JSON.parse(JSON.stringify(schema));
}

function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, '{$1}');
}

function operation(route: Route, doc: RouteDoc): Record<string, unknown> {
  const params: unknown[] = [...route.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  for (const [name, q] of Object.entries(doc.query ?? {})) {
    params.push({ name, in: 'query', required: false, description: q.description, schema: { type: q.type } });
  }
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(doc.responses)) {
    responses[status] = r.schema
      ? {
          description: r.description,
          content: { [r.contentType ?? 'application/json']: { schema: plain(r.schema) } },
        }
      : { description: r.description };
  }
  const error = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  if (doc.body || params.length > 0) responses['400'] = { description: 'malformed request', ...error };
  if (doc.body) responses['422'] = { description: 'VALIDATION_FAILED or a business rule', ...error };
  if (route.auth) responses['401'] = { description: 'no token and no session', ...error };
  if (route.method !== 'GET') responses['403'] = { description: 'origin not allowed', ...error };
  responses.default = {
    description: `error; codes: ${(doc.errors ?? []).join(', ') || 'generic'}`,
    ...error,
  };
  return {
    operationId: `${route.method.toLowerCase()}${openApiPath(route.path).replace(/[^A-Za-z0-9]+(.)?/g, (_, c?: string) => (c ?? '').toUpperCase())}`,
    summary: doc.summary,
    tags: [doc.tag],
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(doc.body
      ? {
          requestBody: {
            required: !doc.bodyOptional,
            content: { 'application/json': { schema: plain(doc.body) } },
          },
        }
      : {}),
    responses,
    ...(route.auth ? {} : { security: [] }),
  };
}

/** The OpenAPI 3.1 document of every route the server has, built from the routes' own schemas. */
export function buildOpenApi(
  routes: readonly Route[],
  fallback: Record<string, RouteDoc>,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const doc = route.doc ?? fallback[`${route.method} ${route.path}`] ?? UNDOCUMENTED;
    const key = openApiPath(route.path);
    paths[key] ??= {};
    paths[key][route.method.toLowerCase()] = operation(route, doc);
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'posd local API',
      version: APP_VERSION,
      description:
        'Everything under /api/ needs `Authorization: Bearer <{stateDir}/ui-token>` or the session cookie ' +
        'of a signed-in cashier. Errors are {error:{code,message}}. State-changing requests from a ' +
        'browser must come from an allowed origin.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }, { session: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'content of {stateDir}/ui-token' },
        session: { type: 'apiKey', in: 'cookie', name: 'posd_session' },
      },
      schemas: { Error: plain(ErrorSchema) },
    },
    paths,
  };
}
