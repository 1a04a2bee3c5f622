import type { TSchema } from '@sinclair/typebox';
import type { ErrorCode } from '../errors.js';

/** What the OpenAPI document says about one route; the schemas are the ones the route validates with. */
export interface RouteDoc {
  summary: string;
  tag: string;
  /** The JSON body, when the route takes one. */
  body?: TSchema;
  /** Whether the body may be left out (void takes an optional one). */
  bodyOptional?: boolean;
  /** Query parameters as a flat object schema of strings/integers. */
  query?: Record<string, { description: string; type: 'integer' | 'string' }>;
  /** Success replies by status; JSON unless `contentType` says otherwise (an image). */
  responses: Record<number, { description: string; schema?: TSchema; contentType?: string }>;
  /** Error codes the route answers besides the generic ones (401, 400, 403). */
  errors?: ErrorCode[];
}
