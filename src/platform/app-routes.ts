import { Type } from '@sinclair/typebox';
import type { EventBus } from '../bus.js';
import { PosError } from '../errors.js';
import type { RequestContext, Route } from '../ui-bridge/http-server.js';
import { tokensEqual } from '../ui-bridge/token.js';
import { validateBody } from '../ui-bridge/validate.js';
import type { AppRegistry, InstalledApp } from './app-registry.js';
import type { AppSessions } from './app-sessions.js';
import type { AppInstaller } from './installer.js';
import { MAX_PACKAGE_BYTES } from './package-check.js';
import { type AppPrintDocument, PrintJobSchema } from './print-document.js';

export interface AppRoutesDeps {
  registry: AppRegistry;
  installer: Pick<AppInstaller, 'install' | 'remove'>;
  sessions: AppSessions;
  bus: EventBus;
  /** The technician's bearer (`{stateDir}/ui-token`). */
  uiToken: () => string;
  originOf: (app: InstalledApp) => string;
  /** The app calling (its token checked by the guard), or undefined. */
  appOf: (ctx: RequestContext) => string | undefined;
  print: (doc: AppPrintDocument, appId: string) => string;
}

const DisplaySchema = Type.Object(
  {
    lines: Type.Union([
      Type.Tuple([Type.String({ maxLength: 40 })]),
      Type.Tuple([Type.String({ maxLength: 40 }), Type.String({ maxLength: 40 })]),
    ]),
  },
  { additionalProperties: false },
);

const SessionSchema = Type.Object(
  { ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 12 * 3600 })) },
  { additionalProperties: false },
);

function technicianOnly(ctx: RequestContext, uiToken: string): void {
  const m = /^Bearer\s+(\S+)$/i.exec(ctx.headers.authorization ?? '');
  if (!m || !tokensEqual(m[1]!, uiToken)) {
    throw new PosError('FORBIDDEN', 'installing and removing apps takes the technician token');
  }
}

function listed(app: InstalledApp) {
  return {
    appId: app.appId,
    name: app.name,
    version: app.version,
    scopes: app.scopes,
    installedAt: app.installedAt,
  };
}

/** Contract platform-v1: install/list/remove (technician), sessions, and the print and display scopes. */
export function appRoutes(d: AppRoutesDeps): Route[] {
  return [
    {
      method: 'POST',
      path: '/api/v1/apps',
      doc: {
        summary: 'Install a store app from its package (application/gzip; technician token only)',
        tag: 'apps',
        responses: { 201: { description: '{appId, version, scopes}' } },
        errors: ['APP_PACKAGE_INVALID', 'CONFLICT', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'],
      },
      auth: true,
      raw: { maxBytes: MAX_PACKAGE_BYTES, contentType: /^application\/(gzip|x-gzip)\b/i },
      handle: (ctx) => {
        technicianOnly(ctx, d.uiToken());
        const app = d.installer.install(ctx.body as Buffer);
        return { status: 201, body: { appId: app.appId, version: app.version, scopes: app.scopes } };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/apps',
      doc: {
        summary: 'Installed store apps (technician token only)',
        tag: 'apps',
        responses: { 200: { description: '{apps:[{appId, name, version, scopes, installedAt}]}' } },
      },
      auth: true,
      handle: (ctx) => {
        technicianOnly(ctx, d.uiToken());
        return { status: 200, body: { apps: d.registry.list().map(listed) } };
      },
    },
    {
      method: 'DELETE',
      path: '/api/v1/apps/:appId',
      doc: {
        summary: 'Remove a store app; its sessions end at once (technician token only)',
        tag: 'apps',
        responses: { 204: { description: 'removed' } },
        errors: ['APP_NOT_FOUND'],
      },
      auth: true,
      handle: (ctx) => {
        technicianOnly(ctx, d.uiToken());
        if (!d.installer.remove(ctx.params.appId!))
          throw new PosError('APP_NOT_FOUND', `no app ${ctx.params.appId}`);
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/api/v1/apps/:appId/sessions',
      doc: {
        summary: 'A session for an app: a scoped token, at most 12 h (cashier or technician)',
        tag: 'apps',
        body: SessionSchema,
        bodyOptional: true,
        responses: { 201: { description: '{token, expiresAt, scopes}' } },
        errors: ['APP_NOT_FOUND'],
      },
      auth: true,
      handle: (ctx) => {
        const body = validateBody(SessionSchema, ctx.body ?? {});
        const app = d.registry.get(ctx.params.appId!);
        if (!app) throw new PosError('APP_NOT_FOUND', `no app ${ctx.params.appId}`);
        const ttl = body.ttlSeconds === undefined ? undefined : body.ttlSeconds * 1000;
        const s = d.sessions.create(app.appId, app.scopes, ttl);
        return { status: 201, body: { token: s.token, expiresAt: s.expiresAt, scopes: app.scopes } };
      },
    },
    {
      // The cashier's launcher: what GET /api/v1/apps lists, with where each app runs.
      method: 'GET',
      path: '/api/v1/launcher',
      doc: {
        summary: "The cashier's app launcher: installed apps and the origin each runs at",
        tag: 'apps',
        responses: { 200: { description: '{apps:[{appId, name, version, scopes, installedAt, origin}]}' } },
      },
      auth: true,
      handle: () => ({
        status: 200,
        body: { apps: d.registry.list().map((a) => ({ ...listed(a), origin: d.originOf(a) })) },
      }),
    },
    {
      method: 'POST',
      path: '/api/v1/print-jobs',
      doc: {
        summary: "Print an app's document through the print queue (scope print): text, a QR, a cut",
        tag: 'apps',
        body: PrintJobSchema,
        responses: { 202: { description: '{jobId}' } },
        errors: ['SCOPE_DENIED', 'DEVICE_UNAVAILABLE', 'VALIDATION_FAILED'],
      },
      auth: true,
      handle: (ctx) => {
        const { document } = validateBody(PrintJobSchema, ctx.body);
        const appId = d.appOf(ctx);
        if (!appId) throw new PosError('FORBIDDEN', 'print documents are for store apps');
        return { status: 202, body: { jobId: d.print(document, appId) } };
      },
    },
    {
      method: 'POST',
      path: '/api/v1/display',
      doc: {
        summary: 'Show two lines on the customer display (scope display)',
        tag: 'apps',
        body: DisplaySchema,
        responses: { 200: { description: '{}' } },
        errors: ['SCOPE_DENIED', 'VALIDATION_FAILED'],
      },
      auth: true,
      handle: (ctx) => {
        const { lines } = validateBody(DisplaySchema, ctx.body);
        d.bus.emit('display.show', { screen: 'text', lines: [lines[0], lines[1] ?? ''] });
        return { status: 200, body: {} };
      },
    },
  ];
}
