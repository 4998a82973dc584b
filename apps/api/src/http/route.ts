import { HttpCode, Req, RequestMapping, RequestMethod, applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { NO_CONTROL_CHARACTERS, NO_CONTROL_CHARACTERS_EXCEPT_LINE_BREAKS, type Role } from '@runbooks/contracts';
import type { Request } from 'express';
import { z } from 'zod';
import { auditEntryOf } from '../audit/audit-entry';
import { RequestValidationError } from './errors';
import { declareRouteOf, routeOf } from './route-of';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call a route: anyone, any authenticated principal, or a principal holding one of the roles. */
export type RouteAccess = 'public' | 'authenticated' | { anyRole: readonly Role[] };

export interface RouteResponse {
  description: string;
  /** JSON body; omitted for bodies described by `content`. */
  schema?: z.ZodType;
  /** Other media types, e.g. text/markdown. */
  content?: Record<string, { schema: Record<string, unknown> }>;
  headers?: Record<string, { description: string; schema: Record<string, unknown> }>;
}

/**
 * One HTTP route, declared once: the controller is bound to it with `@ApiRoute`, its inputs are
 * parsed with `@Valid` using these schemas, and the OpenAPI document is generated from it.
 */
export interface RouteDefinition {
  operationId: string;
  method: HttpMethod;
  /** Express syntax (`/v1/runs/:id`); OpenAPI gets `{id}`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  access: RouteAccess;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /**
   * What the document shows as the body when it says more than `body` checks at first: a launch's
   * `input` is checked with its runbook's schema after the runbook is found (404 otherwise), and the
   * document gives each runbook's input schema, a union on `runbook`.
   */
  documentedBody?: z.ZodType;
  /** The status a successful call answers with. */
  status: number;
  responses: Record<number, RouteResponse>;
}

export function defineRoute<const R extends RouteDefinition>(route: R): R {
  return route;
}

/** Route inputs as the handler receives them, after parsing. */
export type ParamsOf<R extends RouteDefinition> = R['params'] extends z.ZodType ? z.output<R['params']> : never;
export type QueryOf<R extends RouteDefinition> = R['query'] extends z.ZodType ? z.output<R['query']> : never;
export type BodyOf<R extends RouteDefinition> = R['body'] extends z.ZodType ? z.output<R['body']> : never;

const METHODS: Record<HttpMethod, RequestMethod> = {
  get: RequestMethod.GET,
  post: RequestMethod.POST,
  put: RequestMethod.PUT,
  patch: RequestMethod.PATCH,
  delete: RequestMethod.DELETE,
};

/**
 * Binds a controller method to its route definition (path, method, status, access) and, for every
 * write (any method but GET), to the audit log: the handler is wrapped so that, once it succeeded,
 * its entry is appended before the caller is answered (a refusal's entry is the exception
 * filter's). Every route is declared here (the guard refuses one that is not), so no write can
 * skip its entry.
 */
export function ApiRoute(route: RouteDefinition): MethodDecorator {
  return applyDecorators(
    // First, so the decorators after it attach their metadata to the handler Nest will call.
    ...(route.method === 'get' ? [] : [auditedOnSuccess()]),
    RequestMapping({ path: route.path, method: METHODS[route.method] }),
    HttpCode(route.status),
    (_target, _key, descriptor) => declareRouteOf(descriptor.value as object, route),
  );
}

/**
 * Wraps a write's handler: it is also handed the request (an argument after its own) and, when
 * it returns, the request's audit entry (audit/audit-entry.ts) is appended before the answer goes.
 * Parameter decorators run before method decorators, so the handler's own arguments are known here.
 */
function auditedOnSuccess(): MethodDecorator {
  return (target, key, descriptor) => {
    const handler = descriptor.value as unknown as (...args: unknown[]) => unknown;
    const declared = (Reflect.getMetadata(ROUTE_ARGS_METADATA, target.constructor, key) ?? {}) as Record<string, { index: number }>;
    const requestAt = Math.max(-1, ...Object.values(declared).map((a) => a.index)) + 1;
    Req()(target, key, requestAt);
    const audited = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      const result = await handler.apply(this, args);
      await auditEntryOf(args[requestAt] as Request)?.done();
      return result;
    };
    Object.defineProperty(audited, 'name', { value: handler.name });
    descriptor.value = audited as unknown as typeof descriptor.value;
    return descriptor;
  };
}

type RequestPart = 'params' | 'query' | 'body';

const PART_NAMES: Record<RequestPart, string> = { params: 'path parameters', query: 'query', body: 'request body' };

/**
 * Parses one part of the request with the schema its route declares; a mismatch is a 400 that
 * names each field and why.
 */
export const Valid = createParamDecorator((part: RequestPart, ctx: ExecutionContext) => {
  const route = routeOf(ctx.getHandler());
  const schema = route?.[part];
  if (!schema) throw new Error(`route ${route?.operationId ?? ctx.getHandler().name} declares no ${part} schema`);
  const request = ctx.switchToHttp().getRequest<Request>();
  const refused = controlCharacterIssues(request[part], [], part === 'body');
  if (refused.length > 0) throw new RequestValidationError(PART_NAMES[part], refused);
  const result = schema.safeParse(request[part]);
  if (!result.success) throw new RequestValidationError(PART_NAMES[part], result.error.issues);
  return result.data;
});

/** Parses a value nested in the request (e.g. a runbook's input) with its own schema, paths prefixed. */
export function parseNested<S extends z.ZodType>(schema: S, value: unknown, prefix: PropertyKey[], where = PART_NAMES.body): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new RequestValidationError(
      where,
      result.error.issues.map((issue) => ({ ...issue, path: [...prefix, ...issue.path] })),
    );
  }
  return result.data;
}

const MAX_ISSUES = 20;

/**
 * Every string of a request part (values and keys, at any depth) holds no control character: a
 * NUL never reaches a schema's refinement, a file name or Temporal. Bodies may hold line breaks
 * and tabs in free text; a schema that wants one line says so itself.
 */
function controlCharacterIssues(
  value: unknown,
  path: PropertyKey[],
  allowLineBreaks: boolean,
  found: { path: PropertyKey[]; message: string }[] = [],
) {
  const allowed = allowLineBreaks ? NO_CONTROL_CHARACTERS_EXCEPT_LINE_BREAKS : NO_CONTROL_CHARACTERS;
  if (found.length >= MAX_ISSUES) return found;
  if (typeof value === 'string') {
    if (!allowed.test(value)) found.push({ path, message: 'must not contain control characters' });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => controlCharacterIssues(item, [...path, i], allowLineBreaks, found));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (!NO_CONTROL_CHARACTERS.test(key))
        found.push({ path: [...path, JSON.stringify(key)], message: 'a field name must not contain control characters' });
      else controlCharacterIssues(item, [...path, key], allowLineBreaks, found);
    }
  }
  return found;
}
